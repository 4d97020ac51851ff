"""Human-trained references for `s2i validate`: VMAF (full reference) and BRISQUE (no reference).

Both were fitted to people's opinion scores by others (VMAF v0.6.1 by Netflix on its own subjective tests,
BRISQUE on LIVE IQA), so agreeing with them is evidence the scorers did not just learn the ladders they were
tuned on. Both are optional (`pip install -e '.[refs]'`):

* **VMAF** through `vmaf-torch`, a PyTorch port of libvmaf's features (VIF, ADM, motion) and of the
  vmaf_v0.6.1 SVM. It runs offline on the CPU. VMAF reads the Y plane of the YUV video; torchcodec decodes to
  RGB, so the luma is rebuilt with the matrix the decoder used (BT.709 when the stream says so, else BT.601)
  in limited range (16-235), which is what the Y plane of ordinary video holds.
* **BRISQUE** through `brisque`, whose SVR model ships with the package. Lower is better (0 pristine, about
  100 badly damaged), as published.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from s2i_core.errors import ConfigError

INSTALL = "pip install -e '.[refs]'"
PACKAGES = {"vmaf": ("vmaf_torch", "vmaf-torch"), "brisque": ("brisque", "brisque")}
CHUNK = 16  # frames per VMAF batch: bounds memory on long or large clips
LUMA = {"bt709": (0.2126, 0.7152, 0.0722), "bt601": (0.299, 0.587, 0.114)}
# libsvm's model loader switches the process locale (setlocale is not thread-safe: two loads at once free the
# same string) and its predictor is C code of unknown reentrancy: one model, loaded once, one prediction at once
_SVM_LOCK = threading.Lock()


def _import_error(reference: str) -> str | None:
    """Why `reference` cannot run, or None. Imports the real entry points, so a broken install is caught too."""
    module, dist = PACKAGES[reference]
    try:
        if reference == "vmaf":
            from vmaf_torch import VMAF  # noqa: F401
        else:
            from brisque import BRISQUE  # noqa: F401
    except ImportError as exc:
        missing = exc.name or module
        if missing.split(".")[0] == module:
            return f"{dist} is not installed: {INSTALL}"
        return f"{dist} cannot be imported ({missing} is missing: {exc}): {INSTALL}"
    except Exception as exc:  # noqa: BLE001 - a package that breaks on import is unusable, whatever the cause
        return f"{dist} fails to import ({type(exc).__name__}: {exc}); reinstall it: {INSTALL}"
    return None


def available() -> dict[str, str | None]:
    """For each reference: None when it can run, else why not and how to install it."""
    return {name: _import_error(name) for name in PACKAGES}


def require(reference: str) -> None:
    if reference not in PACKAGES:
        raise ConfigError(f"unknown reference {reference!r}; known: {', '.join(PACKAGES)}")
    reason = _import_error(reference)
    if reason:
        raise ConfigError(f"the {reference.upper()} reference needs the package {PACKAGES[reference][1]}: "
                          f"{reason}")


def _decoder(path: Path):
    from s2i_core.video import meta_of, open_decoder

    decoder = open_decoder(path)
    return decoder, meta_of(decoder, str(path))


def _frames(decoder, indices: list[int]) -> np.ndarray:
    """[N, H, W, 3] uint8 RGB of the given frame indices."""
    return decoder.get_frames_at(indices).data.numpy()


def _luma(decoder, indices: list[int]):
    """[N, 1, H, W] float32 Y plane (limited range, 16-235) rebuilt from the decoder's RGB."""
    import torch

    kr, kg, kb = LUMA["bt709" if str(decoder.metadata.color_space or "").lower() == "bt709" else "bt601"]
    rgb = decoder.get_frames_at(indices).data.to(torch.float32)  # NHWC: open_decoder's dimension order
    y = 16.0 + 219.0 / 255.0 * (kr * rgb[..., 0] + kg * rgb[..., 1] + kb * rgb[..., 2])
    return y.unsqueeze(1)


@lru_cache(maxsize=1)
def _vmaf_model():
    from vmaf_torch import VMAF

    return VMAF(clip_score=True).eval()  # libvmaf clips each frame's score to the model's [0, 100]


