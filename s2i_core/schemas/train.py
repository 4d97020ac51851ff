"""Schema of `s2i train`: progressive tuning (stage I, then LoRA stage II) and its data path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from omegaconf import MISSING

from s2i_core.lmm.loader import LoaderConfig
from s2i_core.prompts import SCORE_ANSWER_PREFIX, SCORE_QUESTION


@dataclass
class Stage1Config:
    """LLM frozen: vision tower + projector on dimension -> level items."""

    enabled: bool = True
    train: List[str] = field(default_factory=lambda: ["vision", "projector"])
    epochs: int = 1
    max_steps: int = 0  # 0: epochs decide
    lr: float = 2.0e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03


@dataclass
class Stage2Config:
    """LoRA on the LLM: justifications + QA."""

    enabled: bool = True
    train: List[str] = field(default_factory=list)  # groups trained fully beside LoRA (e.g. [projector])
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    epochs: int = 1
    max_steps: int = 0
    lr: float = 2.0e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03


@dataclass
class ScoreConfig:
    """The level-token scoring prompt saved with the model (s2i_core.lmm.inference, s2i_core.prompts)."""

    question: str = SCORE_QUESTION
    answer_prefix: str = SCORE_ANSWER_PREFIX


@dataclass
class TrainConfig:
    lmm: Any = None  # the adapter plugin group (lmm=qwen2_vl)
    data: str = MISSING  # a `s2i generate` output folder (instructions/stage{1,2}.jsonl + manifest.json)
    output: str = "runs/train/${now:%Y-%m-%d_%H-%M-%S}"
    seed: int = 0
    data_fraction: float = 1.0  # keep a fixed-shuffle prefix of the items (ablations)
    device: str = "auto"  # auto | cpu | cuda
    batch_size: int = 2
    grad_accum: int = 1
    max_length: int = 4096
    max_grad_norm: float = 1.0
    gradient_checkpointing: bool = True
    deepspeed: Optional[str] = None  # zero2 | zero3 | /path/to/ds_config.json
    save_every: int = 50  # checkpoint every N optimizer steps (and at the end of a stage)
    keep_checkpoints: int = 2
    resume: str = "auto"  # auto: continue this output's run if config and data match, refuse otherwise; fresh
    loader: LoaderConfig = field(default_factory=LoaderConfig)  # the data path (s2i_core/lmm/loader.py)
    stage1: Stage1Config = field(default_factory=Stage1Config)
    stage2: Stage2Config = field(default_factory=Stage2Config)
    score: ScoreConfig = field(default_factory=ScoreConfig)
