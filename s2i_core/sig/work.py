"""Per-video work that runs inside executor workers: one decode, every scorer. Top-level and picklable.

Each worker process rebuilds the parent's registry from its `Recipe` and builds the scorers on first use (cached
per process by the recipe and the config text), never inheriting a parent's objects; a result is a plain dict
that the driver appends to the scores journal.
"""

from __future__ import annotations

import json
from s2i_core.scoring import finite
from functools import lru_cache


@lru_cache(maxsize=4)
def _scorers(recipe, scorers_json: str) -> tuple:
    registry = recipe.load()
    nodes = json.loads(scorers_json)
    return tuple(registry.build("scorer", nodes[name]) for name in sorted(nodes))


def score_item(item: tuple) -> dict:
    """(absolute path, path relative to input, scorer config JSON, registry recipe) -> journal row (ok or error).

    The worker rebuilds the parent's registry from its recipe (the entry points plus the plugin modules
    registered in code), so a plugin the parent registered in code scores here too."""
    from s2i_core.scoring import score_video

    path, rel, scorers_json, recipe = item
    return score_video(path, _scorers(recipe, scorers_json), rel)


def crash_row(item: tuple) -> dict:
    return {"video": item[1], "ok": False, "error": "worker_crashed",
            "message": f"{item[1]}: the worker process died while decoding or scoring this video"}


def proxy_item(item: tuple[str, str, str]) -> dict:
    """A cheap quality proxy for balancing the pool: `bpp` (bits per pixel per frame, container metadata only)
    or `sharpness` (log variance of the Laplacian of the middle frame)."""
    from s2i_core.errors import VideoError
    from s2i_core.video import meta_of, open_decoder

    path, rel, kind = item
    try:
        decoder = open_decoder(path)
        meta = meta_of(decoder, path)
        if kind == "bpp":
            import os

            value = os.path.getsize(path) * 8.0 / (meta.width * meta.height * max(1, meta.frames))
        else:
            import cv2
            import numpy as np

            frame = decoder.get_frame_at(meta.frames // 2).data.numpy()
            grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
            value = float(np.log1p(cv2.Laplacian(grey, cv2.CV_64F).var()))
    except (VideoError, RuntimeError, ValueError, IndexError):
        return {"video": rel, "proxy": None}
    return {"video": rel, "proxy": finite(value)}
