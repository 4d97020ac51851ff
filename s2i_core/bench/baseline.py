"""A learner without an LMM, for the reproduction: ridge regression of the TRUE severity on simple statistics
of the frames the LMM sees, fit on the training ladders.

It answers "how hard is this split?". A tiny LMM tuned on true labels (the ceiling) can only carry over to
unseen content what the training contents teach; when a plain regression on the same frames and labels also
stays low on the held-out clips, the limit is the split (how far the held-out contents differ from the
training ones), not the LMM or its training. The statistics are tone, colour, detail and motion, so the
reference applies to every ladder, not only to exposure:

- luma: a 16-bin histogram, percentiles, mean and spread, the shares crushed to black and clipped to white;
- colour: the mean of each RGB channel and the mean chroma;
- detail: mean gradient magnitude and mean |Laplacian| at the model's resolution;
- motion: mean |difference| of consecutive sampled frames.

The ridge penalty is chosen by cross-validation over the training CLIPS (segments and crops of one clip stay
in one fold), so the choice itself is made on unseen content, as the test is.

    predict, info = fit(train_rows, clip_dir / "train", frame_features(frames=4, max_pixels=3136))
    predict([path, ...]) -> [score, ...]      # higher is better (= -severity)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 1e4, 1e5)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def resized(pixels: np.ndarray, max_pixels: int) -> np.ndarray:
    """[N, H, W, 3] uint8 frames -> float frames scaled down to at most `max_pixels` each, aspect kept, by the
    resize the LMM adapters run (`preprocess.resize`)."""
    from s2i_core.lmm.preprocess import resize

    h, w = pixels.shape[1:3]
    scale = math.sqrt(max_pixels / (h * w)) if max_pixels else 1.0
    if scale >= 1.0:
        return pixels.astype(np.float32)
    small = resize(pixels, max(1, round(h * scale)), max(1, round(w * scale)))
    return small.permute(0, 2, 3, 1).numpy()


def statistics_of(pixels: np.ndarray) -> np.ndarray:
    """The feature vector of [N, H, W, 3] RGB frames (0-255)."""
    import cv2

    y = pixels @ LUMA
    hist = np.histogram(y, bins=16, range=(0, 256))[0] / y.size
    quantiles = np.percentile(y, [1, 5, 10, 25, 50, 75, 90, 95, 99]) / 255
    chroma = (pixels.max(axis=-1) - pixels.min(axis=-1)).mean() / 255
    grad = np.mean([np.hypot(cv2.Sobel(f, cv2.CV_32F, 1, 0), cv2.Sobel(f, cv2.CV_32F, 0, 1)).mean() for f in y])
    lap = np.mean([np.abs(cv2.Laplacian(f, cv2.CV_32F)).mean() for f in y])
    motion = float(np.abs(np.diff(y, axis=0)).mean()) if len(y) > 1 else 0.0
    tone = [y.mean() / 255, y.std() / 255, np.mean(y <= 16), np.mean(y >= 235)]
    return np.concatenate([hist, quantiles, tone, pixels.reshape(-1, 3).mean(axis=0) / 255,
                           [chroma, grad / 255, lap / 255, motion / 255]])


def frame_features(frames: int, max_pixels: int):
    """paths -> [videos, features]: the statistics of the `frames` frames the LMM samples from each video."""
    from s2i_core.lmm.preprocess import sample_frames

    def featurize(paths) -> np.ndarray:
        # [N, H, W, 3] uint8 frames, as the LMM's adapter gets them
        return np.array([statistics_of(resized(sample_frames(str(p), frames).pixels, max_pixels)) for p in paths])

    return featurize


def ridge(x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """Weights and intercept of ridge regression on standardised `x` (the intercept is not penalised)."""
    w = np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ (y - y.mean()))
    return w, float(y.mean())


def choose_penalty(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> tuple[float, dict]:
    """The penalty of PENALTIES with the best mean SRCC over folds of whole groups (clips), and every mean."""
    from s2i_core.bench import metrics

    names = sorted(set(groups))
    fold_of = {g: i % folds for i, g in enumerate(names)}
    fold = np.array([fold_of[g] for g in groups])
    means = {}
    for penalty in PENALTIES:
        values = []
        for k in sorted(set(fold)):
            test = fold == k
            if test.all() or not test.any():
                continue
            w, b = ridge(x[~test], y[~test], penalty)
            value = metrics.compute(list(x[test] @ w + b), list(y[test]))["srcc"]
            values.append(0.0 if math.isnan(value) else value)
        means[penalty] = float(np.mean(values)) if values else 0.0
    return max(PENALTIES, key=lambda p: (means[p], p)), means


def fit(rows: list[dict], clip_dir: Path, featurize):
    """(predictor, info) from make_ladders' training `rows` (videos under `clip_dir`) and `featurize` (paths ->
    [videos, features]: `frame_features(frames, max_pixels)` or an LMM's hidden states); info holds the chosen
    penalty and the cross-validated SRCC of every penalty."""
    x = np.asarray(featurize([clip_dir / r["path"] for r in rows]), np.float64)
    y = np.array([-float(r["severity"]) for r in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature carries nothing
    z = (x - mean) / scale
    penalty, cv = choose_penalty(z, y, np.array([r.get("clip", r["source"]) for r in rows]))
    w, b = ridge(z, y, penalty)

    def predict(paths) -> list[float]:
        return [float(v) for v in ((np.asarray(featurize(paths), np.float64) - mean) / scale) @ w + b]

    return predict, {"penalty": penalty, "cv_srcc": {str(k): v for k, v in cv.items()}, "features": x.shape[1]}
