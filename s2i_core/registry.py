"""The plugin manager factory and the registry view over it: the project's only registry."""

from __future__ import annotations

import importlib.metadata as md
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import pluggy

from s2i_core import hookspecs
from s2i_core.errors import ConfigError, DuplicateNameError, PluginLoadError, UnknownNameError
from s2i_core.protocols import check_built
from s2i_core.specs import KIND_BY_NAME, KINDS, Spec, check_spec

if TYPE_CHECKING:
    from s2i_core.lmm.adapter import LmmAdapter
    from s2i_core.protocols import (CotTemplate, Dataset, Executor, Expander, Judge, LevelMapper, Rewriter,
                                    Scorer, Writer)


class PluginWarning(UserWarning):
    """A third-party plugin was skipped (it failed to import or declares a hook that does not exist)."""


@dataclass(frozen=True)
class Provider:
    plugin: str
    dist: str = "(registered in code)"
    version: str = ""

    def __str__(self) -> str:
        return f"{self.plugin} [{self.dist}{' ' + self.version if self.version else ''}]"


@dataclass(frozen=True)
class Entry:
    spec: Spec
    provider: Provider


@dataclass(frozen=True)
class BrokenPlugin:
    provider: Provider
    error: str


@dataclass(frozen=True)
class Recipe:
    """How to build a registry again in another process (an executor's worker): whether the entry points were
    loaded, and the plugins registered in code, as (plugin name, importable module name) pairs. Picklable and
    hashable, so workers can cache the registry they rebuild from it."""

    entry_points: bool = True
    modules: tuple[tuple[str, str], ...] = ()

    def load(self) -> "Registry":
        import importlib

        extra = []
        for name, module in self.modules:
            try:
                extra.append((name, importlib.import_module(module)))
            except ImportError as exc:
                raise PluginLoadError(f"plugin {name!r} (module {module!r}), registered in code in the parent "
                                      f"process, cannot be imported here: {exc}") from exc
        return load_registry(load_entry_points=self.entry_points, extra=extra)


@dataclass
class Registry:
    pm: pluggy.PluginManager
    providers: dict[str, Provider] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    entry_points: bool = True
    in_code: tuple[tuple[str, object], ...] = ()  # plugins registered in code: (name, object)
    _cache: dict[str, dict[str, Entry]] = field(default_factory=dict, repr=False)

    def entries(self, kind: str) -> dict[str, Entry]:
        if kind not in self._cache:
            self._cache[kind] = self._collect(kind)
        return self._cache[kind]

    def _collect(self, kind_name: str) -> dict[str, Entry]:
        kind = KIND_BY_NAME[kind_name]
        found: dict[str, Entry] = {}
        for impl in getattr(self.pm.hook, kind.hook).get_hookimpls():
            provider = self.providers.get(impl.plugin_name, Provider(impl.plugin_name))
            try:
                yielded = list(impl.function() or ())
            except Exception as exc:
                raise PluginLoadError(f"plugin {provider} failed in {kind.hook}(): {exc!r}") from exc
            for spec in yielded:
                check_spec(kind, spec, str(provider))
                if spec.name in found:
                    raise DuplicateNameError(kind.name.replace("_", " "), spec.name,
                                             [str(found[spec.name].provider), str(provider)])
                found[spec.name] = Entry(spec, provider)
        return dict(sorted(found.items()))

    def names(self, kind: str) -> list[str]:
        return list(self.entries(kind))

    def get(self, kind: str, name: str) -> Spec:
        entries = self.entries(kind)
        if name not in entries:
            hint = "".join(f"\nplugin {b.provider} failed to load and may provide it: {b.error}"
                           for b in self.broken)
            raise UnknownNameError(kind.replace("_", " "), name, entries, hint=hint.strip())
        return entries[name].spec

    def config(self, kind: str, node: Any) -> Any:
        """The typed config object for a Hydra node `{impl: name, ...options}` (or a bare name)."""
        name, values = _split_node(node)
        spec = self.get(kind, name)
        try:
            config = spec.config(**values)
        except TypeError as exc:
            import dataclasses

            known = [f.name for f in dataclasses.fields(spec.config)]
            raise ConfigError(f"{kind} {name!r}: {exc}; its options are: {', '.join(known) or '(none)'}") from exc
        from s2i_core.options import check_plugin_config

        group = KIND_BY_NAME[kind].group if kind in KIND_BY_NAME else kind
        check_plugin_config(f"{group}.{name}" if KIND_BY_NAME.get(kind) and KIND_BY_NAME[kind].multi else group,
                            config)
        return config

    # One overload per kind, so `build("scorer", node)` is a Scorer to a type checker.
    @overload
    def build(self, kind: Literal["scorer"], node: Any) -> Scorer: ...
    @overload
    def build(self, kind: Literal["level_mapper"], node: Any) -> LevelMapper: ...
    @overload
    def build(self, kind: Literal["cot_template"], node: Any) -> CotTemplate: ...
    @overload
    def build(self, kind: Literal["expander"], node: Any) -> Expander: ...
    @overload
    def build(self, kind: Literal["rewriter"], node: Any) -> Rewriter: ...
    @overload
    def build(self, kind: Literal["writer"], node: Any) -> Writer: ...
    @overload
    def build(self, kind: Literal["executor"], node: Any) -> Executor: ...
    @overload
    def build(self, kind: Literal["lmm_adapter"], node: Any) -> LmmAdapter: ...
    @overload
    def build(self, kind: Literal["judge"], node: Any) -> Judge: ...
    @overload
    def build(self, kind: Literal["dataset"], node: Any) -> Dataset: ...
    @overload
    def build(self, kind: str, node: Any) -> Any: ...

    def build(self, kind: str, node: Any) -> Any:
        """Build the plugin `node` names, checked against its kind's Protocol (`s2i_core.protocols`)."""
        name, _ = _split_node(node)
        spec = self.get(kind, name)
        built = spec.build(self.config(kind, node))
        check_built(kind, name, str(self.entries(kind)[name].provider), type(spec), built)
        return built

    def recipe(self) -> Recipe:
        """What a worker process needs to rebuild this registry. A plugin registered in code must be a module
        (an object cannot be re-imported in another process)."""
        import types

        modules = []
        for name, obj in self.in_code:
            if not isinstance(obj, types.ModuleType):
                raise ConfigError(f"plugin {name!r} was registered in code as a {type(obj).__name__}, not a "
                                  "module: worker processes rebuild the registry by importing plugin modules; "
                                  "register the module that holds its hooks")
            modules.append((name, obj.__name__))
        return Recipe(self.entry_points, tuple(modules))

    def plugins(self) -> list[tuple[Provider, dict[str, list[str]]]]:
        """Every registered plugin with the names it provides, per kind (for `s2i plugins`)."""
        provides: dict[str, dict[str, list[str]]] = {}
        for kind in KINDS:
            for name, entry in self.entries(kind.name).items():
                provides.setdefault(entry.provider.plugin, {}).setdefault(kind.name, []).append(name)
        rows = []
        for plugin_name, _ in self.pm.list_name_plugin():
            provider = self.providers.get(plugin_name, Provider(plugin_name))
            rows.append((provider, provides.get(plugin_name, {})))
        return sorted(rows, key=lambda r: (r[0].dist != "score2instruct", r[0].dist, r[0].plugin))


