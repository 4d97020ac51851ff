"""Built-in level mappers, chain-of-thought templates, QA expanders, rewriters and dataset writers."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_level_mappers():
    from s2i_plugins.templates import levels

    yield from levels.SPECS


@hookimpl
def s2i_cot_templates():
    from s2i_plugins.templates import flat, hierarchical

    yield from hierarchical.SPECS
    yield from flat.SPECS


@hookimpl
def s2i_expanders():
    from s2i_plugins.templates import expanders

    yield from expanders.SPECS


@hookimpl
def s2i_rewriters():
    from s2i_plugins.templates import rewriters

    yield from rewriters.SPECS


@hookimpl
def s2i_writers():
    from s2i_plugins.templates import writers

    yield from writers.SPECS
