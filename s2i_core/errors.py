"""The project's own exception types. Every message names the thing that is wrong and what would be right."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class S2IError(Exception):
    """Base class: catch this to handle every error the framework raises on purpose."""


class ConfigError(S2IError):
    """A configuration value is missing, mistyped or inconsistent."""


class UnknownNameError(S2IError, KeyError):
    def __init__(self, kind: str, name: str, installed: Iterable[str], hint: str = ""):
        self.kind, self.name, self.installed = kind, name, sorted(installed)
        msg = f"unknown {kind} {name!r}; installed: {', '.join(self.installed) or '(none)'}"
        close = difflib.get_close_matches(name, self.installed, n=1)
        if close:
            msg += f"; did you mean {close[0]!r}?"
        if hint:
            msg += f"\n{hint}"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class DuplicateNameError(S2IError):
    def __init__(self, kind: str, name: str, providers: Iterable[str]):
        self.kind, self.name, self.providers = kind, name, sorted(providers)
        super().__init__(f"{kind} {name!r} is provided by more than one plugin: {' and '.join(self.providers)}; "
                         "uninstall one of them or rename the name it provides")


class PluginLoadError(S2IError):
    """A third-party plugin could not be imported or validated."""


class VideoError(S2IError):
    """A video could not be opened or decoded. `kind` is a short machine-readable cause for errors.jsonl."""

    def __init__(self, path: str, kind: str, message: str):
        self.path, self.kind = str(path), kind
        super().__init__(f"{path}: {message}")


class DecoderUnavailable(ConfigError):
    """The video decoder library cannot load in this environment: no video can be read, so nothing runs."""
