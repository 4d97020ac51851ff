"""Which videos a run covers: discovery, a deterministic subset (`fraction`, `limit`), proxy-score balancing.

Balancing (the paper's proxy-score balancing of the unlabeled pool): with `balance.n=N`, a cheap proxy score is
computed for every candidate and N videos are picked whose proxy values are spread evenly over the proxy range:
for each of N evenly spaced targets between the lowest and highest proxy, the nearest unused video. Unreadable
videos (no proxy) are kept out of the balanced pick; they cannot be scored anyway.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import os
from pathlib import Path

from s2i_core.errors import ConfigError
from s2i_core.video import VIDEO_SUFFIXES


def find_videos(root: Path, suffixes=VIDEO_SUFFIXES) -> tuple[list[Path], list[dict]]:
    """Video files under `root` (symlinks followed), and an error row for every path that looks like a video
    or a folder but cannot be one: a broken link, a link loop, a folder named like a video, a folder or
    file this user cannot read. Nothing is skipped without a row saying why."""
    if not root.is_dir():
        raise ConfigError(f"input {str(root)!r} is not a folder")
    videos: list[Path] = []
    skipped: list[dict] = []
    seen: set[str] = set()

    def skip(path: Path, kind: str, why: str) -> None:
        rel = path.relative_to(root).as_posix()
        skipped.append({"video": rel, "error": kind, "message": f"{rel}: {why}"})

    def walk(folder: Path) -> None:
        real = os.path.realpath(folder)
        if real in seen:
            skip(folder, "link_loop", "a link to a folder already scanned (a loop or a second way in); skipped")
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            skip(folder, "unreadable", f"cannot list this folder ({exc.strerror}); its videos are skipped")
            return
        for entry in entries:
            path = Path(entry.path)
            is_video_name = path.suffix.lower() in suffixes
            try:
                is_dir = entry.is_dir()  # follows links
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if entry.is_symlink() and not (is_dir or is_file):
                try:
                    os.stat(path)
                    kind, why = "not_a_file", "a link to something that is neither a file nor a folder"
                except OSError as exc:
                    loop = exc.errno == errno.ELOOP
                    kind = "link_loop" if loop else "broken_link"
                    why = "a symbolic link loop" if loop else f"a broken link (to {os.readlink(path)!r})"
                if is_video_name or kind == "link_loop":
                    skip(path, kind, f"{why}; skipped")
            elif is_dir:
                if is_video_name:
                    skip(path, "not_a_file", "a folder named like a video file; its contents are still scanned")
                walk(path)
            elif is_video_name:
                if is_file:
                    videos.append(path)
                else:
                    skip(path, "not_a_file", "not a regular file (a pipe, socket or device); skipped")

    walk(root)
    return (sorted(videos, key=lambda p: p.relative_to(root).as_posix()),
            sorted(skipped, key=lambda r: r["video"]))


def _rank(rel: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{rel}".encode()).hexdigest()


def subset(rels: list[str], fraction: float, limit: int | None, seed: int) -> list[str]:
    """A seeded, stable subset: the same videos for the same seed however the folder is listed."""
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"fraction={fraction}: must be in (0, 1]")
    if fraction >= 1.0 and not limit:
        return sorted(rels)
    ranked = sorted(rels, key=lambda r: _rank(r, seed))
    keep = ranked[: round(len(ranked) * fraction)] if fraction < 1.0 else ranked
    if limit:
        keep = keep[:limit]
    return sorted(keep)


def balanced_pick(proxies: dict[str, float | None], n: int) -> list[str]:
    values = sorted((v, rel) for rel, v in proxies.items() if v is not None)
    if n >= len(values):
        return sorted(rel for _, rel in values)
    lo, hi = values[0][0], values[-1][0]
    keys = [v for v, _ in values]
    used: set[int] = set()
    for i in range(n):
        target = lo + (hi - lo) * (i / (n - 1) if n > 1 else 0.5)
        j = bisect.bisect_left(keys, target)
        # nearest unused index, searching outward from the target
        for step in range(len(values)):
            cands = [k for k in (j - step, j + step - 1, j + step) if 0 <= k < len(values) and k not in used]
            if cands:
                used.add(min(cands, key=lambda k: (abs(keys[k] - target), k)))
                break
    return sorted(values[k][1] for k in used)
