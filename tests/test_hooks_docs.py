"""Every hook has a docs section with its signature and a runnable example (docs/hooks.md)."""

from __future__ import annotations

import inspect
import re
import sys
import types

import pytest

from s2i_core import hookspecs
from s2i_core.registry import load_registry
from s2i_core.specs import KINDS

from conftest import REPO

DOCS = (REPO / "docs" / "hooks.md").read_text()
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("s2i_")]


def section(hook: str) -> str:
    match = re.search(rf"^## `{hook}`\n(.*?)(?=^## |\Z)", DOCS, flags=re.S | re.M)
    assert match, f"docs/hooks.md has no section '## `{hook}`'"
    return match.group(1)


def test_hooks_are_the_kinds():
    assert sorted(HOOKS) == sorted(k.hook for k in KINDS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_signature_and_runnable_example(hook, monkeypatch):
    text = section(hook)
    assert f"{hook}() -> Iterable[" in text, "section must show the hook's signature"
    examples = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert examples, "section needs a ```python example"
    module = types.ModuleType(f"docs_example_{hook}")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(examples[0], f"docs/hooks.md:{hook}", "exec"), module.__dict__)
    assert hasattr(module, hook), f"the example must define {hook}()"
    kind = next(k for k in KINDS if k.hook == hook)
    registry = load_registry(extra=[("docs_example", module)])
    mine = [n for n, e in registry.entries(kind.name).items() if e.provider.plugin == "docs_example"]
    assert mine, "the example must yield at least one spec"
    for name in mine:
        registry.build(kind.name, name)
