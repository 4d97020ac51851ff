"""Ray executor (extra `ray`): the same per-video function as the local pool, as Ray tasks on a cluster.

`executor=ray executor.address=auto` joins a running cluster (`ray start --head` / KubeRay); an empty address
starts a local Ray. Ray schedules, retries lost tasks on other nodes (`max_retries`) and moves results back;
the driver alone appends to the scores journal, so resume and byte-identical outputs work as with `local`.
Workers must see the videos at the same path (shared file system) and have this package installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from s2i_core.errors import ConfigError
from s2i_core.options import between
from s2i_core.specs import ExecutorSpec


@dataclass
class RayConfig:
    address: str = ""  # "" starts a local Ray; "auto" or ray://host:10001 joins a cluster
    num_cpus_per_task: float = between(0.01, None, default=1.0)
    max_in_flight: int = between(0, None, default=0)  # 0: 2 x the cluster's CPUs
    max_retries: int = between(0, None, default=2)  # re-run a task whose worker or node died
    local_cpus: int = between(0, None, default=0)  # CPUs for a local Ray started here (0: all)


class RayExecutor:
    def __init__(self, cfg: RayConfig):
        try:
            import ray
        except ImportError as exc:
            raise ConfigError("executor=ray needs Ray: pip install 'score2instruct[ray]'") from exc
        self.cfg, self._ray = cfg, ray
        if not ray.is_initialized():
            if cfg.address:
                kwargs = {"address": cfg.address}
            else:
                # A local Ray's workers import what this process can (plugin modules registered in code
                # included): they get its module search path.
                import os
                import sys

                path = os.pathsep.join(p for p in sys.path if p)
                kwargs = {"num_cpus": cfg.local_cpus or None, "runtime_env": {"env_vars": {"PYTHONPATH": path}}}
            ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1) // cfg.num_cpus_per_task))

    def imap_unordered(self, fn: Callable, items: Iterable, fn_crash: Callable | None = None) -> Iterator:
        ray = self._ray
        task = ray.remote(num_cpus=self.cfg.num_cpus_per_task, max_retries=self.cfg.max_retries)(fn)
        todo = list(reversed(list(items)))
        window = self.cfg.max_in_flight or 2 * self.workers
        inflight: dict = {}
        while todo or inflight:
            while todo and len(inflight) < window:
                item = todo.pop()
                inflight[task.remote(item)] = item
            done, _ = ray.wait(list(inflight), num_returns=1)
            for ref in done:
                item = inflight.pop(ref)
                try:
                    yield ray.get(ref)
                except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as exc:
                    if fn_crash is None:
                        raise RuntimeError(f"Ray task for {item!r} failed: {exc}") from exc
                    yield fn_crash(item)

    def close(self) -> None:
        if self._ray.is_initialized() and not self.cfg.address:
            self._ray.shutdown()


SPECS = (ExecutorSpec("ray", RayExecutor, RayConfig, "Ray tasks on a local or remote cluster (extra: ray)"),)
