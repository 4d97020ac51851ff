"""What the core calls on the object each kind of plugin builds: one Protocol per kind.

A spec is typed by its kind's Protocol (`ScorerSpec` is a `Spec[Scorer]`), so `registry.build("scorer", node)`
is a `Scorer` to a type checker, and the registry checks at build time that the object has every method and
attribute its Protocol declares. Optional capabilities are not members: they are listed in each Protocol's
docstring and read with `getattr(obj, name, default)` where the core uses them. LMM adapters have no Protocol:
their contract is the base class `s2i_core.lmm.adapter.LmmAdapter` (imported lazily: it loads numpy).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ForwardRef, Protocol, get_args, runtime_checkable

from s2i_core.errors import PluginLoadError
from s2i_core.scoring import Scorer

if TYPE_CHECKING:
    from s2i_core.bench.datasets import LabeledVideo

__all__ = ["CotTemplate", "Dataset", "Executor", "Expander", "Judge", "LevelMapper", "Rewriter", "Scorer",
           "Writer", "check_built", "protocol_of"]


@runtime_checkable
class LevelMapper(Protocol):
    """Maps a score in [0, 1] to a level word, per key (a dimension, `technical`, `aesthetic` or `overall`).
    `fit` is called once with every score of the dataset before any `level` call."""

    def fit(self, columns: dict[str, list[float]]) -> None: ...

    def level(self, key: str, score: float) -> str: ...

    def thresholds(self) -> dict[str, list[float]]: ...


@runtime_checkable
class CotTemplate(Protocol):
    """Writes the chain-of-thought justification of one record (`rng` is seeded per video)."""

    def justify(self, record: dict, rng: random.Random) -> str: ...


@runtime_checkable
class Expander(Protocol):
    """Question–answer pairs `{type, question, answer}` consistent with one record."""

    def expand(self, record: dict, rng: random.Random) -> list[dict]: ...


@runtime_checkable
class Rewriter(Protocol):
    """Rewrites a justification; raises `s2i_core.sig.rewrite.RewriteFailed` when no text can be produced.

    Optional: `cached` (bool, default False: journal replies), `concurrency` (int, default 1: threads asking at
    once), `preserve_check` (bool, default True: reject a rewrite that changes a rating)."""

    def rewrite(self, text: str, rng: random.Random) -> str: ...


@runtime_checkable
class Writer(Protocol):
    """Writes the finished records (sorted by video) under `out`; returns the paths written, relative to `out`."""

    def write(self, records: list[dict], out: Path, context: dict) -> list[str]: ...


@runtime_checkable
class Executor(Protocol):
    """Runs `fn(item)` for every item, yielding results in any order; `fn_crash(item)` makes the row for an
    item whose worker died. Optional: `workers` (int, its parallelism, for messages)."""

    def imap_unordered(self, fn: Callable, items: Iterable, fn_crash: Callable | None = None) -> Iterator: ...

    def close(self) -> None: ...


@runtime_checkable
class Judge(Protocol):
    """Scores one answer to an S2I-Bench question, one score per axis; raises an `S2IError` when it cannot.

    Optional: `axes` (the axis names, default: those its verdicts hold), `cached` (bool, default False:
    journal verdicts), `retry_failed` (bool, default False: ask again where a journaled verdict failed)."""

    def judge(self, item: dict, answer: str, seed: int = 0) -> dict[str, float]: ...

    def describe(self) -> dict: ...


@runtime_checkable
class Dataset(Protocol):
    """A labelled video set: one `LabeledVideo` (`key`, `path`, `mos`) per video, missing files included."""

    def items(self) -> list[LabeledVideo]: ...


def protocol_of(spec_type: type) -> Any:
    """The Protocol (or base class) a spec class is parametrised by: `protocol_of(ScorerSpec) is Scorer`."""
    for base in getattr(spec_type, "__orig_bases__", ()):
        args = get_args(base)
        if args:
            target = args[0]
            if isinstance(target, ForwardRef) and target.__forward_arg__ == "LmmAdapter":
                from s2i_core.lmm.adapter import LmmAdapter

                return LmmAdapter
            return target
    return None


def _members(protocol: type) -> list[str]:
    """The attributes and methods a Protocol declares (its own and its Protocol bases')."""
    names: dict[str, None] = {}
    for cls in reversed(protocol.__mro__):
        if cls is object or not getattr(cls, "_is_protocol", False) or cls is Protocol:
            continue
        names.update(dict.fromkeys(getattr(cls, "__annotations__", {})))
        names.update(dict.fromkeys(n for n, v in vars(cls).items()
                                   if callable(v) and (not n.startswith("_") or n == "__call__")))
    return list(names)


def check_built(kind: str, name: str, plugin: str, spec_type: type, built: object) -> None:
    """Refuse a built object that lacks what its kind's Protocol declares, naming the plugin and the members."""
    target = protocol_of(spec_type)
    if target is None or not isinstance(target, type):
        return
    label = f"{kind.replace('_', ' ')} {name!r} (plugin {plugin})"
    if not getattr(target, "_is_protocol", False):
        if not isinstance(built, target):
            raise PluginLoadError(f"{label} built a {type(built).__name__}, which is not a "
                                  f"{target.__module__}.{target.__name__}")
        return
    missing = [m for m in _members(target) if not hasattr(built, m)]
    if missing:
        raise PluginLoadError(f"{label} built a {type(built).__name__} without {', '.join(missing)}: a {kind} "
                              f"must provide what s2i_core.protocols.{target.__name__} declares")
