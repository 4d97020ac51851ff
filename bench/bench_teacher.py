"""The teacher against references it was not tuned on: ladders of real clips at untuned strengths, with VMAF,
BRISQUE, the pristine-vs-distorted AUC and the content check, through `s2i validate`.

    .venv/bin/python bench/bench_teacher.py --corpus ../shared/corpus [--clips 01,02,...] [--output runs/teacher]

The corpus is a folder of real clips with a `corpus.csv` (file, content, condition, ...): the clips named by
`--clips` (number prefixes; default: ten of different content) become ladders, and the clips whose condition
starts with "clean" form the content check. The strengths below are deliberately not the ones in
conf/validate.yaml, on which the scorers were tuned. Then `bench/bench_corpus.py` scores the whole corpus
(false alarms on clean clips, degraded clips caught). Needs the `refs` extra (vmaf-torch, brisque).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

# ten contents: walking POV, dashcam, hazy landscape, aerial, warm portrait, green-screen face, vertical
# selfie, sports broadcast, street pan, 2D animation
DEFAULT_CLIPS = "01,02,03,04,09,13,14,17,19,23"
UNTUNED = {
    "sharpness": [0.8, 1.2, 1.8, 2.6, 3.5], "noise": [6, 11, 18, 26, 36], "motion_blur": [2, 3, 5, 7, 10],
    "exposure": [0.07, 0.13, 0.2, 0.28, 0.38], "stability": [0.004, 0.008, 0.016, 0.03, 0.06],
    "contrast": [0.2, 0.35, 0.5, 0.65, 0.8], "color_cast": [0.06, 0.11, 0.16, 0.22, 0.3],
    "compression": [26, 31, 36, 41, 46], "resolution": [1.3, 1.8, 2.3, 3.2, 4.5],
    "flicker": [0.015, 0.03, 0.055, 0.08, 0.12], "fluency": [1.5, 2.5, 3.5, 4.5, 6],
    "colorfulness": [0.25, 0.45, 0.65, 0.85, 0.97], "lighting": [0.4, 0.6, 0.8, 1.0, 1.2],
    "composition": [1, 2.5, 4, 6.5, 10],
}


def link_all(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).symlink_to(f.resolve())
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--clips", default=DEFAULT_CLIPS)
    parser.add_argument("--output", default="runs/teacher")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    rows = list(csv.DictReader(open(corpus / "corpus.csv")))
    wanted = set(args.clips.split(","))
    ladder_clips = [corpus / r["file"] for r in rows if r["file"].split("_")[0] in wanted]
    clean_clips = [corpus / r["file"] for r in rows if r["condition"].lower().startswith("clean")]
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="s2i-teacher-") as tmp:
        ladders = link_all(ladder_clips, Path(tmp) / "ladders")
        clean = link_all(clean_clips, Path(tmp) / "clean")
        overrides = [f"strengths.{k}=[{','.join(str(x) for x in v)}]" for k, v in UNTUNED.items()]
        cmd = [str(bin_dir / "s2i"), "validate", f"input={ladders}", f"clean={clean}", f"output={args.output}",
               "references=[vmaf,brisque]", f"seconds={args.seconds}", f"workers={args.workers}", *overrides]
        code = subprocess.run(cmd, check=False).returncode
    corpus_check = [sys.executable, str(Path(__file__).with_name("bench_corpus.py")), "--corpus", str(corpus),
                    "--json", str(Path(args.output) / "corpus.json"), "--workers", str(args.workers)]
    return code or subprocess.run(corpus_check, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
