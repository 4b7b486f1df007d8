"""``hfs serve``: the command's flags turned into a ``ServeConfig``, the encoder loaded, uvicorn run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hfs.config import SelectConfig
from hfs.errors import InputError
from hfs.serve.config import ServeConfig
from hfs.validation import FieldError, short_repr

# ServeConfig / SelectConfig field -> the flag that sets it (for error messages)
FLAGS = {"num_candidates": "-n", "k": "-k", "max_k": "--max-k", "select_timeout": "--select-timeout",
         "upstream_timeout": "--upstream-timeout", "max_request_bytes": "--max-request-bytes",
         "max_video_bytes": "--max-video-bytes", "upstream_format": "--upstream-format"}


def config_from_args(args: argparse.Namespace) -> ServeConfig:
    """The ``ServeConfig`` that ``hfs serve``'s flags describe; a bad value is one InputError naming its flag."""
    root = Path(args.video_root)
    if not root.is_dir():
        raise InputError(f"--video-root {root}: not a folder")
    try:
        select = SelectConfig(k=args.k, num_candidates=args.num_candidates, encoder=args.encoder,
                              selector=args.selector, checkpoint=args.checkpoint, cache_dir=args.cache_dir)
        return ServeConfig(upstream=args.upstream, video_root=str(root), host=args.host, port=args.port,
                           api_key=args.api_key, upstream_api_key=args.upstream_api_key,
                           upstream_format=args.upstream_format, allow_url=args.allow_url, select=select,
                           max_k=max(args.max_k, args.k), select_timeout=args.select_timeout,
                           upstream_timeout=args.upstream_timeout, max_request_bytes=args.max_request_bytes,
                           max_video_bytes=args.max_video_bytes, workers=args.workers)
    except FieldError as exc:
        flag = FLAGS.get(exc.field, "--" + exc.field.replace("_", "-"))
        raise InputError(f"{flag}: {exc.problem}, got {short_repr(exc.value)}") from None


def run(args: argparse.Namespace) -> int:
    """Load the encoder, then serve until interrupted."""
    try:
        import uvicorn

        from hfs.serve.app import create_app
    except ImportError as exc:
        raise InputError(f"hfs serve needs the serve extra ({exc.name} is missing): pip install 'hfs[serve]'") from None
    from hfs.serve.frames import FrameEngine

    config = config_from_args(args)
    engine = FrameEngine(config)  # the encoder loads now, so a missing model fails before listening
    app = create_app(config, engine=engine)
    key = "a bearer key required" if config.api_key else "no key required"
    where = f"http://{config.host}:{config.port}/v1"
    print(f"hfs serve: {where} -> {config.upstream_base} ({config.upstream_format}); videos under "
          f"{Path(config.video_root).resolve()}; {key}; encoder {engine.encoder.name}, k={config.select.k}",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level=args.log_level)
    return 0


