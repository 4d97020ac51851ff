"""Typed schemas of the primary configs: every default of a command's own options lives here, once.

Each `conf/<command>.yaml` lists its schema first in its defaults (`- <command>_schema`), then the plugin
groups, then `_self_`; the YAML keeps only the defaults list, the values that differ by command and Hydra's own
settings. OmegaConf checks every value against these dataclasses while composing, so `seed=abc` or
`fraction=x` is refused before anything runs (exit status 2). Plugin groups (`scorers`, `executor`, `lmm`, ...)
are typed by their plugins' own schemas; here they are `Any` (singular) or `Dict[str, Any]` (plural) so the
generated group nodes merge in. Ranges are checked beside (`RANGES` of each pipeline, `s2i_core/options.py`).

Code that builds a config in Python (a test, a bench script) goes through the same schema:
`OmegaConf.structured(GenerateConfig)` merged with its values.
"""

from __future__ import annotations

from s2i_core.schemas.bench import AblateConfig, BenchConfig, ReproduceConfig, SummaryConfig
from s2i_core.schemas.sig import (AggregationConfig, AssessConfig, BalanceConfig, CalibrateConfig, CaptionsConfig,
                                  GenerateConfig, ValidateConfig)
from s2i_core.schemas.train import LoaderConfig, ScoreConfig, Stage1Config, Stage2Config, TrainConfig

SCHEMAS: dict[str, type] = {
    "generate": GenerateConfig, "assess": AssessConfig, "validate": ValidateConfig, "calibrate": CalibrateConfig,
    "train": TrainConfig, "bench": BenchConfig, "ablate": AblateConfig, "reproduce": ReproduceConfig,
    "summary": SummaryConfig,
}

__all__ = ["SCHEMAS", "AblateConfig", "AggregationConfig", "AssessConfig", "BalanceConfig", "BenchConfig",
           "CalibrateConfig", "CaptionsConfig", "GenerateConfig", "LoaderConfig", "ReproduceConfig",
           "ScoreConfig", "Stage1Config", "Stage2Config", "SummaryConfig", "TrainConfig", "ValidateConfig",
           "register_schemas", "structured"]


def register_schemas(store) -> None:
    """One ConfigStore node `<command>_schema` per primary config (`conf/<command>.yaml` lists it first)."""
    for name, schema in SCHEMAS.items():
        store.store(name=f"{name}_schema", node=schema)


def structured(command: str, values=None):
    """A config of `command` built in Python, typed and defaulted by its schema: `values` merged onto it."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.structured(SCHEMAS[command])
    return OmegaConf.merge(cfg, values) if values is not None else cfg
