"""Built-in executors: `local` (process pool, the default) and `ray` (clusters; extra `ray`)."""

from __future__ import annotations

from s2i_core.hookspecs import hookimpl


@hookimpl
def s2i_executors():
    from s2i_plugins.executors import local, ray_executor

    yield from local.SPECS
    yield from ray_executor.SPECS
