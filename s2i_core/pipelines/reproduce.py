"""Small-scale reproduction on a CPU: ladders of real clips -> SIG -> tiny LMM (untrained / II / I + II)."""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig

from s2i_core.hydra_bridge import job_output_dir


def run(cfg: DictConfig, registry) -> int:
    from rich.console import Console
    from rich.markdown import Markdown

    from s2i_core.bench import reproduce

    start = time.monotonic()
    out = Path(job_output_dir(cfg))
    results = reproduce.run(cfg, out, registry)
    Console().print(Markdown(reproduce.markdown(results)))
    print(f"{time.monotonic() - start:.0f} s -> {out / 'results.md'}")
    return 0
