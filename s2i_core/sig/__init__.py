"""SIG — score-based instruction generation: records, levels, resume journal, writers, report, S2I-Bench.

Public entry points for other pipelines:
- `s2i_core.pipelines.generate.generate(cfg, registry, output_dir)` runs the whole generation and returns a summary;
- `s2i_core.sig.bench_set.build_s2i_bench(records, n=400, seed=0)` builds the open-ended S2I-Bench questions;
- `s2i_core.sig.records.validate_record(record)` checks one record against the public contract.
"""
