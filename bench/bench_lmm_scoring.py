"""Level-token scoring (one forward pass, Q-Align style) vs generate-and-parse, same model, same clips.

    .venv/bin/python bench/bench_lmm_scoring.py                 # tiny random Qwen2-VL on CPU
    .venv/bin/python bench/bench_lmm_scoring.py --lmm llava_onevision --hidden 256 --layers 4 --clips 16

The model is random (no weights are downloaded): throughput depends on the architecture, not on what the
weights say. Generation is given the length of the trained answer ("The overall quality of this video is
good.") and, separately, a short justification budget.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

from clips import numbered_clips

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # lmm_helpers: test-only, not installed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lmm", default="qwen2_vl")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--justify-tokens", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from rich.console import Console
    from rich.table import Table

    from s2i_core.lmm.inference import Scorer
    from s2i_core.lmm.preprocess import sample_frames
    from lmm_helpers import lmm_registry

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    adapter = lmm_registry().build(
        "lmm_adapter",
        {
            "impl": args.lmm,
            "tiny": True,
            "tiny_hidden": args.hidden,
            "tiny_layers": args.layers,
            "frames": args.frames,
            "max_pixels": 112 * 112,
            "tiny_image_size": 112,
        },
    )
    model, tokenizer = adapter.load(device)
    scorer = Scorer(adapter, model, tokenizer, device, batch_size=args.batch)
    answer_len = len(scorer.prefix_ids) + 3  # "<prefix> good." + end of turn: the trained answer's length
    with tempfile.TemporaryDirectory() as tmp:
        frames = [sample_frames(str(p), args.frames) for p in numbered_clips(Path(tmp), args.clips)]

    methods = [
        ("level-token scoring (1 forward)", scorer.score),
        (f"generate {answer_len} tokens + parse", lambda c: scorer.score_by_generation(c, answer_len)),
        (
            f"generate {args.justify_tokens} tokens + parse",
            lambda c: scorer.score_by_generation(c, args.justify_tokens),
        ),
    ]
    best = {name: float("inf") for name, _ in methods}
    for name, fn in methods:
        fn(frames[: args.batch])  # warm-up
    # Interleaved repeats, best of each: on a shared machine the least disturbed run is the closest to the truth.
    for _ in range(args.repeats):
        for name, fn in methods:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn(frames)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - start)
    rows = [(name, args.clips / best[name]) for name, _ in methods]
    table = Table(
        title=f"{args.lmm} hidden={args.hidden} layers={args.layers} frames={args.frames} "
        f"batch={args.batch} clips={args.clips} on {device} "
        f"({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    )
    for col in ("method", "clips/s", "speed-up of level-token scoring"):
        table.add_column(col)
    base = rows[0][1]
    for name, rate in rows:
        table.add_row(name, f"{rate:.2f}", "—" if rate == base else f"{base / rate:.1f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