def _split_node(node: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(node, str):
        return node, {}
    from omegaconf import DictConfig, OmegaConf

    if isinstance(node, DictConfig):
        values = OmegaConf.to_container(node, resolve=True)
    elif isinstance(node, Mapping):
        values = dict(node)
    else:
        raise ConfigError(f"expected a plugin name or a config with 'impl', got {node!r}")
    if "impl" not in values:
        raise ConfigError(f"plugin config has no 'impl' key naming the plugin: {values!r}")
    name = values.pop("impl")
    return name, values


def make_plugin_manager(*, load_entry_points: bool = True,
                        extra: Iterable[tuple[str, object]] = ()) -> tuple[pluggy.PluginManager,
                                                                               dict[str, Provider],
                                                                               list[BrokenPlugin]]:
    """A fresh manager: plugins from the `s2i` entry-point group (built-ins included) plus `extra`."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    providers: dict[str, Provider] = {}
    broken: list[BrokenPlugin] = []

    def add(name: str, obj: object, provider: Provider) -> None:
        try:
            pm.register(obj, name=name)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(obj):
                pm.unregister(obj)
            broken.append(BrokenPlugin(provider, _describe(exc)))
            warnings.warn(f"s2i plugin {provider} skipped: {_describe(exc)}", PluginWarning, stacklevel=3)
            return
        providers[name] = provider

    if load_entry_points:
        for ep in sorted(md.entry_points(group=hookspecs.PROJECT), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else "(unknown)"
            provider = Provider(ep.name, dist, ep.dist.version if ep.dist else "")
            try:
                obj = ep.load()
            except Exception as exc:
                broken.append(BrokenPlugin(provider, _describe(exc)))
                warnings.warn(f"s2i plugin {provider} failed to import and is skipped: {_describe(exc)}",
                              PluginWarning, stacklevel=2)
                continue
            add(ep.name, obj, provider)
    for name, obj in extra:
        add(name, obj, Provider(name))
    return pm, providers, broken


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


def load_registry(*, load_entry_points: bool = True, extra: Iterable[tuple[str, object]] = ()) -> Registry:
    """The registry of this process: built once where the program starts (the CLI, or a script using the API)
    and passed along to everything that needs plugins. `extra` registers plugins in code: (name, module)."""
    extra = tuple(extra)
    pm, providers, broken = make_plugin_manager(load_entry_points=load_entry_points, extra=extra)
    registered = tuple((name, obj) for name, obj in extra if name in providers)
    return Registry(pm, providers, broken, load_entry_points, registered)
