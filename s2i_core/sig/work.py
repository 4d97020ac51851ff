"""Per-video work that runs inside executor workers: one decode, every scorer. Top-level and picklable.

Each worker process builds its own registry and scorers on first use (cached per process by the config text),
never inheriting a parent's objects; a result is a plain dict that the driver appends to the scores journal.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache


@lru_cache(maxsize=4)
def _scorers(scorers_json: str) -> tuple:
    from s2i_core.registry import load_registry

    registry = load_registry()
    nodes = json.loads(scorers_json)
    return tuple(registry.build("scorer", nodes[name]) for name in sorted(nodes))


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def score_item(item: tuple[str, str, str]) -> dict:
    """(absolute path, path relative to input, scorer config JSON) -> journal row (ok or error)."""
    from s2i_core.errors import DecoderUnavailable, VideoError
    from s2i_core.scoring import sampling_for
    from s2i_core.video import decode_clip

    path, rel, scorers_json = item
    scorers = _scorers(scorers_json)
    try:
        clip = decode_clip(path, sampling_for(scorers))
    except DecoderUnavailable:
        raise  # the environment's fault, not this video's: it stops the run
    except VideoError as exc:
        # Messages name the video relative to input, so errors.jsonl does not depend on where the data sits.
        return {"video": rel, "ok": False, "error": exc.kind, "message": str(exc).replace(path, rel)}
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this video's error, not the run's
        return {"video": rel, "ok": False, "error": "decode_failed", "message": f"{rel}: {type(exc).__name__}: {exc}"}
    scores = {}
    for scorer in scorers:
        try:
            s = scorer(clip)
        except Exception as exc:  # noqa: BLE001 - reported per video with the scorer's name
            return {"video": rel, "ok": False, "error": "scorer_failed",
                    "message": f"{rel}: scorer {scorer.dimension!r} failed: {type(exc).__name__}: {exc}"}
        score = _finite(s.score)
        if score is None or not 0.0 <= score <= 1.0:
            return {"video": rel, "ok": False, "error": "scorer_failed",
                    "message": f"{rel}: scorer {scorer.dimension!r} returned score {s.score!r}, not in [0, 1]"}
        scores[scorer.dimension] = {"score": score, "raw": _finite(s.raw), "unit": s.unit,
                                    "confidence": _finite(getattr(s, "confidence", 1.0))}
    return {"video": rel, "ok": True, "meta": clip.meta.as_record(), "scores": scores}


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
    return {"video": rel, "proxy": _finite(value)}
