"""One writer per output folder: an exclusive OS lock held for the whole run.

`s2i generate` takes `output/.s2i/lock` with `fcntl.flock(LOCK_EX | LOCK_NB)` before it touches anything in the
folder and keeps it until the manifest is written. The kernel drops the lock when the process dies (kill -9
included), so a stale lock never blocks a rerun; a second run on a held folder refuses at once and names the
holder (pid, host, start time) that the first wrote into the lock file.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from s2i_core.errors import ConfigError

LOCK_NAME = ".s2i/lock"


class OutputLock:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ConfigError(f"output {str(self.folder)!r} is in use by another run ({holder}); wait for it to "
                              "finish or choose another output=") from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (ValueError, KeyError, OSError):
        return "holder unknown: it has not written its name yet"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
