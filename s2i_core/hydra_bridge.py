"""Config groups generated from registered specs, so a new plugin needs no YAML file.

Singular groups (`level_mapper=quantile`) hold one option node `{impl: <name>, ...schema fields}`.
Plural groups (`scorers=[noise,sharpness]`) place each selected node under `<group>.<name>`; the generated
option `default` selects every spec marked `default=True` (`scorers=[default,my_scorer]` adds one).
Values are type-checked by OmegaConf against the plugin's schema dataclass.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hydra.core.config_store import ConfigStore

from s2i_core.registry import Registry
from s2i_core.specs import KINDS, Spec


def option_schema(spec: Spec) -> type:
    """The spec's schema dataclass plus an `impl` field that carries the registry key."""
    return dataclasses.make_dataclass(
        f"{spec.name}_{spec.config.__name__}",
        [("impl", str, dataclasses.field(default=spec.name))],
        bases=(spec.config,),
    )


def register_configs(registry: Registry, store: ConfigStore | None = None) -> ConfigStore:
    """The primary configs' schemas (`<command>_schema`, s2i_core/schemas) and one group per plugin kind."""
    from s2i_core.schemas import register_schemas

    store = store or ConfigStore.instance()
    register_schemas(store)
    for kind in KINDS:
        entries = registry.entries(kind.name)
        defaults: dict[str, Any] = {}
        for name, entry in entries.items():
            node = option_schema(entry.spec)
            if kind.multi:
                store.store(group=kind.group, name=name, node=node, package=f"{kind.group}.{name}",
                            provider=entry.provider.plugin)
                if entry.spec.default:
                    defaults[name] = node
            else:
                store.store(group=kind.group, name=name, node=node, provider=entry.provider.plugin)
        if kind.multi:
            # `none` lets a primary config start from an empty selection.
            store.store(group=kind.group, name="default", node=defaults, package=kind.group)
            store.store(group=kind.group, name="none", node={}, package=kind.group)
    return store


def samples_dir() -> str:
    """The sample videos shipped inside the package (a few seconds of real footage, several distortions)."""
    from importlib.resources import files

    return str(files("s2i_core") / "samples")


def register_resolvers() -> None:
    from omegaconf import OmegaConf

    OmegaConf.register_new_resolver("s2i_samples", samples_dir, replace=True)


def job_output_dir(cfg: Any = None) -> str:
    """Where this job writes: Hydra's per-job folder (distinct for every multirun job), else `cfg.output`."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return HydraConfig.get().runtime.output_dir
    if cfg is None or "output" not in cfg:
        raise ValueError("no Hydra job is running and the config has no 'output'")
    return str(cfg.output)


def compose_config(name: str, overrides: list[str], registry: Registry):
    """The config `s2i <name> <overrides>` runs with (Hydra's compose API, plugin groups registered from
    `registry`). Inside a running Hydra job the app's search path and config
    store are reused: a multirun must not be torn down by a nested initialisation."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name=name, overrides=overrides)
    register_resolvers()
    register_configs(registry)
    with initialize_config_module("s2i_conf", version_base=None):
        return compose(config_name=name, overrides=overrides)
