"""Hierarchical chain-of-thought: dimension levels -> technical / aesthetic ratings -> overall rating.

The text walks the same path as the aggregation that produced the record (s2i_core.sig.records): each dimension
written as its definition, then one intermediate rating per present group (naming the worst technical defect
when it is below the group rating), then the overall rating. Groups without scored dimensions are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from s2i_plugins.templates import phrases as P

from s2i_core.dimensions import GROUPS, level_index
from s2i_core.specs import CotTemplateSpec


@dataclass
class HierarchicalConfig:
    opening: bool = True  # start with a sentence announcing the local-to-global reasoning
    name_worst: bool = True  # say which dimension drags a group down
    paragraphs: bool = True  # one paragraph per step; false joins everything into one paragraph


class Hierarchical:
    def __init__(self, cfg: HierarchicalConfig):
        self.cfg = cfg

    def justify(self, record: dict, rng) -> str:
        dims, groups = record["dimensions"], record["groups"]
        parts = [rng.choice(P.OPENINGS)] if self.cfg.opening else []
        for group in GROUPS:
            if group not in groups:
                continue
            names = P.ordered(dims, group)
            lines = [rng.choice(P.GROUP_INTRO[group])]
            lines += [P.fill(rng.choice(P.DIMENSION), d, level=dims[d]["level"]) for d in names]
            worst, *rest = sorted(names, key=lambda d: (dims[d]["score"], d))
            # named when it stands out: below the group's other members, and below what the group would be
            # without it (with Minkowski pooling the group level usually sinks to the worst one's)
            if (self.cfg.name_worst and rest
                    and level_index(dims[worst]["level"]) < level_index(dims[rest[0]]["level"])
                    and level_index(dims[worst]["level"]) <= level_index(groups[group]["level"])):
                lines.append(P.fill(rng.choice(P.WORST), worst, level=dims[worst]["level"], group=group))
            lines.append(P.fill(rng.choice(P.GROUP), group=group, level=groups[group]["level"]))
            parts.append(" ".join(lines))
        parts.append(P.fill(rng.choice(P.OVERALL), level=record["overall"]["level"]))
        return ("\n\n" if self.cfg.paragraphs else " ").join(parts)


SPECS = (CotTemplateSpec("hierarchical", Hierarchical, HierarchicalConfig,
                         "dimension levels -> technical/aesthetic ratings -> overall, many phrasings"),)
