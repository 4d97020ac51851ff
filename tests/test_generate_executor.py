"""The local process pool: results from every item, and a worker that dies hard costs only its own item."""

from __future__ import annotations

import os

from s2i_core.registry import load_registry


def _square_or_die(item: int) -> int:
    if item == 3:
        os._exit(9)  # what a decoder segfault looks like to the pool
    return item * item


def _crashed(item: int) -> str:
    return f"crashed:{item}"


def test_local_pool_isolates_the_item_that_kills_its_worker():
    executor = load_registry().build("executor", {"impl": "local", "workers": 2})
    results = list(executor.imap_unordered(_square_or_die, range(8), fn_crash=_crashed))
    executor.close()
    assert sorted(map(str, results)) == sorted(map(str, [0, 1, 4, "crashed:3", 16, 25, 36, 49]))


def test_in_process_mode_keeps_order():
    executor = load_registry().build("executor", {"impl": "local", "workers": 0})
    assert list(executor.imap_unordered(abs, [-2, 1, -3])) == [2, 1, 3]
