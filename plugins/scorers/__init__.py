"""Built-in scorers: a weight-free one per quality dimension, and optional learned ones (default off)."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_scorers():
    from s2i_plugins.scorers import detail, layout, learned, temporal, tone

    for module in (detail, temporal, tone, layout, learned):
        yield from module.SPECS
