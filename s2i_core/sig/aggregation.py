"""Aggregation: dimension scores -> a technical and an aesthetic group score -> one overall score.

The rule follows how the VQA literature pools distortions into one judgement of quality:

* Each dimension's **impairment** is how far its score falls below `transparent` (the score from which a
  dimension counts as free of visible damage), as a fraction of it: i = max(0, t - s) / t. A dimension that
  is good or better costs nothing, so small imperfections of many dimensions do not add up to a fault.
* **Technical impairments add by Minkowski summation**, I = (sum_d w_d i_d^p)^(1/p) with p = `exponent`
  (Quick 1974; Watson's and Daly's visible-difference models pool with p of 2-4; ITU-T P.1203 and the
  E-model also subtract impairments rather than average scores): one strong defect alone reaches the group
  score almost in full (p -> infinity is the worst dimension), several moderate ones add up, and a sound
  dimension cannot offset a broken one as a mean would.
* **Aesthetic impairments pool the same way**, into an aesthetic group score: aesthetic dimensions that
  read good cost nothing (a landscape without a centred subject, footage of ordinary colour), and one
  strong defect (a picture drained of colour, a heavy vignette) is not averaged away by the others.
* **Overall** = the technical score, modulated by the aesthetic one: technical * (1 - a + a * aesthetic)
  with a = `aesthetic_share`, so aesthetics move a video by at most `a` (a fifth by default) and can never
  lift a damaged one, while a technical defect can take it to 0 (the technical-first pooling of DOVER's and
  FAST-VQA's findings: people's opinion of UGC follows the technical quality first). A content-driven
  aesthetic reading (a black-and-white film reads colourless) therefore costs at most `a`, never a level
  of technical damage.

A group with no scored dimension is omitted; without technical dimensions the overall is the aesthetic score.
`s2i calibrate` fits `dimension_weights`, `exponent`, `aesthetic_share` and `transparent` on a labelled set
(s2i_core/sig/calibration.py); a fit records the `dimensions` it was made for, and refuses other score sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from s2i_core.dimensions import BY_NAME, GROUPS
from s2i_core.errors import ConfigError


@dataclass
class Aggregation:
    transparent: float = 0.8  # a dimension scoring this or more is free of visible damage (the `excellent` cut)
    exponent: float = 3.0  # Minkowski exponent of the technical impairments
    aesthetic_share: float = 0.2  # how far the aesthetic group can move a technically sound video
    dimension_weights: dict[str, float] = field(default_factory=dict)  # per dimension, default 1
    # The scored dimensions a fit was made for; empty: any. Weights fitted on 14 dimensions mean nothing on 2.
    dimensions: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, node) -> Aggregation:
        if node is None:
            return cls()
        node = dict(node)
        known = {"transparent", "exponent", "aesthetic_share", "dimension_weights", "dimensions", "from_file"}
        unknown = sorted(set(node) - known)
        if unknown:
            raise ConfigError(f"aggregation: unknown key(s) {unknown}; known: {sorted(known)}")
        if node.get("from_file"):
            from s2i_core.sig.calibration import load_fit

            return load_fit(node["from_file"])
        agg = cls(float(node.get("transparent", cls.transparent)), float(node.get("exponent", cls.exponent)),
                  float(node.get("aesthetic_share", cls.aesthetic_share)),
                  {str(k): float(v) for k, v in dict(node.get("dimension_weights") or {}).items()},
                  tuple(sorted(str(d) for d in node.get("dimensions") or ())))
        agg.check()
        return agg

    def check(self) -> None:
        if not 0.0 < self.transparent <= 1.0:
            raise ConfigError(f"aggregation.transparent={self.transparent}: must be in (0, 1]")
        if self.exponent < 1.0:
            raise ConfigError(f"aggregation.exponent={self.exponent}: must be at least 1")
        if not 0.0 <= self.aesthetic_share <= 1.0:
            raise ConfigError(f"aggregation.aesthetic_share={self.aesthetic_share}: must be in [0, 1]")
        for name, weight in self.dimension_weights.items():
            if name not in BY_NAME or weight < 0:
                raise ConfigError(f"aggregation.dimension_weights.{name}={weight}: the dimension must be one of "
                                  f"{sorted(BY_NAME)} and the weight non-negative")
        unknown = sorted(set(self.dimensions) - set(BY_NAME))
        if unknown:
            raise ConfigError(f"aggregation.dimensions: unknown dimension(s) {unknown}; known: {sorted(BY_NAME)}")

    def check_dimensions(self, scored) -> None:
        """A fitted aggregation only applies to the dimension set it was fitted on."""
        if not self.dimensions or set(scored) == set(self.dimensions):
            return
        missing, extra = sorted(set(self.dimensions) - set(scored)), sorted(set(scored) - set(self.dimensions))
        differ = " and ".join(([f"lack {missing}"] if missing else []) + ([f"add {extra}"] if extra else []))
        raise ConfigError(f"the aggregation was fitted on the dimensions {list(self.dimensions)}, but these "
                          f"scores {differ}; score with the scorers the fit was made with, or run "
                          "`s2i calibrate` again with these scorers")

    def impairment(self, score: float) -> float:
        return max(0.0, self.transparent - score) / self.transparent

    def group_scores(self, dimension_scores: dict[str, float]) -> dict[str, float]:
        self.check_dimensions(dimension_scores)
        out = {}
        for group in GROUPS:
            members = {d: s for d, s in dimension_scores.items() if BY_NAME[d].group == group}
            if not members:
                continue
            pooled = sum(self.dimension_weights.get(d, 1.0) * self.impairment(s) ** self.exponent
                         for d, s in members.items())
            out[group] = 1.0 - min(1.0, pooled ** (1.0 / self.exponent))
        return out

    def overall_score(self, groups: dict[str, float]) -> float:
        if "technical" not in groups:
            return groups["aesthetic"]
        if "aesthetic" not in groups:
            return groups["technical"]
        return groups["technical"] * (1.0 - self.aesthetic_share + self.aesthetic_share * groups["aesthetic"])

    def as_config(self) -> dict:
        node = {"transparent": self.transparent, "exponent": self.exponent,
                "aesthetic_share": self.aesthetic_share, "dimension_weights": dict(sorted(self.dimension_weights.items()))}
        if self.dimensions:
            node["dimensions"] = list(self.dimensions)
        return node
