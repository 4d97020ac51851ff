"""Fault injection for the resume tests: a real SIGKILL right after a given training step.

Python imports `sitecustomize` at start-up from the first folder on its path that holds one, so a process
started with this folder first on PYTHONPATH and `S2I_TEST_KILL_AT=<stage>:<step>` in its environment (the
`kill_env` helper of tests/conftest.py) kills itself once `step` of training stage `stage` is done: logged,
checkpointed and counted by the progress bar, the moment the trainer's own fault injection used to pick. Every
rank of a torchrun job inherits the environment, so each dies at the same step, as on a lost node. It lives
with the tests so the installed package carries no fault injection; any other process is left untouched.
"""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager

TRAINER = "s2i_core.lmm.stage_log"  # where the trainer's progress bar lives


def _kill_after(stage: int, step: int):
    def patch(trainer) -> None:
        progress = trainer.progress  # AttributeError here (the trainer renamed it) fails the test loudly

        def killing_progress(label: str, total: int, start: int, show: bool):
            bar = progress(label, total, start, show)
            if label != f"stage {stage}":
                return bar

            @contextmanager
            def wrapped():
                done = [start]
                with bar as advance:
                    def advance_then_maybe_die(*args):
                        advance(*args)
                        done[0] += 1
                        if done[0] == step:
                            os.kill(os.getpid(), signal.SIGKILL)  # no clean-up, as an OOM kill or node loss

                    yield advance_then_maybe_die

            return wrapped()

        trainer.progress = killing_progress

    return patch


def _install(patch) -> None:
    import importlib.abc
    import importlib.machinery
    import sys

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != TRAINER:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module

            def exec_and_patch(module):
                exec_module(module)
                patch(module)

            spec.loader.exec_module = exec_and_patch
            return spec

    sys.meta_path.insert(0, Finder())


if os.environ.get("S2I_TEST_KILL_AT"):
    _stage, _step = (int(v) for v in os.environ["S2I_TEST_KILL_AT"].split(":"))
    _install(_kill_after(_stage, _step))
