"""``hfs.select``: video + question -> the k frames to show a video LLM."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hfs.cache import CachedEmbeddings, EmbeddingCache, frames_key
from hfs.candidates import (DEFAULT_POLICY, AdaptivePolicy, CandidatePasses, NumCandidates, adaptive_candidates,
                            check_num_candidates, fixed_candidates, is_auto)
from hfs.config import MAX_CANDIDATES, ObjectiveConfig, SelectConfig
from hfs.encoders import ImageTextEncoder, create_encoder
from hfs.errors import InputError
from hfs.frame_cache import FrameStore, load_store, save_store
from hfs.query import validate_question
from hfs.scoring import query_scores, standardize
from hfs.selection import Selection, create_selector
from hfs.video import VideoSource, open_video


def embed_candidates(
    source: VideoSource,
    encoder: ImageTextEncoder,
    num_candidates: int,
    batch_size: int = 32,
    decode_mode: str = "auto",
    progress: bool = False,
) -> tuple[CachedEmbeddings, float, float]:
    """Decode the N candidates and embed them in batches as they arrive, without any cache.

    Returns the entry and the seconds spent decoding and encoding.
    """
    store = FrameStore.empty(encoder.dim, source.info.to_dict())
    found = fixed_candidates(source, encoder, store, num_candidates, batch_size, decode_mode, progress)
    return found.entry, found.decode_seconds, found.encode_seconds


def _frame_store(source: VideoSource, encoder: ImageTextEncoder, cache: EmbeddingCache | None) -> tuple[FrameStore, str]:
    """The frames of ``source`` this encoder embedded before (from ``cache``), and the entry's key."""
    key = frames_key(source, encoder.fingerprint, encoder.short_side) if cache is not None else ""
    return load_store(cache, key, encoder.dim, source.info.to_dict(), source), key


def cached_candidates(
    source: VideoSource,
    encoder: ImageTextEncoder,
    num_candidates: int,
    cache: EmbeddingCache | None,
    batch_size: int = 32,
    decode_mode: str = "auto",
    progress: bool = False,
) -> tuple[CachedEmbeddings, bool, float, float]:
    """The N candidates' embeddings: frames already in ``cache`` reused, the rest decoded, embedded
    and stored.

    Returns (entry, whether every frame came from the cache, seconds reading the video, seconds
    encoding). Hashing the file to find its entry counts as reading the video. A cache that
    cannot be written costs a warning line, not the run.
    """
    found, cached, t_hash = find_candidates(source, encoder, num_candidates, cache, None, batch_size=batch_size,
                                            decode_mode=decode_mode, progress=progress)
    return found.entry, cached, t_hash + found.decode_seconds, found.encode_seconds


def find_candidates(
    source: VideoSource,
    encoder: ImageTextEncoder,
    num_candidates: NumCandidates,
    cache: EmbeddingCache | None,
    score: Callable[[np.ndarray], np.ndarray] | None,
    policy: AdaptivePolicy = DEFAULT_POLICY,
    batch_size: int = 32,
    decode_mode: str = "auto",
    progress: bool = False,
    min_candidates: int = 0,
) -> tuple[CandidatePasses, bool, float]:
    """The candidates of ``source``: N fixed midpoints, or adaptive ones ("auto", rated by
    ``score(embeddings [N, D]) -> [N]`` between passes; unused for N; grown to at least
    ``min_candidates`` where the video has the frames), reusing and filling the frame cache.

    Returns (the passes, whether every frame came from the cache, seconds hashing the video).
    """
    t0 = time.perf_counter()
    store, key = _frame_store(source, encoder, cache)
    t_hash = time.perf_counter() - t0
    if is_auto(num_candidates):
        found = adaptive_candidates(source, encoder, store, score, policy, batch_size, decode_mode, progress,
                                    min_candidates)
    else:
        found = fixed_candidates(source, encoder, store, int(num_candidates), batch_size, decode_mode, progress)
    if found.embedded or store.new_scans:  # new frames, or a new shot scan's result
        save_store(cache, key, store)
    return found, found.embedded == 0, t_hash


