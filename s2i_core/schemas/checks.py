"""Overrides checked against the schema before Hydra composes, as strictly as a YAML file is read.

OmegaConf converts what it can (`progress=1` or `progress=yes` become true, `seed=1.0` becomes 1); a command
line value must already have the option's type, and a wrong one gets the same one-line message as any other
refused option (`seed='abc': must be a whole number`). Plugin options are typed by their plugins' schemas."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from s2i_core.options import check_bool, check_float, check_int


def field_type(schema: type, dotted: str) -> Any:
    """The declared type of `dotted` in `schema` (nested dataclasses followed); None when it is not a typed
    field (unknown, a plugin group, a free dict)."""
    hint: Any = schema
    for part in dotted.split("."):
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return None
        hints = typing.get_type_hints(hint)
        if part not in hints:
            return None
        hint = hints[part]
    return hint


def check_value(name: str, hint: Any, value: Any) -> None:
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and type(None) in args:  # Optional[X]
        if value is None:
            return
        hint = next(a for a in args if a is not type(None))
    if hint is bool:
        check_bool(name, value)
    elif hint is int:
        check_int(name, value)
    elif hint is float:
        check_float(name, value)


def check_override_types(schema: type, overrides: list[str]) -> None:
    """Each `key=value` override whose key is a typed option of `schema` has that option's type."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_delete() or override.is_sweep_override() or override.package:
            continue
        hint = field_type(schema, override.key_or_group)
        if hint is None:
            continue
        value = override.value()
        if isinstance(value, str) and value.startswith("${"):
            continue  # an interpolation: its value is known only when resolved
        check_value(override.key_or_group, hint, value)
