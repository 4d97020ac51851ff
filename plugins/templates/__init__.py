"""Built-in level mappers and chain-of-thought templates."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_level_mappers():
    from s2i_plugins.templates import levels

    yield from levels.SPECS


@hookimpl
def s2i_cot_templates():
    from s2i_plugins.templates import flat

    yield from flat.SPECS
