"""Registration hooks. Each returns an iterable of spec records (see `s2i_core.specs`); docs in docs/hooks.md."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from s2i_core import specs

PROJECT = "s2i"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def s2i_scorers() -> Iterable[specs.ScorerSpec]:
    """Quality scorers: clip -> DimensionScore(score in [0, 1], raw, unit)."""


@hookspec
def s2i_level_mappers() -> Iterable[specs.LevelMapperSpec]:
    """Maps scores in [0, 1] to the five level words."""


@hookspec
def s2i_cot_templates() -> Iterable[specs.CotTemplateSpec]:
    """Turn dimension levels into group/overall ratings and a justification text."""


@hookspec
def s2i_expanders() -> Iterable[specs.ExpanderSpec]:
    """Turn a record into question-answer pairs."""


@hookspec
def s2i_rewriters() -> Iterable[specs.RewriterSpec]:
    """Rewrite a justification for variety while keeping every level word."""


@hookspec
def s2i_writers() -> Iterable[specs.WriterSpec]:
    """Write finished records into an output format (instruction files, Parquet, ...)."""


@hookspec
def s2i_executors() -> Iterable[specs.ExecutorSpec]:
    """Run per-video work: in process, on a local pool, on a cluster."""


@hookspec
def s2i_lmm_adapters() -> Iterable[specs.LmmAdapterSpec]:
    """Video LMM families: loading, preprocessing, parameter groups, LoRA targets."""


@hookspec
def s2i_judges() -> Iterable[specs.JudgeSpec]:
    """Judge free-form quality answers against references."""


@hookspec
def s2i_datasets() -> Iterable[specs.DatasetSpec]:
    """Benchmark dataset layouts: read labels and locate videos."""
