"""The Ray engine of ``hfs embed``: the local engine's decode and embed functions on Ray Data.

The manifest becomes a Dataset of (index, video) rows; ``decode_job`` runs on each as a CPU task
(``Dataset.map``, ``num_cpus=1``); ``embed_decoded`` runs in a pool of actors (``map_batches``
with a callable class, ``num_gpus`` each when asked) that build the encoder once, embed a batch
of videos and write it to the output (cache entries, or one parquet shard per batch). Ray Data
schedules, streams and backs off; nothing here schedules anything. Without GPUs (and without
a cap on decoding tasks) Ray Data's optimiser fuses the two stages into the actors, each then
decoding and embedding its own videos: give it as many actors as cores. On a cluster, hfs must be
installed on every node and the output folder must be shared storage; ``init_ray`` joins the
cluster named by ``RAY_ADDRESS`` (or started with ``ray start``), else starts a local one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hfs.cache import EmbeddingCache
from hfs.embed.corpus import DecodeJob, EmbedReport, decode_job, decode_jobs, embed_decoded, failure
from hfs.embed.output import CacheOutput, Output
from hfs.encoders import ImageTextEncoder
from hfs.errors import HfsError

ENV = ("HFS_CACHE_DIR", "HFS_ENCODER", "HF_HUB_OFFLINE", "HF_HOME", "XDG_CACHE_HOME")  # passed to Ray's workers
REACH_SECONDS = 5.0  # how long a cluster's address may take to answer
MAX_BLOCKS = 20_000  # input blocks: one video each for corpora up to this size (even decoding across workers)


def import_ray() -> tuple[Any, Any]:
    """(ray, ray.data), or one HfsError saying how to install them."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise HfsError('the Ray engine needs Ray Data, which is not installed: pip install "hfs[ray]"') from None
    return ray, ray.data


def init_ray(**kwargs: Any) -> None:
    """Join the Ray cluster ``RAY_ADDRESS`` names (or a local one started by ``ray start``), else
    start one here, unless Ray is running already. Its workers see this process's hfs settings
    (cache folder, offline mode, default encoder) and can import this copy of hfs, installed or
    not. ``kwargs`` go to ``ray.init`` (``num_cpus=2``, ``include_dashboard=False``...)."""
    ray, _ = import_ray()
    if ray.is_initialized():
        return
    address = kwargs.get("address") or os.environ.get("RAY_ADDRESS")
    if address and address not in ("auto", "local"):
        check_reachable(address)
    env = {k: os.environ[k] for k in ENV if k in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2]),
                                                    os.environ.get("PYTHONPATH")) if p)
    ray.init(runtime_env={"env_vars": env}, **kwargs)


def check_reachable(address: str, timeout: float = REACH_SECONDS) -> None:
    """One HfsError, within ``timeout`` seconds, when nothing answers at the cluster ``address``
    ("host:port" or "ray://host:port"; port 6379 when none is given): ``ray.init`` would wait on
    it for minutes without a word."""
    where = address.split("://", 1)[-1].rstrip("/")
    host, _, port = where.rpartition(":") if ":" in where else (where, "", "6379")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise HfsError(f"cannot reach the Ray cluster at {address} (RAY_ADDRESS): {reason}; start it "
                       f"with `ray start --head`, or unset RAY_ADDRESS to run on a local Ray") from None


def check_resources(have: dict[str, float], actors: int, gpus_per_actor: float) -> None:
    """One HfsError, before anything is scheduled, when the cluster (``have``: Ray's
    ``cluster_resources()``) cannot hold what the run asks for: Ray would wait for it forever."""
    gpus, cpus = float(have.get("GPU", 0.0)), float(have.get("CPU", 0.0))
    if gpus_per_actor > 0 and actors * gpus_per_actor > gpus:
        raise HfsError(f"--gpus-per-worker {gpus_per_actor:g} x --actors {actors} asks for "
                       f"{actors * gpus_per_actor:g} GPU(s); the Ray cluster has {gpus:g}")
    if cpus < 1:
        raise HfsError(f"the Ray cluster has {cpus:g} CPUs: decoding needs at least one")


def decode_row(row: dict[str, Any], job: DecodeJob) -> dict[str, Any]:
    """A Ray task: ``decode_job`` on one manifest row, its frames flattened into plain arrays.

    "pixels" is the M frames' bytes end to end, "shapes" their [M * 3] (H, W, 3): frames of an
    image folder may differ in size, and flat arrays travel as Arrow columns whatever they hold.
    """
    job = DecodeJob(str(row["video"]), job.num_candidates, job.short_side, job.fingerprint, job.output,
                    job.decode_mode, job.image_fps)
    result = decode_job(job)
    images = result.get("images", [])
    return {
        "index": int(row["index"]), "video": job.video, "status": result["status"],
        "reason": result.get("reason", ""), "key": result.get("key", ""), "info": json.dumps(result.get("info", {})),
        "times": np.asarray(result.get("times", np.zeros(0)), np.float64),
        "targets": np.asarray(result.get("targets", np.zeros(0)), np.float64),
        "target_times": np.asarray(result.get("target_times", np.zeros(0)), np.float64),
        "pixels": np.concatenate([im.reshape(-1) for im in images]) if images else np.zeros(0, np.uint8),
        "shapes": np.array([im.shape for im in images], np.int64).reshape(-1),
    }


