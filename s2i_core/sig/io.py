"""Crash-safe files: an append-only fsync'd journal, and whole-file atomic writes (temp file + rename).

A run killed at any moment (kill -9) leaves at most a torn last journal line, which `read_journal` drops,
and never a half-written output file: outputs only appear through `os.replace`, which is atomic on POSIX.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path


def dumps(obj) -> str:
    """The one JSON encoding used for every dataset line, so identical content gives identical bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def remove_stale_temps(folder: str | os.PathLike) -> int:
    """Delete temp files (`.<name>.tmp<pid>`) that a killed run left behind: this process's own, and those of
    processes that no longer exist. A live process's temp file is never touched (called under the folder's
    lock, so a live one would belong to a writer outside this pipeline)."""
    import re

    from s2i_core.sig.lock import pid_alive

    pattern, removed = re.compile(r"^\..+\.tmp(\d+)$"), 0
    for path in Path(folder).rglob(".*.tmp*"):
        match = pattern.match(path.name)
        if not (match and path.is_file()):
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or not pid_alive(pid):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    lines = [dumps(r) + "\n" for r in rows]
    atomic_write_text(path, "".join(lines))
    return len(lines)


def read_jsonl(path: str | os.PathLike, what: str = "file") -> list[dict]:
    """Every object of a JSON-lines file (blank lines skipped). A missing file or a line that is not JSON is a
    ConfigError naming `what`, the path and the line, so a user's input file fails with one clear line."""
    from s2i_core.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {str(path)!r} does not exist")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{what} {str(path)!r} line {number} is not JSON: {exc}") from None
    return rows


class Journal:
    """Append-only JSON lines keyed by `key`; each append is flushed and fsync'd before it counts as done."""

    def __init__(self, path: str | os.PathLike, key: str = "video", shared: bool = False):
        self.path, self.key = Path(path), key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = None  # opened on first append, kept open: one fsync per line, not one open
        # shared: other processes may append at the same time; reads and appends hold an exclusive lock
        self.shared = shared

    @contextlib.contextmanager
    def _locked(self):
        if not self.shared:
            yield
            return
        import fcntl

        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self) -> dict[str, dict]:
        """Finished entries by key. A torn last line (killed mid-write) is dropped; a repeated key keeps the last
        (a video is only scored again when its file changed)."""
        with self._locked():
            return self._read()

    def _read(self) -> dict[str, dict]:
        done: dict[str, dict] = {}
        if not self.path.exists():
            return done
        with open(self.path, "rb") as fh:
            data = fh.read()
        for raw in data.split(b"\n"):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:
                continue  # torn write: the video is simply redone
            if isinstance(row, dict) and self.key in row:
                done[row[self.key]] = row
        if data and not data.endswith(b"\n"):
            # Cut the torn tail so the next append starts on a fresh line.
            with open(self.path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)
        return done

    def append(self, row: dict) -> None:
        if self._fh is None:
            self._fh = open(self.path, "ab")
        with self._locked():
            self._fh.write((dumps(row) + "\n").encode("utf-8"))
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
