"""Level mappers: score in [0, 1] -> one of the five level words.

Every mapper is four cut points per key (a dimension name, `technical`, `aesthetic` or `overall`):
score < c1 -> bad, c1 <= score < c2 -> poor, ... , score >= c4 -> excellent. `fit(columns)` sees every score of
the dataset before any level is asked for (dataset-relative mappers need it); `thresholds()` goes to the manifest,
so a quantile run's cut points can be reused by `level_mapper=calibrated level_mapper.from_file=<manifest.json>`.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field

from s2i_core.dimensions import LEVELS
from s2i_core.errors import ConfigError
from s2i_core.options import between
from s2i_core.specs import LevelMapperSpec, NoConfig

EQUAL = (0.2, 0.4, 0.6, 0.8)


def _check_cuts(where: str, cuts) -> tuple[float, ...]:
    cuts = tuple(float(c) for c in cuts)
    if len(cuts) != 4 or list(cuts) != sorted(cuts):
        raise ConfigError(f"{where}: need 4 increasing cut points between the 5 levels, got {list(cuts)}")
    return cuts


class _Cuts:
    def __init__(self) -> None:
        self.cuts: dict[str, tuple[float, ...]] = {}
        self.fallback: tuple[float, ...] = EQUAL

    def fit(self, columns: dict[str, list[float]]) -> None:
        """Default: nothing learned from the data."""

    def level(self, key: str, score: float) -> str:
        return LEVELS[bisect.bisect_right(self.cuts.get(key, self.fallback), score)]

    def thresholds(self) -> dict[str, list[float]]:
        return {"*": [round(c, 6) for c in self.fallback],
                **{k: [round(c, 6) for c in v] for k, v in sorted(self.cuts.items())}}


class EqualWidth(_Cuts):
    """Q-Align style: five equal bins over [0, 1] (0.2 wide each)."""

    def __init__(self, cfg: NoConfig):
        super().__init__()


@dataclass
class QuantileConfig:
    quantiles: list[float] = field(default_factory=lambda: [0.2, 0.4, 0.6, 0.8])
    # below this many scores a key keeps equal-width cuts (quantiles of 3 videos mean little)
    min_videos: int = between(1, None, default=5)


class Quantile(_Cuts):
    """Dataset quantiles per key: by default each level holds a fifth of the videos."""

    def __init__(self, cfg: QuantileConfig):
        super().__init__()
        self.cfg = cfg
        self.q = _check_cuts("level_mapper.quantiles", cfg.quantiles)

    def fit(self, columns: dict[str, list[float]]) -> None:
        import numpy as np

        for key, values in columns.items():
            if len(values) >= self.cfg.min_videos:
                # 'higher' puts cut points on observed scores, so equal scores always share one level.
                cuts = np.quantile(np.asarray(values, dtype=np.float64), self.q, method="higher")
                self.cuts[key] = tuple(float(c) for c in cuts)


@dataclass
class CalibratedConfig:
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # key -> 4 cut points
    default: list[float] = field(default_factory=lambda: list(EQUAL))  # keys not listed
    from_file: str = ""  # a manifest.json of an earlier run (its level_mapper.thresholds) or a {key: cuts} JSON


class Calibrated(_Cuts):
    """Per-dimension thresholds chosen by a person (or fitted on MOS), given in config or a JSON file."""

    def __init__(self, cfg: CalibratedConfig):
        super().__init__()
        table = {}
        if cfg.from_file:
            try:
                with open(cfg.from_file, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"level_mapper.from_file {cfg.from_file!r}: cannot read JSON: {exc}") from exc
            table.update(data.get("level_mapper", {}).get("thresholds", data) if "level_mapper" in data else data)
        table.update(dict(cfg.thresholds))
        self.fallback = _check_cuts("level_mapper.default", table.pop("*", cfg.default))
        self.cuts = {k: _check_cuts(f"level_mapper.thresholds.{k}", v) for k, v in table.items()}


SPECS = (
    LevelMapperSpec("equal_width", EqualWidth, NoConfig, "five equal-width bins over [0, 1] (Q-Align)"),
    LevelMapperSpec("quantile", Quantile, QuantileConfig, "dataset quantiles per dimension (a fifth per level)"),
    LevelMapperSpec("calibrated", Calibrated, CalibratedConfig, "per-dimension cut points from config or file"),
)
