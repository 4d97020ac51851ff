"""Benchmarks: correlation metrics, dataset readers, the scoring and justification benchmarks, summaries."""
