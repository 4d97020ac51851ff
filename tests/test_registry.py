"""The plugin registry: one source of names, loud errors, broken third-party plugins isolated."""

from __future__ import annotations

import sys
import textwrap
import types
import warnings
from dataclasses import dataclass

import pytest

from s2i_core import hookimpl
from s2i_core.errors import ConfigError, DuplicateNameError, PluginLoadError, UnknownNameError
from s2i_core.registry import PluginWarning, load_registry
from s2i_core.scoring import DimensionScore
from s2i_core.specs import KINDS, ExpanderSpec, RewriterSpec, ScorerSpec

from conftest import run_s2i


@dataclass
class ThresholdConfig:
    threshold: float = 0.5


class Fixed:
    dimension = "noise"

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self, clip) -> DimensionScore:
        return DimensionScore(self.cfg.threshold, self.cfg.threshold, "")


def scorer_plugin(*names: str) -> object:
    class Plugin:
        @hookimpl
        def s2i_scorers(self):
            for name in names:
                yield ScorerSpec(name, Fixed, ThresholdConfig, "test scorer", dimension="noise")

    return Plugin()


def test_builtin_plugins_come_from_the_entry_point_group():
    registry = load_registry()
    dists = {provider.dist for provider, _ in registry.plugins()}
    assert "score2instruct" in dists
    assert registry.entries("scorer"), "built-in scorers must register through the s2i entry points"
    for entry in registry.entries("scorer").values():
        assert entry.provider.dist == "score2instruct"


def test_duplicate_name_names_both_plugins():
    registry = load_registry(load_entry_points=False,
                             extra=[("first_pkg", scorer_plugin("grain")), ("second_pkg", scorer_plugin("grain"))])
    with pytest.raises(DuplicateNameError) as info:
        registry.entries("scorer")
    assert "first_pkg" in str(info.value) and "second_pkg" in str(info.value) and "'grain'" in str(info.value)


def test_duplicate_of_a_builtin_name_is_an_error():
    builtin = next(iter(load_registry().entries("scorer")))
    registry = load_registry(extra=[("intruder", scorer_plugin(builtin))])
    with pytest.raises(DuplicateNameError, match="intruder"):
        registry.entries("scorer")


def test_unknown_name_lists_installed_and_suggests():
    registry = load_registry(load_entry_points=False, extra=[("p", scorer_plugin("noise_sigma", "sharpness"))])
    with pytest.raises(UnknownNameError) as info:
        registry.get("scorer", "noise_sigm")
    message = str(info.value)
    assert "installed: noise_sigma, sharpness" in message
    assert "did you mean 'noise_sigma'" in message


def test_config_is_typed_and_unknown_options_are_named():
    registry = load_registry(load_entry_points=False, extra=[("p", scorer_plugin("grain"))])
    scorer = registry.build("scorer", {"impl": "grain", "threshold": 0.25})
    assert isinstance(scorer, Fixed) and scorer.cfg == ThresholdConfig(0.25)
    with pytest.raises(ConfigError, match="threshold"):
        registry.build("scorer", {"impl": "grain", "treshold": 0.25})


class NotAnExpander:  # a rewriter's method under an expander's name
    def __init__(self, cfg):
        pass

    def rewrite(self, text, rng):
        return text


def test_a_built_object_missing_its_protocol_methods_is_refused_naming_plugin_and_method():
    class Plugin:
        @hookimpl
        def s2i_expanders(self):
            yield ExpanderSpec("mixed_up", NotAnExpander)

        @hookimpl
        def s2i_rewriters(self):
            yield RewriterSpec("fine", NotAnExpander)

    registry = load_registry(load_entry_points=False, extra=[("mixup_pkg", Plugin())])
    with pytest.raises(PluginLoadError, match=r"expander 'mixed_up' \(plugin mixup_pkg.*without expand"):
        registry.build("expander", "mixed_up")
    assert isinstance(registry.build("rewriter", "fine"), NotAnExpander)


def test_misspelled_hook_is_reported_and_skipped():
    class Misspelled:
        @hookimpl
        def s2i_scorer(self):  # singular: no such hook
            return []

    with pytest.warns(PluginWarning, match="s2i_scorer"):
        registry = load_registry(load_entry_points=False, extra=[("typo_pkg", Misspelled())])
    assert [b.provider.plugin for b in registry.broken] == ["typo_pkg"]


@pytest.mark.parametrize("bad", [
    ScorerSpec("Bad Name", Fixed, ThresholdConfig),
    ScorerSpec("default", Fixed, ThresholdConfig),
    ScorerSpec("needs_value", Fixed, type("C", (), {"__annotations__": {"x": int}})),
])
def test_malformed_specs_are_rejected_naming_the_plugin(bad):
    class Plugin:
        @hookimpl
        def s2i_scorers(self):
            return [bad]

    registry = load_registry(load_entry_points=False, extra=[("sloppy_pkg", Plugin())])
    with pytest.raises(PluginLoadError, match="sloppy_pkg"):
        registry.entries("scorer")


def test_every_kind_has_a_hook():
    from s2i_core import hookspecs

    for kind in KINDS:
        assert callable(getattr(hookspecs, kind.hook)), kind.hook


def _fake_distribution(root, dist: str, module: str, source: str) -> None:
    """An installed distribution as importlib.metadata sees it: a module plus a dist-info folder."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[s2i]\n{module} = {module}\n")


def test_broken_third_party_plugin_is_warned_skipped_and_fails_only_when_selected(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "s2i-broken", "s2i_broken_plugin",
                       "import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning, match="s2i-broken"):
        registry = load_registry()
    assert registry.entries("scorer")  # built-ins still load
    [broken] = registry.broken
    assert broken.provider.dist == "s2i-broken" and "a_module_that_does_not_exist" in broken.error
    with pytest.raises(UnknownNameError, match="s2i-broken.*failed to load"):
        registry.get("scorer", "broken_scorer")

    env = {"PYTHONPATH": str(tmp_path)}
    listing = run_s2i("plugins", env=env, check=True)
    assert "s2i-broken" in listing.stdout and "failed to load" in listing.stdout
    selected = run_s2i("generate", "scorers=[broken_scorer]", f"output={tmp_path / 'out'}", env=env)
    assert selected.returncode == 2
    assert "unknown scorer 'broken_scorer'" in selected.stderr and "a_module_that_does_not_exist" in selected.stderr


def test_two_selected_scorers_for_one_dimension_is_an_error_naming_both():
    from s2i_core.scoring import check_one_scorer_per_dimension

    registry = load_registry(extra=[("grain_pkg", scorer_plugin("grain"))])
    nodes = {"noise": {"impl": "noise"}, "grain": {"impl": "grain"}, "sharpness": {"impl": "sharpness"}}
    with pytest.raises(ConfigError) as info:
        check_one_scorer_per_dimension(nodes, registry)
    message = str(info.value)
    assert "'noise'" in message and "'grain'" in message and "grain_pkg" in message
    assert "dimension 'noise'" in message
    check_one_scorer_per_dimension({k: v for k, v in nodes.items() if k != "noise"}, registry)  # one each: fine
