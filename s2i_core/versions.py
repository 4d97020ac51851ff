"""The resolved versions of the packages a result depends on, recorded in every manifest.

Scores, levels and trained models move when numpy, OpenCV, torch or transformers move; a manifest that names
the versions tells a rerun that differs whether the code or the environment changed
(`constraints/lock.txt` pins them all for the documented install).
"""

from __future__ import annotations

import importlib.metadata as md
import platform

KEY_PACKAGES = ("score2instruct", "torch", "torchcodec", "numpy", "scipy", "opencv-python-headless",
                "transformers", "tokenizers", "peft", "accelerate", "deepspeed", "safetensors", "pyarrow",
                "hydra-core", "omegaconf", "pluggy", "pillow")


def resolved_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in KEY_PACKAGES:
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return dict(sorted(versions.items()))
