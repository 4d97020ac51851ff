"""The `s2i` console script: `s2i plugins`, and one Hydra command per primary config in `conf/`."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from importlib.resources import files

from s2i_core.errors import ConfigError, S2IError, UnknownNameError

EXIT_OK, EXIT_ITEM_ERRORS, EXIT_USAGE = 0, 1, 2
_HYDRA_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                           "--config-dir", "-cd", "--info", "-i", "--experimental-rerun"}
_SWEEP_WORDS = {"choice", "range", "interval", "glob", "sort", "shuffle", "tag", "int", "float", "str",
                "bool", "json_str", "null", "true", "false", "default", "none"}


def hydra_commands() -> list[str]:
    """Commands are the primary configs that have a pipeline module: adding both adds a command."""
    names = []
    for entry in files("s2i_conf").iterdir():
        name = entry.name.removesuffix(".yaml")
        if entry.name.endswith(".yaml") and importlib.util.find_spec(f"s2i_core.pipelines.{name}"):
            names.append(name)
    return sorted(names)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        _usage()
        return EXIT_OK
    if argv[0] == "--version":
        from s2i_core import __version__

        print(f"s2i {__version__}")
        return EXIT_OK
    command, rest = argv[0], argv[1:]
    try:
        if command != "plugins" and command not in hydra_commands():
            raise UnknownNameError("command", command, hydra_commands() + ["plugins"])
        from s2i_core.registry import load_registry

        registry = load_registry()  # the one registry of this process, passed to everything that needs plugins
        if command == "plugins":
            from s2i_core.plugins_table import print_plugins

            return print_plugins(rest, registry)
        return run_hydra_command(command, rest, registry)
    except S2IError as exc:
        _error(exc)
        return EXIT_USAGE
    except BrokenPipeError:
        return _reader_left()


def run_hydra_command(command: str, overrides: list[str], registry) -> int:
    import hydra

    from s2i_core.hydra_bridge import register_configs, register_resolvers

    register_resolvers()
    register_configs(registry)
    module = importlib.import_module(f"s2i_core.pipelines.{command}")
    overrides = _positional_to_override(getattr(module, "POSITIONAL", None), overrides)
    # Command flags a user would type (`s2i assess v.mp4 --json`) become the override they stand for.
    flags = getattr(module, "FLAGS", {})
    overrides = [flags.get(arg, arg) for arg in overrides]
    check_plugin_overrides(registry, overrides)
    if not any(arg.startswith("-") for arg in overrides):  # flags (-m, --cfg, --help) go to Hydra as they are
        check_composes(command, module, overrides)
    codes: list[int] = []
    started: list[bool] = []

    def task(cfg) -> None:
        started.append(True)
        try:
            codes.append(int(module.run(cfg, registry) or EXIT_OK))
        except S2IError as exc:
            _error(exc)
            codes.append(EXIT_USAGE)
        except BrokenPipeError:
            codes.append(_reader_left())

    saved = sys.argv
    sys.argv = [f"s2i {command}", *overrides]
    try:
        hydra.main(version_base=None, config_path="pkg://s2i_conf", config_name=command)(task)()
    except SystemExit as exc:
        # Hydra exits 1 both for a config it cannot compose (nothing ran: a usage error) and a job that crashed.
        if exc.code not in (0, None):
            return EXIT_USAGE if not started else EXIT_ITEM_ERRORS
    finally:
        sys.argv = saved
    return max(codes, default=EXIT_OK)


def check_composes(command: str, module, overrides: list[str]) -> None:
    """Compose the config as Hydra will, before Hydra sets up anything, so a bad override, a missing value or a
    value of the wrong type or range is one line and exit status 2 instead of a stack trace."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from s2i_core.options import check_against_defaults
    from s2i_core.schemas import SCHEMAS
    from s2i_core.schemas.checks import check_override_types
    from s2i_core.specs import KINDS

    if command in SCHEMAS:
        check_override_types(SCHEMAS[command], overrides)
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("s2i_conf", version_base=None):
            defaults = compose(command)
            try:
                cfg = compose(command, overrides=overrides)
            except Exception as exc:  # noqa: BLE001 - whatever Hydra/OmegaConf raise, the override is at fault
                raise ConfigError(_one_line(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"s2i {command} needs {', '.join(f'{m}=...' for m in missing)}")
    plain = OmegaConf.to_container(cfg, resolve=False)
    check_against_defaults(plain, OmegaConf.to_container(defaults, resolve=False),
                           getattr(module, "RANGES", None), skip={"hydra", *(k.group for k in KINDS)})


def _one_line(exc: BaseException) -> str:
    """Hydra's and OmegaConf's several-line messages (and their causes) as one line of their first statements."""
    lines = []
    while exc is not None:
        for line in str(exc).splitlines():
            line = line.strip()
            if line and not line.startswith(("full_key:", "object_type", "reference_type", "Set the environment")):
                lines.append(line.rstrip("."))
        exc = exc.__cause__
    return "; ".join(list(dict.fromkeys(lines))[:3]) or "the overrides do not compose"


def _positional_to_override(name: str | None, args: list[str]) -> list[str]:
    if not name:
        return args
    out, taken = [], False
    for i, arg in enumerate(args):
        follows_flag = i > 0 and args[i - 1] in _HYDRA_FLAGS_WITH_VALUE
        if not taken and not follows_flag and "=" not in arg and not arg.startswith("-"):
            out.append(f"{name}={arg}")
            taken = True
        else:
            out.append(arg)
    return out


def check_plugin_overrides(registry, overrides: list[str]) -> None:
    """Name check before Hydra composes, so a typo gets 'did you mean' instead of a bare 'not found'."""
    from s2i_core.specs import KINDS

    groups = {k.group: k for k in KINDS}
    for item in overrides:
        match = re.match(r"^[+~]*([\w.]+)=(.*)$", item)
        if not match or match.group(1) not in groups:
            continue
        kind = groups[match.group(1)]
        for word in re.findall(r"[A-Za-z_][\w]*", match.group(2)):
            if word not in _SWEEP_WORDS:
                registry.get(kind.name, word)


def _usage() -> None:
    from rich.console import Console

    console = Console()
    console.print("[bold]s2i[/] — Score2Instruct: explainable video quality assessment\n")
    console.print("usage: s2i COMMAND [key=value ...] [-m]   (Hydra overrides; -m runs a multirun sweep)\n")
    console.print("  plugins     list installed plugins, their distributions and the names they provide")
    for name in hydra_commands():
        module = importlib.import_module(f"s2i_core.pipelines.{name}")
        console.print(f"  {name:<11} {(module.__doc__ or '').strip().splitlines()[0]}")
    console.print("\n`s2i COMMAND --help` shows the composed config and every config group.")


def _reader_left() -> int:
    """`s2i assess --json | head`: the reader left; what it did not read is not an error of ours."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
    return EXIT_OK


def _error(exc: BaseException) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