def _images(pixels: np.ndarray, shapes: np.ndarray) -> list[np.ndarray]:
    """``decode_row``'s flat pixels back into frames [H, W, 3]."""
    images, start = [], 0
    for shape in np.asarray(shapes, np.int64).reshape(-1, 3):
        size = int(np.prod(shape))
        images.append(np.asarray(pixels[start:start + size], np.uint8).reshape(shape))
        start += size
    return images


class Embedder:
    """A Ray actor: builds the encoder once (on its GPU when Ray gave it one), then embeds batches
    of decoded videos and writes them to the output; returns each video's status."""

    def __init__(self, encoder: str, fingerprint: str, output: Output, batch_size: int) -> None:
        from hfs.encoders import create_encoder

        self.encoder = create_encoder(encoder)
        if self.encoder.fingerprint != fingerprint:
            raise HfsError(f"encoder {encoder!r} loads different weights on this Ray worker than on the driver")
        self.output, self.batch_size = output, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        status, reason = [str(s) for s in batch["status"]], [str(r) for r in batch["reason"]]
        records = []
        for i, video in enumerate(batch["video"]):
            if status[i] != "decoded":
                continue
            decoded = {"video": str(video), "key": str(batch["key"][i]), "info": json.loads(str(batch["info"][i])),
                       "times": np.asarray(batch["times"][i], np.float64),
                       "targets": np.asarray(batch["targets"][i], np.float64),
                       "target_times": np.asarray(batch["target_times"][i], np.float64),
                       "images": _images(batch["pixels"][i], batch["shapes"][i])}
            try:
                records.append(embed_decoded(decoded, self.encoder, self.batch_size))
                status[i] = "embedded"
            except Exception as exc:  # noqa: BLE001 - frames the encoder refuses: that video is bad
                status[i], reason[i] = "bad", failure(exc)
        self.output.write(records)
        return {"index": batch["index"], "video": batch["video"], "status": np.array(status),
                "reason": np.array(reason)}


def embed_corpus_ray(videos: Sequence[str | Path], encoder: ImageTextEncoder, num_candidates: int = 128,
                     cache: EmbeddingCache | None = None, batch_size: int = 32, decode_mode: str = "auto",
                     image_fps: float = 1.0, progress: bool = True, output: Output | None = None,
                     actors: int = 1, gpus_per_actor: float = 0.0, videos_per_batch: int = 8,
                     decode_tasks: int | None = None) -> EmbedReport:
    """``embed_corpus`` on Ray Data: same arguments and report, the same entries or shards.

    ``actors``: embedding actors (each builds ``encoder`` by name); ``gpus_per_actor``: GPUs each
    asks Ray for; ``videos_per_batch``: videos per actor call (and per parquet shard);
    ``decode_tasks``: most decoding tasks at once (None: as many as Ray has CPUs).
    """
    ray, data = import_ray()
    if output is None:
        output = CacheOutput(str((cache or EmbeddingCache()).root), encoder.dim, num_candidates, encoder.name)
    jobs = decode_jobs(videos, encoder, num_candidates, output, decode_mode, image_fps)
    if not jobs:
        return EmbedReport()
    init_ray()
    check_resources(ray.cluster_resources(), actors, gpus_per_actor)
    context = data.DataContext.get_current()
    shown = context.enable_progress_bars
    context.enable_progress_bars = progress
    t0 = time.perf_counter()
    try:
        items = [{"index": i, "video": job.video} for i, job in enumerate(jobs)]
        ds = data.from_items(items, override_num_blocks=min(len(items), MAX_BLOCKS))
        ds = ds.map(decode_row, fn_kwargs={"job": jobs[0]}, num_cpus=1,
                    compute=data.TaskPoolStrategy(size=decode_tasks))
        embedder = {"encoder": encoder.name, "fingerprint": encoder.fingerprint, "output": output,
                    "batch_size": batch_size}
        ds = ds.map_batches(Embedder, fn_constructor_kwargs=embedder, batch_size=videos_per_batch,
                            batch_format="numpy", compute=data.ActorPoolStrategy(size=actors),
                            num_gpus=gpus_per_actor or None)
        rows = sorted(ds.iter_rows(), key=lambda row: int(row["index"]))
    except Exception as exc:
        cause = getattr(exc, "cause", None)  # a RayTaskError wraps what the task raised
        if isinstance(cause, HfsError):
            raise cause from None
        raise
    finally:
        context.enable_progress_bars = shown
    report = EmbedReport(seconds=time.perf_counter() - t0)
    for row in rows:
        video, status = str(row["video"]), str(row["status"])
        if status == "bad":
            report.bad[video] = str(row["reason"])
        elif status == "cached":
            report.cached.append(video)
        else:
            report.embedded.append(video)
    return report
