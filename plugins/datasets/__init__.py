"""Built-in benchmark dataset layouts (KoNViD-1k, LIVE-VQC, LSVQ, YouTube-UGC, MaxWell, generic CSV)."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_datasets():
    from s2i_plugins.datasets import layouts

    yield from layouts.SPECS