def picked_frames(n: int, every: int = 1, max_frames: int | None = None) -> list[int]:
    picked = list(range(0, n, max(1, int(every))))
    return picked[:max_frames] if max_frames else picked


def vmaf_video(reference: Path, distorted: Path, *, every: int = 1, max_frames: int | None = None) -> float:
    """Mean VMAF (0-100, vmaf_v0.6.1) of `distorted` against `reference`, over every `every`-th frame.

    With subsampling each picked frame still gets libvmaf's motion feature from its true neighbours
    (min of the mean absolute difference to the previous and to the next blurred reference frame), so
    `every` changes which frames are averaged, not what a frame's score is. The distorted video is scaled
    (bicubic) to the reference size when they differ; frames are paired by index up to the shorter video.
    """
    require("vmaf")
    import torch
    import torch.nn.functional as F

    ref_dec, ref_meta = _decoder(Path(reference))
    dist_dec, dist_meta = _decoder(Path(distorted))
    n = min(ref_meta.frames, dist_meta.frames)
    picked = picked_frames(n, every, max_frames)
    model = _vmaf_model()
    scores = []
    with torch.no_grad():
        for start in range(0, len(picked), CHUNK):
            chunk = picked[start:start + CHUNK]
            around = sorted({j for i in chunk for j in (i - 1, i, i + 1) if 0 <= j < n})
            ref_all = dict(zip(around, _luma(ref_dec, around)))
            ref = torch.stack([ref_all[i] for i in chunk])
            dist = _luma(dist_dec, chunk)
            if dist.shape[-2:] != ref.shape[-2:]:
                dist = F.interpolate(dist, size=ref.shape[-2:], mode="bicubic", align_corners=False).clamp(0, 255)

            def change(before: int, after: int) -> torch.Tensor:  # libvmaf's motion: mean |blurred difference|
                return model.motion.motion(torch.stack([ref_all[before], ref_all[after]]))[1]

            motion = []  # libvmaf's motion2: 0 on the first frame, min(to previous, to next), the last has no next
            for i in chunk:
                if i == 0:
                    motion.append(torch.zeros(1))
                    continue
                previous = change(i - 1, i)
                motion.append(previous if i + 1 >= n else torch.minimum(previous, change(i, i + 1)))
            adm = model.compute_adm_score(ref, dist)
            vif = model.compute_vif_features(ref, dist)
            scores.append(model.predict(adm, torch.stack(motion).reshape(-1, 1), vif).reshape(-1))
    values = torch.cat(scores).double()
    return float(values.mean()) if values.numel() else math.nan


@lru_cache(maxsize=1)
def _brisque_model():
    from brisque import BRISQUE

    class Brisque(BRISQUE):
        def scale_features(self, features):
            # brisque 0.2.0 leaves some of its 36 features as 1-element arrays (a division by `.shape`);
            # NumPy 2 refuses float() on those. Flatten them here; the installed package stays untouched.
            flat = np.concatenate([np.ravel(np.asarray(f, dtype=np.float64)) for f in features])
            return super().scale_features(flat)

        def calculate_image_quality_score(self, brisque_features):
            with _SVM_LOCK:  # the features (the costly part) are computed in parallel, the SVR call is not
                return super().calculate_image_quality_score(brisque_features)

    with _SVM_LOCK:
        return Brisque(url=False)


def brisque_image(rgb: np.ndarray) -> float:
    """BRISQUE of one uint8 RGB frame (lower is better)."""
    require("brisque")
    return float(_brisque_model().score(np.ascontiguousarray(rgb)))


def brisque_video(path: Path, *, frames: int = 4) -> float:
    """Mean BRISQUE (lower is better) over `frames` frames spread evenly over the video."""
    require("brisque")
    decoder, meta = _decoder(Path(path))
    indices = sorted({int(i) for i in np.linspace(0, meta.frames - 1, max(1, int(frames))).round()})
    return float(np.mean([brisque_image(f) for f in _frames(decoder, indices)]))
