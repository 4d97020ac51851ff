"""S2I-Bench question set from SIG records of held-out videos (the justification benchmark's input).

`build_s2i_bench(records, n=400, seed=0)` returns n open-ended questions with reference answers covering every
scored dimension and the overall judgement, round-robin over targets. The question/reference logic lives with
the benchmark (`s2i_core.bench.s2ibench`, which judges answers against it); this is the SIG-side entry point
that turns a generation output into that set.
"""

from __future__ import annotations


def build_s2i_bench(records: list[dict], n: int = 400, seed: int = 0) -> list[dict]:
    from s2i_core.bench.s2ibench import build

    return build(records, count=n, seed=seed)
