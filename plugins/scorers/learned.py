"""Optional learned scorers (default off). Weights always come from a local path, never from a hub at run time.

- `pyiqa`: any pyiqa metric (extra `pyiqa`, which needs torchvision) scored on the clip's spatial frames.
- `torch_model`: a TorchScript file, or a safetensors state dict plus the factory that builds its module
  (DOVER-style video models), scored on the spatial frames or on a run of consecutive frames.

Both score the dimension named by their `dimension` option: select one in place of a default scorer with
`scorers=[...,torch_model] scorers.torch_model.dimension=sharpness scorers.torch_model.path=/models/x.pt`.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

import numpy as np

from s2i_core.dimensions import dimension as check_dimension
from s2i_core.errors import ConfigError
from s2i_core.scoring import DimensionScore, ramp
from s2i_core.options import between
from s2i_core.specs import ScorerSpec


def _weights(path: str, what: str) -> str:
    if not path:
        raise ConfigError(f"scorer {what!r} needs `path`: a local weights file (nothing is downloaded)")
    if not os.path.isfile(path):
        raise ConfigError(f"scorer {what!r}: weights file {path!r} does not exist")
    return path


def _frames_tensor(frames: np.ndarray, max_side: int):
    """[N, 3, H, W] float32 in [0, 1] from [N, H, W, 3] uint8, resized so the longer side is <= max_side."""
    import torch

    from s2i_core.video import resize_batch

    return torch.from_numpy(resize_batch(frames, max_side)).permute(0, 3, 1, 2).float().div_(255.0)


@dataclass
class PyiqaConfig:
    dimension: str = "sharpness"
    metric: str = "musiq"  # a pyiqa metric name
    path: str = ""  # local weights file for that metric
    low: float = 0.0  # raw value that scores 0 (or 1 when the metric is lower-better)
    high: float = 100.0
    max_side: int = between(16, None, default=512)


class PyiqaScorer:
    """Mean pyiqa metric over the spatial frames; raw in the metric's own unit, mapped linearly [low, high]."""

    def __init__(self, cfg: PyiqaConfig):
        check_dimension(cfg.dimension)
        self.cfg, self.dimension = cfg, cfg.dimension
        weights = _weights(cfg.path, "pyiqa")
        try:
            import pyiqa
        except ImportError as exc:
            raise ConfigError("scorer 'pyiqa' needs the `pyiqa` extra (pip install 'score2instruct[pyiqa]'), "
                              f"which needs torchvision: {exc}") from exc
        self.metric = pyiqa.create_metric(cfg.metric, device="cpu", pretrained_model_path=weights)
        self.lower_better = bool(getattr(self.metric, "lower_better", False))

    def __call__(self, clip) -> DimensionScore:
        import torch

        with torch.inference_mode():
            raw = float(self.metric(_frames_tensor(clip.frames, self.cfg.max_side)).mean())
        low, high = (self.cfg.high, self.cfg.low) if self.lower_better else (self.cfg.low, self.cfg.high)
        return DimensionScore(ramp(raw, low, high), raw, f"pyiqa_{self.cfg.metric}")


@dataclass
class TorchModelConfig:
    dimension: str = "sharpness"
    path: str = ""  # .pt/.pth TorchScript archive, or .safetensors state dict (then `factory` is required)
    factory: str = ""  # "package.module:function" returning the nn.Module the safetensors weights belong to
    input: str = "frames"  # frames: [N, 3, H, W] spatial frames; clip: [1, 3, T, H, W] first run
    max_side: int = between(16, None, default=512)
    low: float = 0.0  # model output that scores 0
    high: float = 1.0  # model output that scores 1 (set low > high for a lower-is-better model)


class TorchModelScorer:
    """Mean output of a local torch model; raw is the model's output, mapped linearly [low, high]."""

    def __init__(self, cfg: TorchModelConfig):
        check_dimension(cfg.dimension)
        if cfg.input not in ("frames", "clip"):
            raise ConfigError(f"scorer 'torch_model': input must be 'frames' or 'clip', got {cfg.input!r}")
        self.cfg, self.dimension = cfg, cfg.dimension
        self.model = load_model(_weights(cfg.path, "torch_model"), cfg.factory).eval()

    def __call__(self, clip) -> DimensionScore:
        import torch

        if self.cfg.input == "clip" and clip.runs:
            x = _frames_tensor(clip.runs[0], self.cfg.max_side).permute(1, 0, 2, 3).unsqueeze(0)
        else:
            x = _frames_tensor(clip.frames, self.cfg.max_side)
        with torch.inference_mode():
            raw = float(torch.as_tensor(self.model(x), dtype=torch.float32).mean())
        return DimensionScore(ramp(raw, self.cfg.low, self.cfg.high), raw, "model_output")


def load_model(path: str, factory: str = ""):
    import torch

    if path.endswith(".safetensors"):
        if ":" not in factory:
            raise ConfigError(f"scorer 'torch_model': {path!r} holds only weights; set `factory` to "
                              "'package.module:function' that builds the model")
        from safetensors.torch import load_file

        module_name, func = factory.split(":", 1)
        try:
            model = getattr(importlib.import_module(module_name), func)()
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"scorer 'torch_model': cannot build model from factory {factory!r}: {exc}") from exc
        missing, unexpected = model.load_state_dict(load_file(path), strict=False)
        if missing or unexpected:
            raise ConfigError(f"scorer 'torch_model': weights {path!r} do not fit {factory!r} "
                              f"(missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]})")
        return model
    try:
        return torch.jit.load(path, map_location="cpu")
    except Exception as exc:
        raise ConfigError(f"scorer 'torch_model': {path!r} is not a TorchScript archive ({exc}); for a "
                          "state dict save it as .safetensors and set `factory`") from exc


SPECS = (
    ScorerSpec("pyiqa", PyiqaScorer, PyiqaConfig, "a pyiqa metric from local weights (extra: pyiqa)",
               default=False),
    ScorerSpec("torch_model", TorchModelScorer, TorchModelConfig,
               "a local TorchScript or safetensors model (DOVER-style)", default=False),
)
