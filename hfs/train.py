"""``python -m hfs.train CONFIG.yaml [--resume]``: the entry point for ``accelerate launch -m``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hfs.errors import HfsError, describe_os_error
from hfs.validation import int_in


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hfs train", description="Train the HFS student end to end.")
    parser.add_argument("config", metavar="CONFIG.yaml", help="a TrainConfig in YAML")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in output_dir")
    parser.add_argument("--max-steps", type=int, help="override max_steps")
    parser.add_argument("--stop-at", type=int_in(1), metavar="STEP",
                        help="end this run at that step, at least 1 (schedules still span max_steps)")
    parser.add_argument("--output-dir", help="override output_dir")
    parser.add_argument("--num-workers", type=int, help="override data.num_workers (0: read videos in this process)")
    args = parser.parse_args(argv)
    from hfs.training.config import TrainConfig
    from hfs.training.trainer import train

    try:
        config = TrainConfig.from_yaml(args.config)
        if args.max_steps is not None:
            config.max_steps = args.max_steps
        if args.output_dir:
            config.output_dir = args.output_dir
        if args.num_workers is not None:
            config.data.num_workers = args.num_workers
        summary = train(config, resume=args.resume, stop_at=args.stop_at)
    except HfsError as exc:
        print(f"hfs: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a write no hfs code named
        print(f"hfs: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    print(f"trained {summary['steps']} steps on {summary['processes']} process(es); student saved to {summary['student']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
