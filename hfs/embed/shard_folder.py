"""A folder of parquet shards belongs to one encoder and one set of settings (``shards.json``).

``hfs embed --format parquet --out DIR`` records in ``DIR/shards.json`` what its rows were made
with: the encoder's name and fingerprint (its weights), the embedding size, N and the frame
size. A later run with anything else is refused before it decodes a video, as ``hfs eval
--out`` refuses a folder of another config, because rows of two encoders or widths in one
folder could no longer be read as one table. A folder of an older hfs (shards, no
``shards.json``) is bound to what its readable shards say, when that agrees with this run.
Shards that cannot be read, or are not shards of this folder's schema, are each named once and
left out (``hfs.embed.parquet.scan_shards``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hfs.atomic import write_text_atomic
from hfs.embed import parquet
from hfs.errors import InputError

SHARDS_FILE = "shards.json"
FORMAT = "hfs-embed-shards"
VERSION = 1
# the fields a folder's rows depend on, in the order a refusal lists them
BOUND = ("encoder", "fingerprint", "dim", "num_candidates", "short_side")


def settings(encoder: str, fingerprint: str, dim: int, num_candidates: int, short_side: int) -> dict[str, Any]:
    """What ``shards.json`` records for a run."""
    return {"format": FORMAT, "version": VERSION, "encoder": encoder, "fingerprint": fingerprint, "dim": int(dim),
            "num_candidates": int(num_candidates), "short_side": int(short_side)}


def _differences(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return [f"{name}: {stored.get(name)!r} -> {wanted[name]!r}" for name in BOUND
            if name in stored and stored[name] != wanted[name]]


def _stored(folder: Path) -> dict[str, Any] | None:
    """``shards.json`` of ``folder``, None when absent; one InputError when it is not one."""
    path = folder / SHARDS_FILE
    if not path.exists() and not path.is_symlink():
        return None
    try:
        data = json.loads(path.read_bytes()) if path.is_file() and not path.is_symlink() else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not all(name in data for name in BOUND):
        raise InputError(f"{path}: not a shards.json written by hfs embed; use a new --out folder")
    return data


def _inferred(folder: Path, good: list[Path]) -> dict[str, Any]:
    """What the readable shards of an older folder say of their rows (encoder, dim, N)."""
    import pyarrow.parquet as pq

    for path in good:
        table = pq.read_table(path, columns=["encoder", "num_candidates"])
        if table.num_rows:
            dim = pq.read_schema(path).field("embeddings").type.value_type.list_size
            return {"encoder": table.column("encoder")[0].as_py(), "dim": dim,
                    "num_candidates": table.column("num_candidates")[0].as_py()}
    return {}


def bind_folder(folder: str | Path, wanted: dict[str, Any]) -> tuple[str, ...]:
    """Check that the shards in ``folder`` were made with ``wanted`` (``settings(...)``), record
    it in ``shards.json`` if it is not there yet, and return the names of the shards to leave
    out (each named once on stderr). A folder of other settings is one InputError."""
    folder = Path(folder)
    stored = _stored(folder)
    good, bad = parquet.scan_shards(folder, wanted["dim"])
    found = stored if stored is not None else _inferred(folder, good)
    changed = _differences(found, wanted)
    if changed:
        raise InputError(f"--out {folder}: its shards were made with other settings ({'; '.join(changed)}); "
                         f"use a new --out folder for these")
    if stored is None:
        write_text_atomic(folder / SHARDS_FILE, json.dumps(wanted, indent=1) + "\n", "the folder's shards.json")
    return tuple(sorted(bad))
