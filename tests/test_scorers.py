"""The 14 weight-free scorers and the optional learned ones, on real decoded video."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
from conftest import make_video

from s2i_core.dimensions import DIMENSIONS
from s2i_core.errors import ConfigError
from s2i_core.hydra_bridge import samples_dir
from s2i_core.registry import load_registry
from s2i_core.scoring import DimensionScore, ScorerError, ramp, sampling_for, score_clip
from s2i_core.video import Sampling, decode_clip

REGISTRY = load_registry()
DEFAULT = [n for n, e in REGISTRY.entries("scorer").items() if e.spec.default]


@pytest.fixture(scope="module")
def scorers():
    return [REGISTRY.build("scorer", name) for name in DEFAULT]


@pytest.fixture(scope="module")
def sample_scores(scorers):
    """Scores of every built-in sample (real bikes footage, one distortion each)."""
    from pathlib import Path

    root = Path(samples_dir())
    sampling = sampling_for(scorers)
    return {p.relative_to(root).as_posix(): score_clip(scorers, decode_clip(p, sampling))
            for p in sorted(root.rglob("*.mp4"))}


def test_one_default_scorer_per_dimension():
    assert sorted(DEFAULT) == sorted(d.name for d in DIMENSIONS)
    for name in DEFAULT:
        spec = REGISTRY.get("scorer", name)
        assert spec.dimension == name and spec.description
        assert REGISTRY.build("scorer", name).dimension == name
        assert spec.build.__doc__ and "raw" in spec.build.__doc__  # docstring says how raw maps to a score


def test_learned_scorers_are_opt_in_with_a_dimension_option():
    for name in ("pyiqa", "torch_model"):
        spec = REGISTRY.get("scorer", name)
        assert spec.default is False
        assert "dimension" in {f.name for f in dataclasses.fields(spec.config)}


def check_score(s: DimensionScore) -> None:
    assert isinstance(s, DimensionScore) and 0.0 <= s.score <= 1.0
    assert math.isfinite(s.raw) and s.unit


def test_scores_are_in_range_on_real_footage_and_pristine_is_not_bad(sample_scores):
    for result in sample_scores.values():
        assert sorted(result) == sorted(DEFAULT)
        for s in result.values():
            check_score(s)
    pristine = sample_scores["pristine.mp4"]
    technical = [pristine[d.name].score for d in DIMENSIONS if d.group == "technical"]
    assert min(technical) > 0.4, pristine  # undistorted footage is at least fair on every technical axis


@pytest.mark.parametrize("sample,dimension", [
    ("capture/noisy.mp4", "noise"), ("capture/out_of_focus.mp4", "sharpness"),
    ("capture/underexposed.mp4", "exposure"), ("capture/shaky.mp4", "stability"),
    ("editing/washed_out.mp4", "contrast"), ("editing/colour_cast.mp4", "color_cast"),
    ("transmission/blocky.mp4", "compression"), ("transmission/stutter.mp4", "fluency"),
    ("transmission/flicker.mp4", "flicker"),
])
def test_each_sample_is_caught_by_its_own_scorer(sample_scores, sample, dimension):
    own = sample_scores[sample][dimension].score
    assert own < sample_scores["pristine.mp4"][dimension].score - 0.3
    assert own < 0.6  # at most "fair" on the equal-width levels: the distortion is plain to see


def test_noise_is_not_read_as_vivid_colour(sample_scores):
    # colour noise raises a per-pixel Hasler-Süsstrunk M; a teacher that calls a noisy clip "vivid" would
    # reward the distortion in the aesthetic group (the measure averages regions over time instead)
    pristine, noisy = sample_scores["pristine.mp4"], sample_scores["capture/noisy.mp4"]
    assert noisy["colorfulness"].score < pristine["colorfulness"].score + 0.1, (pristine, noisy)


def test_degenerate_clips_still_score(tmp_path, scorers):
    one = make_video(tmp_path / "one.mp4", size="96x64", extra=("-frames:v", "1"))
    still = make_video(tmp_path / "still.mp4", source="color", vf="lutrgb=r=128:g=128:b=128", size="64x48",
                       seconds=0.6)
    for path in (one, still):
        result = score_clip(scorers, decode_clip(path, sampling_for(scorers)))
        for s in result.values():
            check_score(s)
    # a still grey picture is perfectly steady and fluent, and has no colour
    assert result["stability"].score > 0.85 and result["fluency"].score > 0.85
    assert result["colorfulness"].score < 0.15


def test_synthetic_blur_and_noise_move_only_their_scorers(tmp_path, scorers):
    base = {"source": "mandelbrot", "size": "256x192", "seconds": 0.6}
    paths = {"clean": make_video(tmp_path / "a.mp4", extra=("-crf", "12"), **base),
             "blur": make_video(tmp_path / "b.mp4", vf="gblur=sigma=2.5", extra=("-crf", "12"), **base),
             "noise": make_video(tmp_path / "c.mp4", vf="noise=alls=25:allf=t", extra=("-crf", "12"), **base)}
    got = {k: score_clip(scorers, decode_clip(p, sampling_for(scorers))) for k, p in paths.items()}
    assert got["blur"]["sharpness"].score < got["clean"]["sharpness"].score - 0.2
    assert got["noise"]["noise"].score < got["clean"]["noise"].score - 0.3
    assert got["noise"]["noise"].raw > 3 * got["clean"]["noise"].raw
    assert abs(got["blur"]["exposure"].score - got["clean"]["exposure"].score) < 0.05


def test_ramp_is_smooth_monotone_and_never_ties():
    assert ramp(1.0, bad=8, good=1) == pytest.approx(0.9) and ramp(8.0, bad=8, good=1) == pytest.approx(0.1)
    xs = np.linspace(-50, 60, 200)
    ys = [ramp(x, bad=0, good=10) for x in xs]
    assert all(a < b for a, b in itertools.pairwise(ys))
    assert ramp(float("nan"), 0, 1) == 0.0


def test_sampling_for_merges_what_scorers_declare():
    class Needy:
        dimension = "flicker"
        sampling = Sampling(spatial_frames=2, temporal_runs=5, run_length=30)

    merged = sampling_for([Needy(), object()])
    assert merged.temporal_runs == 5 and merged.run_length == 30
    assert merged.spatial_frames == Sampling().spatial_frames


def test_a_broken_scorer_is_reported_by_dimension_and_file(tmp_path):
    class Broken:
        dimension = "noise"

        def __call__(self, clip):
            raise ZeroDivisionError("boom")

    path = make_video(tmp_path / "x.mp4", size="64x48", seconds=0.3)
    with pytest.raises(ScorerError, match=r"x.mp4: scorer 'noise' failed: ZeroDivisionError: boom"):
        score_clip([Broken()], decode_clip(path, Sampling(spatial_frames=1, temporal_runs=0, run_length=0)))


class TinyQuality:
    """A stand-in for a learned model: mean brightness of the input (so output is checkable)."""

    @staticmethod
    def build():
        import torch

        class Mean(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = torch.nn.Parameter(torch.tensor(2.0))

            def forward(self, x):
                return x.mean() * self.scale

        return Mean()


def make_tiny_model():
    return TinyQuality.build()


def test_torch_model_scorer_loads_torchscript_and_safetensors(tmp_path):
    import torch
    from safetensors.torch import save_file

    model = TinyQuality.build()
    script = tmp_path / "m.pt"
    torch.jit.script(model).save(str(script))
    weights = tmp_path / "m.safetensors"
    save_file({"scale": torch.tensor(2.0)}, str(weights))
    video = make_video(tmp_path / "v.mp4", source="color", vf="negate", size="64x48", seconds=0.4)
    clip = decode_clip(video, Sampling(spatial_frames=2, temporal_runs=1, run_length=4))
    for node in ({"impl": "torch_model", "path": str(script), "dimension": "noise", "high": 2.0},
                 {"impl": "torch_model", "path": str(weights), "factory": "test_scorers:make_tiny_model",
                  "dimension": "noise", "high": 2.0, "input": "clip"}):
        scorer = REGISTRY.build("scorer", node)
        s = scorer(clip)
        assert scorer.dimension == "noise"
        assert s.raw == pytest.approx(2.0, abs=0.05) and s.score > 0.85  # white frames, scale 2


def test_learned_scorers_fail_clearly_without_weights(tmp_path):
    with pytest.raises(ConfigError, match="needs `path`"):
        REGISTRY.build("scorer", {"impl": "torch_model"})
    with pytest.raises(ConfigError, match="does not exist"):
        REGISTRY.build("scorer", {"impl": "pyiqa", "path": str(tmp_path / "nope.pth")})
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"x")
    with pytest.raises(ConfigError, match="factory"):
        REGISTRY.build("scorer", {"impl": "torch_model", "path": str(bad)})
    with pytest.raises(Exception, match="nosie"):
        REGISTRY.build("scorer", {"impl": "torch_model", "path": str(bad), "dimension": "nosie"})


def test_pyiqa_scorer_wiring(tmp_path):
    weights = tmp_path / "musiq.pth"
    weights.write_bytes(b"not really weights")
    try:
        import pyiqa  # noqa: F401
    except ImportError:
        # no torchvision here: the scorer must say which extra is missing rather than fail obscurely
        with pytest.raises(ConfigError, match="pyiqa"):
            REGISTRY.build("scorer", {"impl": "pyiqa", "path": str(weights)})
        pytest.skip("pyiqa (needs torchvision) is not installed; its import is skipped")
    with pytest.raises(Exception, match="."):  # garbage weights must not load, whatever pyiqa raises
        REGISTRY.build("scorer", {"impl": "pyiqa", "path": str(weights)})


def test_fluency_tells_a_scene_cut_from_stutter(tmp_path):
    from conftest import ffmpeg

    cut = tmp_path / "cut.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=0.8", "-f", "lavfi", "-i",
           "mandelbrot=size=160x120:rate=25", "-filter_complex", "[1]trim=duration=0.8,negate[b];[0][b]concat=n=2",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", str(cut))
    stutter = make_video(tmp_path / "stutter.mp4", size="160x120", seconds=1.6, vf="framestep=3,fps=25")
    fluency = REGISTRY.build("scorer", "fluency")
    whole = Sampling(spatial_frames=2, temporal_runs=1, run_length=40)
    assert fluency(decode_clip(cut, whole)).score > 0.85
    assert fluency(decode_clip(stutter, whole)).score < 0.3
