"""A dataset folder is exactly what its `manifest.json` lists: every file with its size and SHA-256.

`s2i generate` writes the manifest last; readers (`s2i train`, `s2i bench`) call `verify` on the files they
read, so data left by another config, edited by hand or half-written by a killed run is refused instead of
trained or scored on. `.s2i/outputs.json` remembers every file a run of any config wrote into the folder,
so a later config removes what it does not write itself, and nothing it never wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from s2i_core.errors import ConfigError

MANIFEST = "manifest.json"
OWNED = ".s2i/outputs.json"


def file_entry(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def file_entries(folder: Path, names: list[str]) -> dict[str, dict]:
    return {name: file_entry(folder / name) for name in sorted(set(names))}


def owned_files(folder: Path) -> set[str]:
    """Every file this folder's runs have written (or were about to write) and the last manifest's list."""
    names: set[str] = set()
    try:
        names |= set(json.loads((folder / OWNED).read_text()))
    except (OSError, ValueError, TypeError):
        pass
    try:
        names |= set(json.loads((folder / MANIFEST).read_text()).get("files", {}))
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return {n for n in names if isinstance(n, str) and _inside(n)}


def remember_owned(folder: Path, names: set[str]) -> None:
    from s2i_core.sig.io import atomic_write_text

    atomic_write_text(folder / OWNED, json.dumps(sorted(names)) + "\n")


def remove_unlisted(folder: Path, previous: set[str], current: set[str]) -> list[str]:
    """Delete files an earlier run wrote that the current one does not (and folders they leave empty)."""
    removed = []
    for name in sorted(previous - current - {MANIFEST}):
        path = folder / name
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(name)
            parent = path.parent
            while parent != folder and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    return removed


def _inside(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def read(folder: str | os.PathLike, what: str) -> dict:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise ConfigError(f"{what}={folder}: {path} is missing; point {what}= at a finished `s2i generate` "
                          "output (a run that was stopped before its end writes no manifest)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{what}={folder}: {path} is not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ConfigError(f"{what}={folder}: {path} lists no file hashes (written by an older version?); "
                          "rerun `s2i generate` into this folder")
    return manifest


def verify(folder: str | os.PathLike, names: list[str], what: str = "data") -> dict:
    """The manifest of `folder`, after checking each of `names` is listed and unchanged since it was written."""
    manifest = read(folder, what)
    listed = manifest["files"]
    for name in names:
        path = Path(folder) / name
        if name not in listed:
            extra = " (it is left over from another run)" if path.exists() else ""
            raise ConfigError(f"{what}={folder}: {name} is not part of this dataset: its manifest does not list "
                              f"it{extra}; regenerate with a config that writes it")
        if not path.is_file():
            raise ConfigError(f"{what}={folder}: {name} is listed in manifest.json but missing")
        if file_entry(path) != listed[name]:
            raise ConfigError(f"{what}={folder}: {name} does not match manifest.json (changed after the run that "
                              "wrote the manifest, or half-written by a run that was stopped); rerun "
                              "`s2i generate` into this folder")
    return manifest


def verify_if_generated(folder: str | os.PathLike, names: list[str], what: str) -> dict | None:
    """`verify` for a folder that shows it is a `s2i generate` output (a manifest or a `.s2i/` folder); a
    folder with neither holds hand-made files, taken as they are (None)."""
    folder = Path(folder)
    if (folder / MANIFEST).exists() or (folder / ".s2i").is_dir():
        return verify(folder, names, what)
    return None


def write(folder: Path, manifest: dict, names: list[str]) -> dict:
    """Add the file list with hashes to `manifest` and write it atomically, last."""
    from s2i_core.sig.io import atomic_write_text

    manifest = {**manifest, "files": file_entries(folder, names)}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
