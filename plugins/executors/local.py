"""Local process pool: N worker processes, each decoding and scoring one video at a time.

Executor protocol (also what a third-party executor implements):
  `ex.imap_unordered(fn, items)` yields `fn(item)` results as they finish, in any order; `fn` is a top-level
  function and items are picklable. `ex.close()` releases workers. `ex.workers` is the parallelism.
Workers start with 'spawn' (or 'forkserver'): torch and decoder threads do not survive fork reliably. Each worker
rebuilds the driver's registry from its recipe and builds the scorers on first use (see s2i_core.sig.work); spawned
workers get the driver's sys.path, so plugin modules registered in code import there. A worker that dies hard (a decoder
segfault) breaks the pool; the in-flight items are then retried one at a time on a fresh pool, so only the item
that kills a worker is reported, as `fn_crash(item)`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from s2i_core.errors import ConfigError
from s2i_core.options import between
from s2i_core.specs import ExecutorSpec


@dataclass
class LocalConfig:
    workers: int = between(-1, None, default=2)  # 0 runs in this process (debugging); -1 uses every CPU
    start_method: str = "spawn"  # spawn | forkserver
    threads_per_worker: int = between(1, None, default=1)  # OMP/torch threads in each worker
    max_tasks_per_worker: int = between(0, None, default=0)  # recycle a worker after this many videos (0: never)


def _init_worker(parent: int, threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass

    def watch() -> None:
        # A parent killed with SIGKILL cannot tell its workers; they leave on their own instead of lingering.
        while True:
            if os.getppid() != parent:
                os._exit(1)
            threading.Event().wait(1.0)

    threading.Thread(target=watch, daemon=True).start()


class LocalExecutor:
    def __init__(self, cfg: LocalConfig):
        if cfg.start_method not in ("spawn", "forkserver"):
            raise ConfigError(f"executor.start_method={cfg.start_method!r}: use spawn or forkserver "
                              "(fork is unsafe with torch and decoder threads)")
        self.cfg = cfg
        self.workers = (os.cpu_count() or 1) if cfg.workers < 0 else cfg.workers
        self._pool = None

    def _new_pool(self, workers: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(workers, mp_context=mp.get_context(self.cfg.start_method),
                                   initializer=_init_worker, initargs=(os.getpid(), self.cfg.threads_per_worker),
                                   max_tasks_per_child=self.cfg.max_tasks_per_worker or None)

    def imap_unordered(self, fn: Callable, items: Iterable, fn_crash: Callable | None = None) -> Iterator:
        items = list(items)
        if self.workers == 0:
            yield from map(fn, items)
            return
        suspects: list = []
        yield from self._run(fn, items, self.workers, suspects)
        # Items in flight when a worker died: one at a time, so the culprit is the one that breaks again.
        for item in suspects:
            crashed: list = []
            yield from self._run(fn, [item], 1, crashed)
            if crashed:
                if fn_crash is None:
                    raise RuntimeError(f"a worker process died while processing {item!r}")
                yield fn_crash(item)

    def _run(self, fn: Callable, items: list, workers: int, suspects: list) -> Iterator:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = list(reversed(items))
        window = 2 * workers  # bounded submission: 100K videos never sit in the queue at once
        while todo:
            pool, inflight, broken = self._new_pool(workers), {}, False
            try:
                while (todo and not broken) or inflight:
                    while todo and not broken and len(inflight) < window:
                        item = todo.pop()
                        try:
                            inflight[pool.submit(fn, item)] = item
                        except BrokenProcessPool:
                            todo.append(item)
                            broken = True
                    if not inflight:
                        break
                    done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for fut in done:
                        item = inflight.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool:
                            suspects.append(item)
                            broken = True
                            continue
                        yield result
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        pass


SPECS = (ExecutorSpec("local", LocalExecutor, LocalConfig, "local process pool (spawn), one decode per video"),)
