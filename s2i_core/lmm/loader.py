"""The training data path: clips decoded and prepared in DataLoader worker processes, batches pinned and
prefetched, in the order `batch_indices` fixes (a resumed run still sees the batches an uninterrupted one
would, whatever the number of workers).

Each batch comes with its counts: items, answers shortened to fit `max_length`, items dropped (the video alone
is longer than `max_length`, or no answer token is left), clips thinned or downscaled to meet
`lmm.max_video_tokens`. The trainer sums them into the stage's `done.json`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from s2i_core.errors import ConfigError
from s2i_core.lmm import data as D

COUNTS = ("items", "truncated", "dropped", "frames_dropped", "downscaled")


@dataclass
class LoaderConfig:
    """`loader.<field>=...` in `conf/train.yaml`."""

    workers: int = 2  # DataLoader worker processes decoding and preparing clips (0: in the training process)
    prefetch: int = 2  # batches each worker prepares ahead
    pin_memory: str = "auto"  # auto: on when training on CUDA; true / false
    cache_clips: int = 32  # prepared clips each process keeps (a 16-frame clip at Qwen's default size is ~30 MB)


class Instructions:
    """Map-style dataset: item index -> encoded example (decoded, preprocessed, tokenized)."""

    def __init__(self, items: list, adapter, tokenizer, max_length: int, cache_clips: int = 32):
        self.items, self.adapter, self.tokenizer, self.max_length = items, adapter, tokenizer, max_length
        self.cache = D.VideoCache(adapter, tokenizer, cache_clips)  # one per worker process (each its own copy)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        item = self.items[index]
        example = D.encode(
            self.adapter, self.tokenizer, D.to_messages(item.conversations), self.cache.get(item.video),
            self.max_length,
        )  # fmt: skip
        example["id"] = item.id
        return example


class Collate:
    """Examples -> (model inputs, counts); a picklable callable, so workers can run it."""

    def __init__(self, adapter, tokenizer):
        self.adapter, self.tokenizer = adapter, tokenizer

    def __call__(self, examples: list[dict]) -> tuple[dict | None, dict]:
        kept = [e for e in examples if e["dropped"] is None]
        counts = {
            "items": len(examples),
            "truncated": sum(1 for e in kept if e["cut"]),
            "dropped": len(examples) - len(kept),
            "frames_dropped": sum(e["video"].frames_dropped for e in examples),
            "downscaled": sum(1 for e in examples if e["video"].downscaled),
            "ids": [e["id"] for e in kept],
            "reasons": sorted({e["dropped"] for e in examples if e["dropped"]}),
        }
        if not kept:
            return None, counts
        return D.collate(self.adapter, self.tokenizer, kept), counts


def plan(n_items: int, batch_size: int, seed: int, stage: int, first: int, last: int, rank: int, world: int):
    """The item indices of micro-batches `first` .. `last - 1` for this rank (a batch sampler)."""
    from s2i_core.lmm.trainer import batch_indices

    return [batch_indices(n_items, batch_size, b, seed, stage, rank, world) for b in range(first, last)]


def make_loader(dataset: Instructions, batches: list[list[int]], cfg: LoaderConfig, device: str):
    import torch

    workers = int(cfg.workers)
    if workers < 0:
        raise ConfigError(f"loader.workers must be >= 0, got {workers}")
    pin = str(cfg.pin_memory).lower()
    if pin not in ("auto", "true", "false"):
        raise ConfigError(f"loader.pin_memory must be auto, true or false, got {cfg.pin_memory!r}")
    pin_memory = device.startswith("cuda") if pin == "auto" else pin == "true"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # fast tokenizers in forked workers
    options = {"prefetch_factor": max(1, int(cfg.prefetch))} if workers else {}
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=batches,
        collate_fn=Collate(dataset.adapter, dataset.tokenizer),
        num_workers=workers,
        pin_memory=pin_memory,
        # its own generator: drawing the workers' base seed from the global RNG would shift the dropout of a
        # resumed run (whose RNG state was restored before the loader is made) against an uninterrupted one
        generator=torch.Generator().manual_seed(0),
        **options,
    )


def to_device(batch: dict, device: str) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}
