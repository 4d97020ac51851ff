"""`s2i bench`: scoring benchmark on real encoded videos, S2I-Bench building, justification judging."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import make_video, run_s2i

from s2i_core.bench import s2ibench
from s2i_core.bench.judging import OVERALL
from s2i_core.dimensions import DIMENSIONS, LEVELS
from s2i_core.errors import ConfigError

BLUR = (0, 1, 2, 4, 8)


@pytest.fixture(scope="module")
def blur_ladder(tmp_path_factory):
    """One source clip at five blur strengths, MOS = -blur; plus a missing file and a broken one."""
    root = tmp_path_factory.mktemp("ladder")
    rows = []
    for sigma in BLUR:
        vf = f"gblur=sigma={sigma}" if sigma else None
        make_video(root / f"blur{sigma}.mp4", source="testsrc2", size="160x120", seconds=0.4, vf=vf)
        rows.append((f"blur{sigma}.mp4", -sigma))
    (root / "broken.mp4").write_bytes(b"not a video at all" * 10)
    rows += [("broken.mp4", -3), ("gone.mp4", -5)]
    with open(root / "labels.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([("path", "mos"), *rows])
    return root


def test_scoring_counts_failures_and_writes_report(blur_ladder, tmp_path):
    out = tmp_path / "sig"
    proc = run_s2i("bench", "task=scoring", "dataset=csv", f"dataset.root={blur_ladder}", "source=sig",
                   "bootstrap=50", f"output={out}")
    assert proc.returncode == 1, proc.stderr  # failures are not silent: exit status says so
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["videos"], metrics["scored"], metrics["failed"]) == (7, 5, 2)
    failures = {f["video"]: f["error"] for f in map(json.loads, (out / "failures.jsonl").read_text().splitlines())}
    assert failures["gone.mp4"] == "missing" and "broken.mp4" in failures
    with open(out / "predictions.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    assert (out / "scatter.png").stat().st_size > 1000
    assert set(metrics["ci95"]) == {"srcc", "krcc", "plcc_raw"}
    assert "SRCC" in proc.stdout


def test_scoring_with_one_scorer_plugin_tracks_the_blur_ladder(blur_ladder, tmp_path):
    labels = tmp_path / "clean.csv"
    labels.write_text("path,mos\n" + "".join(f"blur{s}.mp4,{-s}\n" for s in BLUR))
    out = tmp_path / "sharp"
    proc = run_s2i("bench", "task=scoring", f"dataset.root={blur_ladder}", f"dataset.labels={labels}",
                   "source=scorer", "scorer=sharpness", "bootstrap=0", f"output={out}")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["scored"] == 5 and metrics["failed"] == 0
    assert metrics["srcc"] >= 0.9  # more blur, less sharpness: the ranking must follow the ladder


def test_scoring_rejects_an_unknown_source(blur_ladder, tmp_path):
    proc = run_s2i("bench", "task=scoring", f"dataset.root={blur_ladder}", "source=magic", f"output={tmp_path}")
    assert proc.returncode == 2 and "unknown source 'magic'" in proc.stderr


def record(video: str, level: str) -> dict:
    dims = {d.name: {"score": 0.5, "level": level, "raw": 0.0, "group": d.group} for d in DIMENSIONS}
    return {"video": video, "meta": {}, "dimensions": dims,
            "groups": {"technical": {"score": 0.5, "level": level}, "aesthetic": {"score": 0.5, "level": level}},
            "overall": {"score": 0.5, "level": level},
            "justification": f"Sharpness is {level} and noise is {level}. Overall, the quality is {level}.",
            "qa": []}


def test_s2i_bench_covers_every_dimension_and_overall():
    records = [record(f"v{i}.mp4", LEVELS[i % 5]) for i in range(30)]
    items = s2ibench.build(records, count=400, seed=0)
    assert len(items) == 400 and len({i["id"] for i in items}) == 400
    per_target = {t: sum(i["dimension"] == t for i in items) for t in s2ibench.TARGETS}
    assert set(per_target) == {*(d.name for d in DIMENSIONS), OVERALL}
    assert max(per_target.values()) - min(per_target.values()) <= 1  # balanced
    overall = next(i for i in items if i["dimension"] == OVERALL)
    source = next(r for r in records if r["video"] == overall["video"])
    assert overall["levels"][OVERALL] == source["overall"]["level"]
    assert s2ibench.build(records, count=50, seed=3) == s2ibench.build(records, count=50, seed=3)
    with pytest.raises(ConfigError, match="at most 30"):
        s2ibench.build(records[:2], count=31)


def test_build_then_judge_the_references_themselves(tmp_path):
    (tmp_path / "records.jsonl").write_text("".join(json.dumps(record(f"v{i}.mp4", LEVELS[i % 5])) + "\n"
                                                    for i in range(4)))
    bench_dir = tmp_path / "bench"
    proc = run_s2i("bench", "task=build", f"records={tmp_path}", "count=60", f"output={bench_dir}")
    assert proc.returncode == 0, proc.stderr
    items = [json.loads(line) for line in (bench_dir / "s2i_bench.jsonl").read_text().splitlines()]
    assert len(items) == 60
    answers = tmp_path / "answers.jsonl"
    # Perfect answers for all but one question, whose answer gets every level wrong.
    rows = [{"id": i["id"], "answer": i["reference"]} for i in items]
    rows[0]["answer"] = "Everything is " + ("bad" if "excellent" in rows[0]["answer"] else "excellent") + "."
    answers.write_text("".join(json.dumps(r) + "\n" for r in rows[:-1]))  # the last one unanswered
    out = tmp_path / "judged"
    proc = run_s2i("bench", "task=justification", f"bench_file={bench_dir / 's2i_bench.jsonl'}",
                   f"answers={answers}", "judge=levels", "repeats=2", f"output={out}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "justification.json").read_text())
    assert result["unanswered"] == 1 and result["questions"] == 60
    assert result["axes"]["level_accuracy"]["mean"] == pytest.approx(58 / 60)
    assert result["axes"]["level_accuracy"]["std"] == 0.0  # deterministic judge


@pytest.mark.slow
def test_tuned_lmm_as_scorer_source_and_as_answerer(blur_ladder, tmp_path):
    """A tiny model trained by `s2i train` scores the ladder (level tokens) and answers S2I-Bench questions.
    The bench steps run in this process (the composed config `s2i bench` would run) to load torch once."""
    from s2i_core.hydra_bridge import compose_config
    from lmm_helpers import tiny_overrides, write_instructions
    from s2i_core.pipelines import bench
    from s2i_core.registry import load_registry

    registry = load_registry()
    data = write_instructions(str(tmp_path / "data"), str(blur_ladder),
                              {f"blur{s}.mp4": LEVELS[4 - i] for i, s in enumerate(BLUR)})
    proc = run_s2i("train", f"data={data}", f"output={tmp_path / 'train'}", *tiny_overrides("qwen2_vl"),
                   "stage1.max_steps=1", "stage2.max_steps=1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    model = tmp_path / "train" / "model"

    out = tmp_path / "scored"
    cfg = compose_config("bench", ["task=scoring", f"dataset.root={blur_ladder}", "source=lmm", f"model={model}",
                                   "batch=4", "bootstrap=0", f"output={out}"], registry)
    assert bench.run(cfg, registry) == 1  # the broken and the missing video
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["scored"], metrics["failed"]) == (5, 2)
    with open(out / "predictions.csv") as fh:
        assert all(0.0 <= float(r["prediction"]) <= 1.0 for r in csv.DictReader(fh))

    bench_file = tmp_path / "bench.jsonl"
    items = [{"id": f"q{s}", "video": f"blur{s}.mp4", "dimension": "sharpness", "question": "How sharp is it?",
              "reference": "The sharpness of this video is good.", "levels": {"sharpness": "good"}}
             for s in BLUR[:2]]
    bench_file.write_text("".join(json.dumps(i) + "\n" for i in items))
    out = tmp_path / "answered"
    cfg = compose_config("bench", ["task=justification", f"bench_file={bench_file}", f"model={model}",
                                   f"videos={blur_ladder}", "max_new_tokens=6", "repeats=1", f"output={out}"], registry)
    assert bench.run(cfg, registry) == 0
    answers = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [a["id"] for a in answers] == ["q0", "q1"] and all(isinstance(a["answer"], str) for a in answers)
    assert json.loads((out / "justification.json").read_text())["questions"] == 2
