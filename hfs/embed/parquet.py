"""Parquet shards of candidate embeddings: one row per video, written and read with pyarrow.

Schema (``SCHEMA`` with D the encoder's embedding size, M <= N the candidates decoded):

======================  ==========================================  ==================================
column                  type                                        meaning
======================  ==========================================  ==================================
video                   string                                      the path as the manifest resolved it
key                     string                                      ``hfs.cache.frames_key`` (content hash,
                                                                    encoder, frame size, rate) + "-nN"
encoder                 string                                      the encoder's name
num_candidates          int32                                       N asked for
times                   list<float64>                               [M] seconds of the candidates
embeddings              list<fixed_size_list<float32, D>>           [M, D] unit vectors
info                    string                                      JSON of the source's ``VideoInfo``
======================  ==========================================  ==================================

Shards are ``part-*.parquet`` files written whole to a temporary name and renamed into place,
so an interrupted run leaves only complete shards; the keys they hold are what a resumed run
skips.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hfs.atomic import atomic_file, regular_file

SHARD_GLOB = "part-*.parquet"


@dataclass
class EmbeddedVideo:
    """One video's candidates, embedded: what an output stores."""

    video: str
    key: str
    times: np.ndarray  # [M] float64 seconds
    embeddings: np.ndarray  # [M, D] float32 unit vectors
    info: dict[str, Any]  # VideoInfo.to_dict()
    # the candidate times [T] the frames were decoded for, and the true time of the frame each got
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))
    target_times: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))


def schema(dim: int) -> Any:
    """The shards' pyarrow schema for embeddings of size ``dim``."""
    import pyarrow as pa

    return pa.schema([
        ("video", pa.string()), ("key", pa.string()), ("encoder", pa.string()), ("num_candidates", pa.int32()),
        ("times", pa.list_(pa.float64())), ("embeddings", pa.list_(pa.list_(pa.float32(), dim))),
        ("info", pa.string()),
    ])


def to_table(records: Sequence[EmbeddedVideo], encoder: str, num_candidates: int, dim: int) -> Any:
    """``records`` as one pyarrow table of ``schema(dim)``."""
    import pyarrow as pa

    def embeddings(e: np.ndarray) -> Any:  # [M, D] -> list<fixed_size_list<D>> without a Python loop
        flat = pa.array(np.ascontiguousarray(e, dtype=np.float32).reshape(-1))
        return pa.FixedSizeListArray.from_arrays(flat, dim)

    rows = pa.array([r.embeddings.shape[0] for r in records], pa.int32())
    offsets = pa.array(np.concatenate([[0], np.cumsum(rows.to_numpy())]).astype(np.int32))
    flat = (pa.concat_arrays([embeddings(r.embeddings) for r in records]) if records
            else pa.FixedSizeListArray.from_arrays(pa.array([], pa.float32()), dim))
    return pa.table({
        "video": pa.array([r.video for r in records], pa.string()),
        "key": pa.array([r.key for r in records], pa.string()),
        "encoder": pa.array([encoder] * len(records), pa.string()),
        "num_candidates": pa.array([num_candidates] * len(records), pa.int32()),
        "times": pa.array([np.asarray(r.times, np.float64) for r in records], pa.list_(pa.float64())),
        "embeddings": pa.ListArray.from_arrays(offsets, flat),
        "info": pa.array([json.dumps(r.info) for r in records], pa.string()),
    }, schema=schema(dim))


def write_shard(folder: str | Path, records: Sequence[EmbeddedVideo], encoder: str, num_candidates: int,
                dim: int) -> Path | None:
    """Write ``records`` as a new shard in ``folder`` (atomically); None when there are none."""
    import pyarrow.parquet as pq

    if not records:
        return None
    name = f"part-{time.strftime('%Y%m%dT%H%M%S')}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    path = Path(folder) / f"{name}.parquet"
    with atomic_file(path, f"a shard of {len(records)} videos") as tmp:
        pq.write_table(to_table(records, encoder, num_candidates, dim), tmp)
    return path


def read_shards(folder: str | Path, columns: Sequence[str] | None = None) -> Any:
    """Every usable shard in ``folder`` as one pyarrow table (``columns`` only, when given);
    shards that cannot be read or are foreign are named once on stderr and left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    good, _ = scan_shards(folder)
    tables = [pq.read_table(p, columns=list(columns) if columns else None) for p in good]
    return pa.concat_tables(tables) if tables else None


def shard_paths(folder: str | Path) -> list[Path]:
    """The files named as shards in ``folder`` (regular files only: a planted link is none)."""
    return sorted(p for p in Path(folder).glob(SHARD_GLOB) if regular_file(p))


_WARNED: set[tuple[str, str]] = set()


def shard_problem(path: Path, dim: int | None) -> str | None:
    """Why ``path`` is not a usable shard (of embedding size ``dim``, when given), or None."""
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(path)
        if dim is not None and not found.equals(schema(dim)):
            return "not a shard of this folder (its columns differ from hfs embed's)"
        if found.names != schema(1).names:
            return "not an hfs embed shard (its columns differ)"
        pq.read_table(path, columns=["key"])
    except Exception as exc:  # noqa: BLE001 - whatever Arrow says of a damaged file, it is named and skipped
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"cannot be read ({type(exc).__name__}: {reason[:200]})"
    return None


def scan_shards(folder: str | Path, dim: int | None = None) -> tuple[list[Path], dict[str, str]]:
    """(usable shards, {name: why} of the others) in ``folder``; each unusable shard is named
    once per process on stderr. Without ``dim``, the first readable shard sets the schema."""
    import pyarrow.parquet as pq

    from hfs.errors import warn

    good, bad = [], {}
    for path in shard_paths(folder):
        problem = shard_problem(path, dim)
        if problem is None and dim is None:
            dim = pq.read_schema(path).field("embeddings").type.value_type.list_size
            problem = shard_problem(path, dim)
        if problem is None:
            good.append(path)
            continue
        bad[path.name] = problem
        if (str(path), problem) not in _WARNED:
            _WARNED.add((str(path), problem))
            warn(f"{path}: {problem}; skipped")
    return good, bad


def embeddings_of(table: Any, row: int) -> np.ndarray:
    """Row ``row``'s embeddings as a [M, D] float32 array."""
    cell = table.column("embeddings")[row].values  # FixedSizeListArray of M rows
    return cell.flatten().to_numpy().reshape(len(cell), cell.type.list_size)


# Keys already in each shard, by folder then shard name: every process reads each shard's key column
# once, and only shards it has not seen (a resumed run's workers check one video at a time).
_KEYS: dict[str, dict[str, frozenset[str]]] = {}


def has_key(folder: str | Path, key: str, skip: Sequence[str] = ()) -> bool:
    """Whether ``folder``'s shards already hold the video whose key is ``key``. Shards named in
    ``skip`` (found unusable when the run began), and any other that cannot be read, hold none."""
    import pyarrow.parquet as pq

    seen = _KEYS.setdefault(str(folder), {})
    names = set()
    for path in shard_paths(folder):
        names.add(path.name)
        if path.name not in seen:
            try:
                keys = frozenset() if path.name in skip else frozenset(
                    pq.read_table(path, columns=["key"]).column("key").to_pylist())
            except Exception:  # noqa: BLE001 - named by scan_shards in the main process; a worker stays quiet
                keys = frozenset()
            seen[path.name] = keys
    for gone in set(seen) - names:
        del seen[gone]
    return any(key in keys for keys in seen.values())
