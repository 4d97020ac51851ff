"""Every hook has a docs section with its signature and a runnable example (docs/hooks.md)."""

from __future__ import annotations

import inspect
import json
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


def new_family_module(monkeypatch) -> types.ModuleType:
    """The whole adapter module docs/hooks.md shows for a new model family, as a module of its own."""
    text = section("s2i_lmm_adapters")
    match = re.search(r"^### A new model family.*?```python\n(.*?)```", text, flags=re.S | re.M)
    assert match, "the s2i_lmm_adapters section must show a new family's whole module"
    module = types.ModuleType("docs_new_family")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(match.group(1), "docs/hooks.md:new_family", "exec"), module.__dict__)
    return module


def test_the_new_family_on_the_page_meets_the_contract_trains_and_scores(tmp_path, monkeypatch):
    """Adding a family is one module: the page's module, registered beside the built-ins, passes the adapter
    checklist, trains through both stages of the recipe, and its tuned folder scores videos."""
    import s2i_plugins.lmms
    from conftest import two_clip_instructions

    from s2i_core.lmm.checklist import check_adapter
    from s2i_core.lmm.inference import load_scorer
    from lmm_helpers import compose, tiny_overrides
    from s2i_core.lmm.trainer import train

    module = new_family_module(monkeypatch)
    registry = load_registry(load_entry_points=False, extra=[("lmms", s2i_plugins.lmms), ("video_llava", module)])
    (name,) = [n for n, e in registry.entries("lmm_adapter").items() if e.provider.plugin == "video_llava"]
    data = two_clip_instructions(tmp_path)
    check_adapter(registry, name, f"{tmp_path}/in/a.mp4")

    out = tmp_path / "run"
    steps = ["stage1.max_steps=3", "stage2.max_steps=3", "stage1.lr=5e-3", "stage2.lr=5e-3", "stage2.lora_r=4"]
    cfg = compose("train", tiny_overrides(name) + steps + [f"data={data}", f"output={out}"], registry)
    summary = train(cfg, str(out), registry=registry)
    assert summary["lmm"] == name and set(summary["stages"]) == {1, 2}
    for stage in summary["stages"].values():
        assert stage["loss_after"] < stage["loss_before"]
    assert json.loads((out / "model" / "s2i_lmm.json").read_text())["impl"] == name

    scorer = load_scorer(summary["model_dir"], device="cpu", registry=registry)
    scores = scorer.score([f"{tmp_path}/in/a.mp4", f"{tmp_path}/in/b.mp4"])
    assert len(scores) == 2 and all(0 <= s <= 1 for s in scores)
