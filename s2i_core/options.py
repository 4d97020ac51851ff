"""Range checks for options, so a value that is well typed but meaningless is refused before anything runs.

A plugin declares the range of an option in its config dataclass with `between`:

    workers: int = between(-1, None, default=2)   # -1 means every CPU; below that means nothing

and a scorer config whose `bad` and `good` anchors are equal (the ramp between them would divide by zero) is
refused. Pipelines check their own top-level options with `check_int`, `check_float` and `check_bool`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from s2i_core.errors import ConfigError


def between(low: float | None, high: float | None, *, default: Any) -> Any:
    return dataclasses.field(default=default, metadata={"range": (low, high)})


def _range_text(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f">= {low}" if low is not None else f"<= {high}"


def check_plugin_config(where: str, config: Any) -> None:
    """Every declared range of a plugin's config object, and distinct `bad`/`good` anchors."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        low, high = f.metadata.get("range", (None, None))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            raise ConfigError(f"{where}.{f.name}={value}: must be a finite number")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{where}.{f.name}={value}: must be {_range_text(low, high)}")
    bad, good = getattr(config, "bad", None), getattr(config, "good", None)
    if isinstance(bad, (int, float)) and isinstance(good, (int, float)) and bad == good:
        raise ConfigError(f"{where}: bad={bad} and good={good} must differ (they are the measurements that map "
                          "to scores 0.1 and 0.9)")


def check_int(name: str, value: Any, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        hint = " or null" if allow_none else ""
        raise ConfigError(f"{name}={value!r}: must be a whole number{hint}"
                          + (f" {_range_text(low, high)}" if low is not None or high is not None else ""))
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{name}={value}: must be {_range_text(low, high)}")
    return value


def check_float(name: str, value: Any, low: float | None = None, high: float | None = None, *,
                low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}={value!r}: must be a finite number")
    if (low is not None and (value < low or (low_open and value == low))) or (high is not None and value > high):
        text = f"in ({low}, {high}]" if low_open else _range_text(low, high)
        raise ConfigError(f"{name}={value}: must be {text}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name}={value!r}: must be true or false")
    return value


def check_against_defaults(cfg: Any, defaults: Any, ranges: dict[str, tuple] | None = None,
                           skip: set[str] = frozenset(), prefix: str = "") -> None:
    """Each option keeps the type of its default (a bool stays a bool, a whole number a whole number) and
    stays within `ranges` ({dotted name: (low, high)}, either end None). Plugin groups in `skip` are typed by
    their own schemas."""
    from collections.abc import Mapping

    for key, default in defaults.items():
        name = f"{prefix}{key}"
        if name in skip or not isinstance(cfg, Mapping) or key not in cfg:
            continue
        value = cfg[key]
        if isinstance(value, str) and value.startswith("${"):
            continue  # an interpolation: its value is known only when resolved
        if isinstance(default, Mapping):
            check_against_defaults(value, default, None, skip, f"{name}.")
        elif isinstance(default, bool):
            check_bool(name, value)
        elif isinstance(default, int):
            check_int(name, value)
        elif isinstance(default, float):
            check_float(name, value)
    for name, (low, high) in (ranges or {}).items():
        value = _dotted(cfg, name)
        if value is None:
            continue
        if isinstance(low, float) or isinstance(high, float):
            check_float(name, value, low, high)
        else:
            check_int(name, value, low, high)


def _dotted(cfg: Any, name: str) -> Any:
    for part in name.split("."):
        if not hasattr(cfg, "get"):
            return None
        cfg = cfg.get(part)
    return cfg
