"""The training input pipeline: each step's videos are read in DataLoader workers, ahead of it.

A worker, for each question of a coming step, hashes the question's video, reads its
candidates' embeddings from the embedding cache (the entry ``hfs select`` and ``hfs embed``
write, under ``hfs.cache.frames_key``) and decodes the candidate frames at the teacher's
resolution. On a cache miss it decodes the candidates at the encoder's resolution instead;
this process embeds them (the encoder stays here, on the training device) and writes the entry,
so the next epoch, run or ``hfs select`` finds it. The training process never opens a video.

Batches follow the trainer's own seeded order (``step_batches``): the same questions in the
same steps with any number of workers, so ``data.num_workers`` changes speed, never results.
Workers are spawned (they inherit no model, CUDA context or thread pool of this process) and
seeded from the loader's own generator; nothing is unpickled from disk. One DataLoader pass
spans the whole run, across epochs, so workers start once (``persistent_workers`` would only
matter for a second pass).
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

from hfs.cache import EmbeddingCache, frames_key
from hfs.candidates.embed import resolve_targets
from hfs.errors import HfsError, InputError
from hfs.frame_cache import load_store, save_store
from hfs.training.module import StepInputs
from hfs.video import candidate_times, open_video
from hfs.video.sampling import nearest_indices


def _stack(images: Sequence[np.ndarray]) -> torch.Tensor | list[torch.Tensor]:
    """Frames as one uint8 tensor [M, H, W, 3] (shared memory between processes), or one tensor
    per frame when their sizes differ (an image folder)."""
    if images and all(im.shape == images[0].shape for im in images):
        return torch.from_numpy(np.stack(images))
    return [torch.from_numpy(np.ascontiguousarray(im)) for im in images]


def _unstack(frames: torch.Tensor | list[torch.Tensor]) -> list[np.ndarray]:
    return [f.numpy() for f in frames]


@dataclass
class VideoSample:
    """What a worker read for one question: its candidates, and its teacher frames.

    ``embeddings`` is None on a cache miss: then ``images`` holds the candidates at the
    encoder's resolution for this process to embed and store under ``key``."""

    index: int  # the question's position in the training set
    times: np.ndarray  # [M] seconds of the candidates
    embeddings: torch.Tensor | None  # [M, D] float32, from the cache
    frames: torch.Tensor | list[torch.Tensor]  # [M, H_t, W_t, 3] uint8 at the teacher's resolution (or none)
    key: str = ""
    info: dict[str, Any] | None = None
    images: torch.Tensor | list[torch.Tensor] | None = None  # [M, h, w, 3] uint8, on a cache miss
    error: str = ""  # an HfsError's one line, raised again in the training process
    targets: np.ndarray | None = None  # [N] the times whose frames the candidates are (``resolve_targets``), on a miss
    worker: int | None = None  # the DataLoader worker that read it (None: this process)

    def pin_memory(self) -> VideoSample:
        """Pinned embeddings for an asynchronous copy to the GPU (DataLoader ``pin_memory``)."""
        if self.embeddings is not None:
            self.embeddings = self.embeddings.pin_memory()
        return self


