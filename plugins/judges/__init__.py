"""Built-in judges: `levels` (deterministic, no model) and `llm` (OpenAI-compatible endpoint)."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_judges():
    from s2i_plugins.judges import levels, llm

    yield from levels.SPECS
    yield from llm.SPECS
