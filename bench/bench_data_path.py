"""Training data path: clips/s of decode + preprocess + tokenize + collate with 0, 1, 2 DataLoader workers,
against the model's step time, and the share of a training step spent waiting for data.

    .venv/bin/python bench/bench_data_path.py                     # 12 clips of 640x480, 2 s, 16 frames
    .venv/bin/python bench/bench_data_path.py --clips 24 --frames 8 --steps 12

The step is stage II (LoRA) of the tiny model; "compute s/step" is a step less its wait for data, and
"clips/s the compute consumes" what the loader must deliver to keep it busy. "workers 0" is the in-process path (clips decoded by the training process between steps, as before the
loader existed); with workers > 0 decoding overlaps the steps. The model is a random-weight Qwen2-VL
architecture built from config (no download). On a machine with few cores the workers compete with the
step itself for CPU: the table says how many cores there were.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from clips import numbered_clips

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # lmm_helpers: test-only, not installed


def make_data(folder: Path, clips: int, seconds: float, size: str) -> str:
    from s2i_core.dimensions import LEVELS
    from lmm_helpers import write_instructions

    paths = numbered_clips(folder / "in", clips, size, seconds)
    levels = {p.name: LEVELS[i % 5] for i, p in enumerate(paths)}
    return write_instructions(str(folder / "data"), str(folder / "in"), levels, dimensions=2)


def overrides(args, data: str, out: str, workers: int) -> list[str]:
    return [
        "lmm=qwen2_vl", "lmm.tiny=true", f"lmm.tiny_hidden={args.hidden}", f"lmm.tiny_layers={args.layers}",
        f"lmm.frames={args.frames}", f"lmm.max_pixels={args.pixels}", "device=cpu", f"data={data}",
        f"output={out}", "stage1.enabled=false", f"stage2.max_steps={args.steps}", f"batch_size={args.batch}",
        "save_every=1000000", "gradient_checkpointing=false", f"loader.workers={workers}",
    ]  # fmt: skip


def loader_rate(cfg, adapter, tokenizer, workers: int) -> float:
    """Clips per second through the loader alone: one item per clip, so every item decodes its clip."""
    from s2i_core.lmm import data as D
    from s2i_core.lmm import loader as L

    items = [it for it in D.load_items(str(cfg.data), 2) if it.id.endswith(":justification")]
    dataset = L.Instructions(items, adapter, tokenizer, int(cfg.max_length))
    batches = [list(range(i, min(i + int(cfg.batch_size), len(items)))) for i in range(0, len(items), 2)]
    start = time.perf_counter()
    for _ in L.make_loader(dataset, batches, L.LoaderConfig(workers=workers), "cpu"):
        pass
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    import torch
    from rich.console import Console
    from rich.table import Table

    from lmm_helpers import compose, lmm_registry
    from s2i_core.lmm.trainer import train

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--pixels", type=int, default=112 * 112)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--workers", default="0,1,2")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    registry = lmm_registry()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp), args.clips, args.seconds, args.size)
        cfg = compose("train", overrides(args, data, f"{tmp}/probe", 0), registry)
        adapter = registry.build("lmm_adapter", cfg.lmm)
        _, tokenizer = adapter.load("cpu")
        rates = {w: loader_rate(cfg, adapter, tokenizer, w) for w in workers}
        shares = {}
        for w in workers:
            out = f"{tmp}/train_w{w}"
            result = train(compose("train", overrides(args, data, out, w), registry), out, registry=registry)
            shares[w] = result["stages"][2]
    title = (
        f"{args.clips} clips {args.size}, {args.seconds:g} s, {args.frames} frames at <= {args.pixels} px; "
        f"Qwen2-VL hidden {args.hidden} x {args.layers} layers, batch {args.batch}; CPU {platform.machine()}, "
        f"{os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    )
    table = Table(title=title)
    for col in ("workers", "loader clips/s", "train s/step", "of which waiting for data", "compute s/step",
                "clips/s the compute consumes"):  # fmt: skip
        table.add_column(col)
    for w in workers:
        r = shares[w]
        per_step = r["seconds"] / r["steps"]
        compute = per_step - r["data_wait_s"] / r["steps"]
        table.add_row(str(w), f"{rates[w]:.1f}", f"{per_step:.3f}", f"{r['data_share']:.0%}", f"{compute:.3f}",
                      f"{args.batch / compute:.1f}")  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    main()
