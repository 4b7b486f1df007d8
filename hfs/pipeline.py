"""``hfs.select``: video + question -> the k frames to show a video LLM."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hfs.cache import CachedEmbeddings, EmbeddingCache, candidates_key
from hfs.config import ObjectiveConfig, SelectConfig
from hfs.encoders import ImageTextEncoder, create_encoder
from hfs.errors import InputError
from hfs.progress import progress_bar
from hfs.query import validate_question
from hfs.scoring import query_scores, standardize
from hfs.selection import Selection, create_selector
from hfs.video import VideoSource, candidate_times, open_video


def embed_candidates(
    source: VideoSource,
    encoder: ImageTextEncoder,
    num_candidates: int,
    batch_size: int = 32,
    decode_mode: str = "auto",
    progress: bool = False,
) -> tuple[CachedEmbeddings, float, float]:
    """Decode the candidates and embed them in batches as they arrive.

    Returns the entry and the seconds spent decoding and encoding. Frames are never all held
    in memory at once, so N in the thousands is fine.
    """
    targets = candidate_times(source.info.duration, num_candidates)
    times: list[float] = []
    parts: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    t_decode = t_encode = 0.0
    frames = source.frames_at(targets, short_side=encoder.short_side, mode=decode_mode)
    with progress_bar(len(targets), f"decode + embed {Path(source.info.path).name}", progress) as bar:
        while True:
            t0 = time.perf_counter()
            frame = next(frames, None)
            t_decode += time.perf_counter() - t0
            if frame is not None:
                times.append(frame.time)
                batch.append(frame.image)
                bar.advance()
            if batch and (frame is None or len(batch) == batch_size):
                t0 = time.perf_counter()
                parts.append(encoder.encode_image_batch(batch))
                t_encode += time.perf_counter() - t0
                batch = []
            if frame is None:
                break
    entry = CachedEmbeddings(
        times=np.asarray(times, dtype=np.float64), embeddings=np.concatenate(parts, axis=0),
        info=source.info.to_dict(),
    )
    return entry, t_decode, t_encode


def cached_candidates(
    source: VideoSource,
    encoder: ImageTextEncoder,
    num_candidates: int,
    cache: EmbeddingCache | None,
    batch_size: int = 32,
    decode_mode: str = "auto",
    progress: bool = False,
) -> tuple[CachedEmbeddings, bool, float, float]:
    """The candidates' embeddings from ``cache`` if there, else decoded, embedded and stored.

    Returns (entry, whether it came from the cache, seconds reading the video, seconds
    encoding). Hashing the file to find its entry counts as reading the video. The entry is
    keyed on the video's content, N, the encoder and, for an image folder, its frame rate; an
    entry that does not fit this encoder and N is recomputed. A cache that cannot be written
    costs a warning line, not the run.
    """
    t0 = time.perf_counter()
    key = ""
    if cache is not None:
        key = candidates_key(source, num_candidates, encoder.fingerprint, encoder.short_side)
    t_hash = time.perf_counter() - t0
    entry = cache.load(key, dim=encoder.dim, max_rows=num_candidates) if cache is not None else None
    if entry is not None:
        return entry, True, t_hash, 0.0
    entry, t_decode, t_encode = embed_candidates(source, encoder, num_candidates, batch_size, decode_mode, progress)
    if cache is not None:
        cache.save(key, entry)
    return entry, False, t_hash + t_decode, t_encode


_STUDENTS: dict[str, object] = {}


def load_student(checkpoint: str | Path):
    """The trained student saved in ``checkpoint`` (loaded once per process)."""
    from hfs.student import HFSSelector

    if isinstance(checkpoint, HFSSelector):
        return checkpoint
    key = str(Path(checkpoint).resolve())
    if key not in _STUDENTS:
        _STUDENTS[key] = HFSSelector.from_pretrained(checkpoint)
    return _STUDENTS[key]


def select(
    video: str | Path,
    question: str,
    options: Sequence[str] | None = None,
    k: int = 16,
    num_candidates: int = 128,
    selector: str | None = None,
    encoder: str | ImageTextEncoder | None = None,
    *,
    checkpoint: str | Path | None = None,
    objective: ObjectiveConfig | None = None,
    use_cache: bool = True,
    cache_dir: str | Path | None = None,
    batch_size: int = 32,
    decode_mode: str = "auto",
    image_fps: float = 1.0,
    allow_download: bool = False,
    seed: int = 0,
    progress: bool = False,
) -> Selection:
    """Choose ``k`` of ``num_candidates`` frames of ``video`` for ``question``.

    ``video`` is a file or a folder of images (shown at ``image_fps``). ``encoder`` is a name
    (see ``hfs.encoders``), an encoder object, or None for the default. Embeddings are cached
    on disk per (video content, N, encoder, image frame rate), so a second question costs
    only the text encoding and the selection.

    Without ``checkpoint`` frames are scored by cosine similarity to the question and chosen
    by ``selector`` (default "greedy"). With a trained student's ``checkpoint`` the student
    scores them (its own encoder is the default) and the default selector is "topk", as in
    the paper; "greedy" on the student's scores works too.
    """
    question = validate_question(question)
    options = [str(o) for o in options] if options else []
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if num_candidates < 1:
        raise InputError(f"the number of candidates must be >= 1, got {num_candidates}")
    if k > num_candidates:
        raise InputError(f"k={k} is larger than the number of candidate frames ({num_candidates})")
    chooser = create_selector(selector or ("topk" if checkpoint else "greedy"),
                              objective=objective or ObjectiveConfig(), seed=seed)

    t_start = time.perf_counter()
    source = open_video(video, image_fps=image_fps)
    student = load_student(checkpoint) if checkpoint is not None else None
    if student is not None and encoder is None:
        encoder = student.config.encoder
    t_open = time.perf_counter() - t_start
    enc = encoder if isinstance(encoder, ImageTextEncoder) else create_encoder(encoder, allow_download=allow_download)

    cache = EmbeddingCache(cache_dir) if use_cache else None
    entry, cached, t_decode, t_encode = cached_candidates(source, enc, num_candidates, cache, batch_size,
                                                           decode_mode, progress)
    n = len(entry.times)
    if k > n:
        raise InputError(f"{source.path}: k={k} is larger than the {n} distinct frames this video has")

    t0 = time.perf_counter()
    if student is not None:
        if enc.dim != student.config.frame_dim:
            raise InputError(f"{checkpoint}: the student expects {student.config.frame_dim}-d frame embeddings, "
                             f"encoder {enc.name} gives {enc.dim}-d")
        raw_scores = student.score_frames(entry.embeddings, question, options).cpu().numpy().astype(np.float64)
    else:
        raw_scores = query_scores(enc, entry.embeddings, question, options)
    t_encode += time.perf_counter() - t0

    t0 = time.perf_counter()
    scores = standardize(raw_scores)
    result = chooser.select(scores, k, times=entry.times, embeddings=entry.embeddings)
    t_select = time.perf_counter() - t0

    result.video = str(video)
    result.question = question
    result.options = options
    result.encoder = enc.name
    result.num_candidates = n
    result.requested_candidates = num_candidates
    result.candidate_times = entry.times
    result.candidate_scores = scores
    result.raw_scores = raw_scores
    result.info = entry.info
    result.cached = cached
    result.decode_mode = None if cached else source.last_mode
    result.timing = {
        "decode": t_open + t_decode, "encode": t_encode, "select": t_select,
        "total": time.perf_counter() - t_start,
    }
    return result


def select_with_config(video: str | Path, question: str, options: Sequence[str] | None, config: SelectConfig,
                       **kwargs) -> Selection:
    """``select`` with the knobs taken from a ``SelectConfig`` (e.g. loaded from YAML)."""
    return select(
        video, question, options, k=config.k, num_candidates=config.num_candidates, selector=config.selector,
        encoder=config.encoder, checkpoint=config.checkpoint, objective=config.objective, use_cache=config.use_cache,
        cache_dir=config.cache_dir, batch_size=config.batch_size, decode_mode=config.decode_mode,
        seed=config.seed, **kwargs,
    )
