"""Every shipped config composes; every registered plugin is selectable; overrides are type-checked."""

from __future__ import annotations

import dataclasses
from importlib.resources import files

import pytest
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from s2i_core.cli import hydra_commands
from s2i_core.hydra_bridge import register_configs, register_resolvers
from s2i_core.registry import load_registry
from s2i_core.specs import KINDS

REGISTRY = load_registry()
register_resolvers()
register_configs(REGISTRY)
CONF = files("s2i_conf")
EXPERIMENTS = sorted(p.name.removesuffix(".yaml") for p in (CONF / "experiment").iterdir()
                     if p.name.endswith(".yaml")) if (CONF / "experiment").is_dir() else []


def composed(command: str, overrides: list[str] = ()):
    # the ConfigStore is process-global: other test modules register the groups of a smaller registry
    register_configs(REGISTRY)
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="s2i_conf", version_base=None):
        return compose(config_name=command, overrides=list(overrides), return_hydra_config=False)


@pytest.mark.parametrize("command", hydra_commands())
def test_every_primary_config_composes_and_resolves(command):
    cfg = composed(command)
    give_mandatory_values(cfg)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(resolved, dict) and resolved
    for kind in KINDS:  # every selected plugin node builds a typed config
        node = cfg.get(kind.group)
        if node is None:
            continue
        for item in (node.values() if kind.multi else [node]):
            REGISTRY.config(kind.name, item)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_with_some_command(experiment):
    failures = {}
    for command in hydra_commands():
        try:
            composed(command, [f"experiment={experiment}"])  # a command that has the group
            return
        except Exception as exc:  # noqa: BLE001 - collected for the message
            failures[command] = repr(exc)
    pytest.fail(f"experiment {experiment!r} composes with no command: {failures}")


def give_mandatory_values(node) -> None:
    """Mandatory (`???`) values are the user's to give: fill them as a command line would."""
    for key in list(node.keys()):
        if OmegaConf.is_missing(node, key):
            node[key] = "given-on-the-command-line"
        elif OmegaConf.is_dict(node._get_node(key)) and not OmegaConf.is_interpolation(node, key):
            give_mandatory_values(node[key])


def _commands_with_group(group: str) -> list[str]:
    return [c for c in hydra_commands() if group in composed(c)]


@pytest.mark.parametrize("kind", [k for k in KINDS if REGISTRY.entries(k.name)], ids=lambda k: k.group)
def test_every_registered_spec_is_selectable_from_the_command_line(kind):
    commands = _commands_with_group(kind.group)
    assert commands, f"no command's config has a '{kind.group}' group, so {kind.name} plugins cannot be chosen"
    for name in REGISTRY.names(kind.name):
        value = f"[{name}]" if kind.multi else name
        cfg = composed(commands[0], [f"{kind.group}={value}"])
        node = cfg[kind.group][name] if kind.multi else cfg[kind.group]
        assert node.impl == name
        REGISTRY.config(kind.name, node)


def test_plural_group_default_and_additions():
    scorer_names = [n for n, e in REGISTRY.entries("scorer").items() if e.spec.default]
    cfg = composed("generate")
    assert sorted(cfg.scorers) == sorted(scorer_names)
    some = scorer_names[:2]
    cfg = composed("generate", [f"scorers=[{','.join(some)}]"])
    assert sorted(cfg.scorers) == sorted(some)


def test_overrides_are_type_checked_against_the_plugin_schema():
    name, field = next((n, f.name) for n, e in REGISTRY.entries("scorer").items()
                       for f in dataclasses.fields(e.spec.config) if f.type in (float, "float"))
    with pytest.raises(Exception) as info:
        composed("generate", [f"scorers=[{name}]", f"scorers.{name}.{field}=abc"])
    assert "abc" in str(info.value.__cause__) and "float" in str(info.value.__cause__).lower()
    with pytest.raises(Exception) as info:
        composed("generate", [f"scorers=[{name}]", f"scorers.{name}.not_an_option=1"])
    assert "not_an_option" in str(info.value.__cause__)