class CandidateVideos(Dataset):
    """Question index -> ``VideoSample``; holds only plain values, so it pickles into spawned
    workers. Each process keeps the teacher frames of its last ``max_videos`` videos."""

    def __init__(self, videos: Sequence[str], num_candidates: int, fingerprint: str, encoder_side: int, dim: int,
                 cache_root: str, teacher_side: int | None, need_frames: bool, max_videos: int = 8) -> None:
        self.videos = [str(v) for v in videos]
        self.num_candidates = num_candidates
        self.fingerprint, self.encoder_side, self.dim = fingerprint, encoder_side, dim
        self.cache_root = cache_root
        self.teacher_side = teacher_side
        self.need_frames = need_frames
        self.max_videos = max_videos
        self._frames: OrderedDict[str, torch.Tensor | list[torch.Tensor]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.videos)

    def __getitem__(self, index: int) -> VideoSample:
        info = get_worker_info()
        worker = info.id if info is not None else None
        try:
            sample = self._read(index)
        except HfsError as exc:  # one line, raised again by the training process
            return VideoSample(index, np.zeros(0), None, [], error=str(exc), worker=worker)
        sample.worker = worker
        return sample

    def _read(self, index: int) -> VideoSample:
        path = self.videos[index]
        source = open_video(path)
        key = frames_key(source, self.fingerprint, self.encoder_side)
        store = load_store(EmbeddingCache(self.cache_root), key, self.dim, source.info.to_dict())
        # the frames ``hfs select`` takes for these N candidates, cached or not (a keyframe may stand in)
        targets, mode, tolerance = resolve_targets(source, candidate_times(source.info.duration, self.num_candidates))
        if len(store.missing(targets)) == 0:
            entry = store.candidates(targets)
            times, embeddings, images = entry.times, torch.from_numpy(entry.embeddings), None
        else:
            decoded = list(source.frames_at(targets, short_side=self.encoder_side, mode=mode, tolerance=tolerance))
            times = np.array([f.time for f in decoded], dtype=np.float64)
            embeddings, images = None, _stack([f.image for f in decoded])
        return VideoSample(index, times, embeddings, self._teacher_frames(source, path, times), key=key,
                           info=source.info.to_dict(), images=images, targets=None if images is None else targets)

    def _teacher_frames(self, source, path: str, times: np.ndarray) -> torch.Tensor | list[torch.Tensor]:
        if not self.need_frames:
            return []
        if path not in self._frames:
            decoded = source.frames_at(times, short_side=self.teacher_side, unique=False, tolerance=0)
            self._frames[path] = _stack([f.image for f in decoded])
            if len(self._frames) > self.max_videos:
                self._frames.popitem(last=False)
        self._frames.move_to_end(path)
        return self._frames[path]


def collate_samples(samples: list[VideoSample]) -> list[VideoSample]:
    """A step's samples as they are (their candidate counts differ: nothing to stack)."""
    return samples


def seed_worker(worker_id: int) -> None:
    """Seed a worker's numpy and ``random`` from its torch seed (the loader's generator + id)."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def epoch_order(num: int, epoch: int, seed: int, rank: int, world: int) -> list[int]:
    """This process's share of a seeded shuffle of the questions for one epoch."""
    order = np.random.default_rng(seed + epoch).permutation(num)
    return order[rank::world].tolist()


class step_batches:  # noqa: N801 - named for what iterating it yields
    """The question indices of ``steps`` optimizer steps from data position (``epoch``,
    ``index``): ``per_step`` at a time through each epoch's order, as the training loop takes them."""

    def __init__(self, num: int, per_step: int, seed: int, rank: int, world: int, epoch: int, index: int,
                 steps: int) -> None:
        self.args = (num, per_step, seed, rank, world)
        self.epoch, self.index, self.steps = epoch, index, max(0, steps)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[list[int]]:
        num, per_step, seed, rank, world = self.args
        epoch, index = self.epoch, self.index
        for _ in range(self.steps):
            order = epoch_order(num, epoch, seed, rank, world)
            while index >= len(order):
                epoch, index = epoch + 1, 0
                order = epoch_order(num, epoch, seed, rank, world)
            batch = order[index:index + per_step]
            index += len(batch)
            yield batch


