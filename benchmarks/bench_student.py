"""Student forward time per video and the size of its trainable parts.

Run by hand:  python benchmarks/bench_student.py [--base-lm PATH] [-n 128] [-k 16]

Without --base-lm it builds the tiny random Qwen2 (as the tests do); with a real local LM
folder (e.g. Qwen2.5-1.5B-Instruct) it measures that. Reports the median seconds of the
inference scoring pass (no grad) and of a training forward + backward, at N candidates, as a
ratio to the training-free scoring of the same N frames (one matrix-vector product).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

import torch
import torch.nn.functional as F

from hfs.scoring import cosine_scores
from hfs.student import HFSSelector, StudentConfig, build_tiny_qwen2


def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-lm", help="local causal LM folder (default: a tiny random Qwen2)")
    parser.add_argument("-n", type=int, default=128, help="candidate frames per video")
    parser.add_argument("-k", type=int, default=16, help="frames to select")
    parser.add_argument("--frame-dim", type=int, default=512, help="image-text embedding width")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning)

    torch.manual_seed(0)
    base = args.base_lm or str(build_tiny_qwen2(tempfile.mkdtemp() + "/tiny-qwen2"))
    model = HFSSelector(StudentConfig(base_lm=base, frame_dim=args.frame_dim))
    frames = F.normalize(torch.randn(1, args.n, args.frame_dim), dim=-1)
    question = "what does the man put in the box?"
    options = ["a ball", "a cup", "a shoe", "a book"]

    trainable = sum(p.numel() for p in model.trainable_parameters())
    total = sum(p.numel() for p in model.parameters())
    parts = {
        "LoRA task_analyzer": sum(p.numel() for n, p in model.named_parameters() if "task_analyzer" in n),
        "LoRA context_aggregator": sum(p.numel() for n, p in model.named_parameters() if "context_aggregator" in n),
        "projector": sum(p.numel() for p in model.projector.parameters()),
        "q_agg": model.q_agg.numel(),
        "MLP_s": sum(p.numel() for p in model.scorer.parameters()),
    }

    infer = _median_seconds(lambda: model.score_frames(frames[0], question, options), args.repeats)

    def train_step() -> None:
        model.train()
        out = model(frames, [question], [options], k=args.k, generator=torch.Generator().manual_seed(0))
        (-out.losses["F"] + 0.01 * out.losses["L_sep"]).backward()
        model.zero_grad(set_to_none=True)

    train = _median_seconds(train_step, args.repeats)
    query = F.normalize(torch.randn(args.frame_dim), dim=-1).numpy()
    cosine = _median_seconds(lambda: cosine_scores(frames[0].numpy(), query), args.repeats)

    print(f"base LM: {base if args.base_lm else 'tiny random Qwen2 (hidden 32, 2 layers)'}")
    print(f"N = {args.n}, k = {args.k}, frame dim = {args.frame_dim}, threads = {torch.get_num_threads()}")
    print(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.2f}%)")
    for name, count in parts.items():
        print(f"  {name:<24} {count:>12,}")
    print(f"student scoring per video (inference): {infer * 1000:8.2f} ms")
    print(f"student forward + backward (training):  {train * 1000:8.2f} ms")
    print(f"cosine scoring of the same frames:      {cosine * 1000:8.3f} ms")
    print(f"ratio student inference / cosine:       {infer / cosine:8.1f}x")


if __name__ == "__main__":
    main()
