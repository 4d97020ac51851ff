"""Built-in weight-free scorers: one per quality dimension."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_scorers():
    from s2i_plugins.scorers import basic

    yield from basic.SPECS
