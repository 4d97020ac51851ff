"""Built-in video-LMM adapters: each family module yields its own specs (`SPECS`) and owns its chat template,
preprocessing and batch fields; docs/hooks.md shows a whole module for a new family."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_lmm_adapters():
    from s2i_plugins.lmms import internvl, llava, qwen

    for module in (qwen, llava, internvl):
        yield from module.SPECS