class TrainInputs:
    """The training loop's side of the pipeline: ``next_step(batch)`` gives that step's
    ``StepInputs`` (the worker's read of each question, any cache miss embedded and stored here)
    and ``wait_s``, the seconds the loop waited for them (the stall the workers remove)."""

    def __init__(self, questions: Sequence[Any], encoder, dataset: CandidateVideos, batches: step_batches, *,
                 k: int, num_workers: int, prefetch_factor: int, seed: int,
                 pseudo_targets: Callable[[np.ndarray, str], torch.Tensor] | None = None) -> None:
        self.questions, self.encoder, self.k = questions, encoder, k
        self.cache = EmbeddingCache(dataset.cache_root)
        self.num_candidates = dataset.num_candidates
        self.pseudo_targets = pseudo_targets
        self.loader = DataLoader(
            dataset, batch_sampler=batches, collate_fn=collate_samples, num_workers=num_workers,
            prefetch_factor=prefetch_factor if num_workers else None, worker_init_fn=seed_worker,
            pin_memory=torch.cuda.is_available() and num_workers > 0,
            multiprocessing_context="spawn" if num_workers else None,
            # the loader's own generator: creating it takes nothing from the global RNG (exact resume)
            generator=torch.Generator().manual_seed(seed),
        )
        self._iter: Iterator[list[VideoSample]] | None = None
        self.wait_s = 0.0

    def next_step(self, batch: list[int]) -> list[StepInputs]:
        """The inputs of the questions ``batch`` (the loop's next step)."""
        t0 = time.perf_counter()
        if self._iter is None:
            self._iter = iter(self.loader)
        samples = next(self._iter)
        if [s.index for s in samples] != list(batch):
            raise RuntimeError(f"input pipeline out of step: read {[s.index for s in samples]}, step needs {batch}")
        inputs = [self._step_input(s) for s in samples]
        self.wait_s = time.perf_counter() - t0
        return inputs

    def _step_input(self, sample: VideoSample) -> StepInputs:
        question = self.questions[sample.index]
        if sample.error:
            raise InputError(sample.error)
        if sample.embeddings is None:
            embeddings = self.encoder.encode_images(_unstack(sample.images))
            self._store(sample, embeddings)
        else:
            embeddings = sample.embeddings.numpy()
        if len(sample.times) < self.k:
            raise InputError(f"{question.video}: only {len(sample.times)} distinct frames, fewer than k={self.k}")
        return StepInputs(
            embeddings=torch.as_tensor(embeddings, dtype=torch.float32), times=sample.times,
            frames=_unstack(sample.frames), question=question.question, options=question.options,
            answer=int(question.answer),
            targets=self.pseudo_targets(embeddings, question.question) if self.pseudo_targets else None,
        )

    def _store(self, sample: VideoSample, embeddings: np.ndarray) -> None:
        """Add a missed video's frames to its cache entry (the one ``hfs select`` reads)."""
        store = load_store(self.cache, sample.key, embeddings.shape[1], sample.info)
        store.add(sample.times, embeddings)
        # targets past the last frame got the frame nearest them, which is a decoded one
        far = sample.targets[store.rows_for(sample.targets) < 0]
        store.add_aliases(far, sample.times[nearest_indices(sample.times, far)])
        save_store(self.cache, sample.key, store)

    def close(self) -> None:
        """Stop the workers (also done when this object is collected)."""
        self._iter = None


def train_inputs(questions: Sequence[Any], encoder, config, teacher_side: int | None, need_frames: bool,
                 rank: int, world: int, epoch: int, index: int, steps: int,
                 pseudo_targets: Callable[[np.ndarray, str], torch.Tensor] | None = None) -> TrainInputs:
    """The pipeline for ``steps`` steps of a run of ``config`` (a TrainConfig) from (``epoch``, ``index``)."""
    data = config.data
    cache_root = str(EmbeddingCache(data.cache_dir).root)
    dataset = CandidateVideos([str(Path(q.video)) for q in questions], data.num_candidates, encoder.fingerprint,
                              encoder.short_side, encoder.dim, cache_root, teacher_side, need_frames)
    batches = step_batches(len(questions), config.batch_size * config.grad_accumulation, config.seed, rank, world,
                           epoch, index, steps)
    return TrainInputs(questions, encoder, dataset, batches, k=config.k, num_workers=data.workers(),
                       prefetch_factor=data.prefetch_factor, seed=config.seed + rank, pseudo_targets=pseudo_targets)