def check_k_fits(source: VideoSource, k: int) -> None:
    """Refuse, before anything is decoded, a ``k`` above the number of frames ``source`` has by its
    metadata (the frame count, or duration x frame rate)."""
    frames = int(source.info.num_frames or 0)
    if 0 < frames < k:
        raise InputError(f"{source.path}: k={k} is larger than the {frames} frames this video has; "
                         f"ask for k <= {frames}")


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
    num_candidates: NumCandidates = "auto",
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
    policy: AdaptivePolicy = DEFAULT_POLICY,
) -> Selection:
    """Choose ``k`` of the candidate frames of ``video`` for ``question``.

    ``num_candidates``: "auto" (the default) for adaptive coarse-to-fine candidates whose number
    follows the video's length (``hfs.candidates``, constants in ``policy``), or N for the
    paper's N segment midpoints. ``video`` is a file or a folder of images (shown at
    ``image_fps``). ``encoder`` is a name (see ``hfs.encoders``), an encoder object, or None
    for the default. Frame embeddings are cached on disk per (video content, frame time,
    encoder, image frame rate), so another N or a second question decodes and embeds only
    frames not embedded before.

    Without ``checkpoint`` frames are scored by cosine similarity to the question and chosen
    by ``selector`` (default "greedy"). With a trained student's ``checkpoint`` the student
    scores them (its own encoder is the default) and the default selector is "topk", as in
    the paper; "greedy" on the student's scores works too.
    """
    question = validate_question(question)
    options = [str(o) for o in options] if options else []
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    num_candidates = check_num_candidates(num_candidates, "the number of candidates", MAX_CANDIDATES)
    if not is_auto(num_candidates) and k > num_candidates:
        raise InputError(f"k={k} is larger than the number of candidate frames ({num_candidates})")
    chooser = create_selector(selector or ("topk" if checkpoint else "greedy"),
                              objective=objective or ObjectiveConfig(), seed=seed)

    t_start = time.perf_counter()
    source = open_video(video, image_fps=image_fps)
    student = load_student(checkpoint) if checkpoint is not None else None
    if student is not None and encoder is None:
        encoder = student.config.encoder
    t_open = time.perf_counter() - t_start
    check_k_fits(source, k)
    enc = encoder if isinstance(encoder, ImageTextEncoder) else create_encoder(encoder, allow_download=allow_download)

    if student is not None and enc.dim != student.config.frame_dim:
        raise InputError(f"{checkpoint}: the student expects {student.config.frame_dim}-d frame embeddings, "
                         f"encoder {enc.name} gives {enc.dim}-d")

    scoring = [0.0]

    def score(embeddings: np.ndarray) -> np.ndarray:  # [N, D] -> [N] raw scores
        t = time.perf_counter()
        if student is not None:
            raw = student.score_frames(embeddings, question, options).cpu().numpy().astype(np.float64)
        else:
            raw = query_scores(enc, embeddings, question, options)
        scoring[0] += time.perf_counter() - t
        return raw

    cache = EmbeddingCache(cache_dir) if use_cache else None
    found, cached, t_hash = find_candidates(source, enc, num_candidates, cache, score, policy, batch_size,
                                            decode_mode, progress, min_candidates=k)
    entry = found.entry
    n = len(entry.times)
    if k > n:
        raise InputError(f"{source.path}: k={k} is larger than the {n} distinct frames "
                         f"{'found in this video' if is_auto(num_candidates) else f'the {num_candidates} candidates hit'}"
                         f"; ask for k <= {n}")
    raw_scores = score(entry.embeddings)
    t_decode, t_encode = t_hash + found.decode_seconds, found.encode_seconds + scoring[0]

    t0 = time.perf_counter()
    scores = standardize(raw_scores)
    result = chooser.select(scores, k, times=entry.times, embeddings=entry.embeddings, raw_scores=raw_scores)
    t_select = time.perf_counter() - t0

    result.video = str(video)
    result.question = question
    result.options = options
    result.encoder = enc.name
    result.num_candidates = n
    result.requested_candidates = n if is_auto(num_candidates) else num_candidates
    result.passes = found.passes
    result.refined = found.added_by > 0
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
    """``select`` with the knobs taken from a ``SelectConfig`` (e.g. loaded from YAML); a ``policy``
    in ``kwargs`` replaces the default adaptive policy with ``config.first_pass`` as its first pass,
    an ``encoder`` object there the one ``config.encoder`` names (a server keeps one loaded)."""
    kwargs.setdefault("policy", dataclasses.replace(DEFAULT_POLICY, coarse=config.first_pass))
    kwargs.setdefault("encoder", config.encoder)
    return select(
        video, question, options, k=config.k, num_candidates=config.num_candidates, selector=config.selector,
        checkpoint=config.checkpoint, objective=config.objective, use_cache=config.use_cache,
        cache_dir=config.cache_dir, batch_size=config.batch_size, decode_mode=config.decode_mode,
        seed=config.seed, **kwargs,
    )
