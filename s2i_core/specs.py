"""Typed, frozen records that registration hooks yield, and the table of plugin kinds.

A spec names a plugin object, says how to build it (`build(config)`), what it is configured by (a dataclass
whose fields all have defaults: the Hydra schema) and what it does in one line. Heavy imports belong inside
`build`, so listing plugins never imports torch or transformers.

Each kind's spec is a `Spec[P]`, P the Protocol of what its `build` returns (`s2i_core.protocols`), so
`registry.build(kind, node)` is typed and the registry can check the built object against P.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from s2i_core.errors import PluginLoadError
from s2i_core.protocols import (CotTemplate, Dataset, Executor, Expander, Judge, LevelMapper, Rewriter, Scorer,
                                Writer)

if TYPE_CHECKING:
    from s2i_core.lmm.adapter import LmmAdapter  # a base class, not a Protocol; it imports numpy

T = TypeVar("T")


@dataclass
class NoConfig:
    """Schema for a plugin that takes no options."""


@dataclass(frozen=True)
class Spec(Generic[T]):
    name: str
    build: Callable[[Any], T]
    config: type = NoConfig
    description: str = ""
    # For multi-select groups: part of the `default` preset (e.g. `scorers=default`).
    default: bool = True
    kind: ClassVar[str] = "plugin"


@dataclass(frozen=True)
class ScorerSpec(Spec[Scorer]):
    """Scores one quality dimension of a decoded clip. `dimension` is None when the config chooses it."""

    dimension: str | None = None
    kind: ClassVar[str] = "scorer"


@dataclass(frozen=True)
class LevelMapperSpec(Spec[LevelMapper]):
    kind: ClassVar[str] = "level_mapper"


@dataclass(frozen=True)
class CotTemplateSpec(Spec[CotTemplate]):
    kind: ClassVar[str] = "cot_template"


@dataclass(frozen=True)
class ExpanderSpec(Spec[Expander]):
    kind: ClassVar[str] = "expander"


@dataclass(frozen=True)
class RewriterSpec(Spec[Rewriter]):
    kind: ClassVar[str] = "rewriter"


@dataclass(frozen=True)
class WriterSpec(Spec[Writer]):
    kind: ClassVar[str] = "writer"


@dataclass(frozen=True)
class ExecutorSpec(Spec[Executor]):
    kind: ClassVar[str] = "executor"


@dataclass(frozen=True)
class LmmAdapterSpec(Spec["LmmAdapter"]):
    kind: ClassVar[str] = "lmm_adapter"


@dataclass(frozen=True)
class JudgeSpec(Spec[Judge]):
    kind: ClassVar[str] = "judge"


@dataclass(frozen=True)
class DatasetSpec(Spec[Dataset]):
    kind: ClassVar[str] = "dataset"


@dataclass(frozen=True)
class Kind:
    """One kind of plugin: the hook that registers it and the Hydra group that selects it."""

    name: str
    hook: str
    spec: type[Spec]
    group: str
    multi: bool  # plural group, list selection: scorers=[noise,sharpness]


KINDS: tuple[Kind, ...] = (
    Kind("scorer", "s2i_scorers", ScorerSpec, "scorers", True),
    Kind("level_mapper", "s2i_level_mappers", LevelMapperSpec, "level_mapper", False),
    Kind("cot_template", "s2i_cot_templates", CotTemplateSpec, "template", False),
    Kind("expander", "s2i_expanders", ExpanderSpec, "expanders", True),
    Kind("rewriter", "s2i_rewriters", RewriterSpec, "rewriter", False),
    Kind("writer", "s2i_writers", WriterSpec, "writers", True),
    Kind("executor", "s2i_executors", ExecutorSpec, "executor", False),
    Kind("lmm_adapter", "s2i_lmm_adapters", LmmAdapterSpec, "lmm", False),
    Kind("judge", "s2i_judges", JudgeSpec, "judge", False),
    Kind("dataset", "s2i_datasets", DatasetSpec, "dataset", False),
)
KIND_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}
RESERVED_NAMES = frozenset({"default", "none"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_spec(kind: Kind, spec: object, plugin: str) -> None:
    """Reject a malformed spec with a message naming the plugin, before it can reach a config group."""
    where = f"plugin {plugin!r}, hook {kind.hook}"
    if not isinstance(spec, kind.spec):
        raise PluginLoadError(f"{where} yielded {type(spec).__name__}, expected {kind.spec.__name__}")
    if not _NAME.match(spec.name) or spec.name in RESERVED_NAMES:
        raise PluginLoadError(f"{where}: name {spec.name!r} must be lower_snake_case and not one of "
                              f"{sorted(RESERVED_NAMES)}")
    if not dataclasses.is_dataclass(spec.config):
        raise PluginLoadError(f"{where}: {spec.name!r} config must be a dataclass, got {spec.config!r}")
    missing = [f.name for f in dataclasses.fields(spec.config)
               if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing or any(f.name == "impl" for f in dataclasses.fields(spec.config)):
        raise PluginLoadError(f"{where}: {spec.name!r} config fields need defaults and may not be called "
                              f"'impl' (offending: {missing or ['impl']})")
    if not callable(spec.build):
        raise PluginLoadError(f"{where}: {spec.name!r} build is not callable")
