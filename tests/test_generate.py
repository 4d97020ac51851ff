"""End to end: `s2i generate` on real ffmpeg-encoded videos with varied distortions and broken files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import S2I, make_video, run_s2i

from s2i_core.dimensions import LEVELS
from s2i_core.sig.io import read_jsonl
from s2i_core.sig.records import validate_record

# (folder/name, lavfi source, filter): 20 good videos, distortions the scorers should see.
GOOD = [
    ("clean/testsrc.mp4", "testsrc2", None), ("clean/bars.mp4", "smptebars", None),
    ("clean/mandel.mp4", "mandelbrot", None), ("clean/rgb.mp4", "rgbtestsrc", None),
    ("capture/noise_light.mp4", "testsrc2", "noise=alls=20:allf=t"),
    ("capture/noise_heavy.mp4", "testsrc2", "noise=alls=60:allf=t"),
    ("capture/dark.mp4", "testsrc2", "eq=brightness=-0.45"), ("capture/bright.mp4", "testsrc2", "eq=brightness=0.5"),
    ("capture/blur.mp4", "testsrc2", "boxblur=4"), ("capture/blur_bars.mp4", "smptebars", "boxblur=6"),
    ("editing/grey.mp4", "testsrc2", "hue=s=0"), ("editing/flat.mp4", "testsrc2", "eq=contrast=0.3"),
    ("editing/cast.mp4", "testsrc2", "colorbalance=rs=0.6:gs=-0.3"), ("editing/pale.mp4", "mandelbrot", "hue=s=0.3"),
    ("transmission/deep/lowres.mp4", "testsrc2", "scale=32:24,scale=128:96"),
    ("transmission/deep/stutter.mp4", "testsrc2", "fps=4,fps=20"),
    ("transmission/blocky.mp4", "mandelbrot", None), ("transmission/dark_noisy.mp4", "smptebars",
                                                      "eq=brightness=-0.3,noise=alls=40:allf=t"),
    ("transmission/flicker.mp4", "testsrc2", "eq=brightness='0.3*sin(40*t)':eval=frame"),
    ("clean/flat_black.mp4", "color", None),
]
BROKEN = {"broken/zero.mp4", "broken/truncated.mp4", "broken/not_video.mp4", "broken/audio_only.mp4",
          "broken/deep/garbage.mkv"}
ONE_FRAME = "broken/one_frame.mp4"  # a valid video: a record if every scorer handles one frame, else an error


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for rel, source, vf in GOOD:
        extra = ("-crf", "48") if "blocky" in rel else ()
        make_video(root / rel, source=source, size="128x96", rate=20, seconds=0.6, vf=vf, extra=extra)
    (root / "broken").mkdir()
    (root / "broken/zero.mp4").write_bytes(b"")
    good = (root / "clean/testsrc.mp4").read_bytes()
    (root / "broken/truncated.mp4").write_bytes(good[: len(good) // 2])
    (root / "broken/not_video.mp4").write_text("this is a text file, not a video\n")
    (root / "broken/deep").mkdir()
    (root / "broken/deep/garbage.mkv").write_bytes(os.urandom(4096))
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5", "-c:a", "aac", str(root / "broken/audio_only.mp4"))
    make_video(root / ONE_FRAME, size="128x96", rate=20, seconds=1, extra=("-frames:v", "1"))
    (root / "notes.txt").write_text("not a video suffix: ignored\n")
    return root


@pytest.fixture(scope="module")
def reference(dataset, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("ref") / "out"
    proc = run_s2i("generate", f"input={dataset}", f"output={out}", "executor.workers=2", "progress=false")
    return out, proc


DATASET_FILES = ("records.jsonl", "errors.jsonl", "instructions/stage1.jsonl", "instructions/stage2.jsonl",
                 "instructions/dataset_info.json", "records.parquet")


def test_every_good_video_has_a_valid_record_and_every_broken_one_an_error(dataset, reference):
    out, proc = reference
    assert proc.returncode == 1, proc.stdout + proc.stderr  # exit status says some videos failed
    assert "Traceback" not in proc.stderr
    records = read_jsonl(out / "records.jsonl")
    errors = read_jsonl(out / "errors.jsonl")
    by_video = {r["video"]: r for r in records}
    assert len(by_video) == len(records)
    assert {rel for rel, _, _ in GOOD} <= set(by_video)
    for r in records:
        assert validate_record(r) == [], r["video"]
        assert r["meta"]["width"] == 128 and r["meta"]["height"] == 96
        assert set(r["dimensions"]) and all(d["level"] in LEVELS for d in r["dimensions"].values())
    failed = {e["video"]: e for e in errors}
    assert BROKEN <= set(failed)
    assert all(e["error"] and e["message"] for e in errors)
    assert failed["broken/zero.mp4"]["error"] == "empty"
    assert failed["broken/audio_only.mp4"]["error"] == "no_video_stream"
    assert (ONE_FRAME in by_video) != (ONE_FRAME in failed)
    assert set(by_video) | set(failed) == {rel for rel, _, _ in GOOD} | BROKEN | {ONE_FRAME}

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"] == str(dataset.resolve())
    assert manifest["counts"]["errors"] == len(errors) and manifest["counts"]["records"] == len(records)
    for key, fid in manifest["fidelity"].items():
        assert fid["n"] == len(records), key
    assert any(f["srcc"] is not None and f["srcc"] > 0.5 for f in manifest["fidelity"].values())
    report = (out / "report.html").read_text()
    assert "Mapping fidelity" in report and "<svg" in report and "data:image/jpeg;base64," in report


def test_instruction_files_follow_the_trainer_interface(dataset, reference):
    out, _ = reference
    records = {r["video"]: r for r in read_jsonl(out / "records.jsonl")}
    stage1 = read_jsonl(out / "instructions/stage1.jsonl")
    stage2 = read_jsonl(out / "instructions/stage2.jsonl")
    for item in stage1 + stage2:
        assert set(item) >= {"id", "video", "conversations"} and item["video"] in records
        # what LLaMA-Factory and `datasets` open: absolute, so it resolves from the dataset folder as written
        (path,) = item["videos"]
        assert os.path.isabs(path) and Path(path).is_file() and Path(path) == dataset.resolve() / item["video"]
        human, gpt = item["conversations"]
        # the Qwen-VL templates write the question right after the video (`<|vision_end|>How is ...`)
        assert human["from"] == "human" and human["value"].startswith("<video>") and human["value"][7] != "\n"
        assert gpt["from"] == "gpt" and gpt["value"]
    assert len({i["id"] for i in stage1 + stage2}) == len(stage1) + len(stage2)
    for r in records.values():
        assert len([i for i in stage1 if i["video"] == r["video"]]) == len(r["dimensions"]) + 1
    overall = [i for i in stage1 if i["id"].endswith("#s1:overall")]
    for item in overall:
        assert item["conversations"][1]["value"].endswith(f"{records[item['video']]['overall']['level']}.")
    justifications = [i for i in stage2 if i["id"].endswith("#s2:justification")]
    assert {i["conversations"][1]["value"] for i in justifications} == {r["justification"] for r in records.values()}
    info = json.loads((out / "instructions/dataset_info.json").read_text())
    assert info["s2i_stage1"]["formatting"] == "sharegpt" and info["s2i_stage2"]["columns"]["videos"] == "videos"
    import pyarrow.parquet as pq

    table = pq.read_table(out / "records.parquet")
    assert table.num_rows == len(records) and "overall_level" in table.column_names


def _journal_lines(out: Path) -> int:
    journals = list((out / ".s2i").glob("scores-*.jsonl")) if (out / ".s2i").exists() else []
    return sum(f.read_bytes().count(b"\n") for f in journals)


def test_sigkill_mid_run_then_rerun_equals_an_uninterrupted_run(dataset, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "killed"
    cmd = [S2I, "generate", f"input={dataset}", f"output={out}", "executor.workers=1", "progress=false"]
    total = len(GOOD) + len(BROKEN) + 1
    mid_way = 0
    for _ in range(3):
        before = _journal_lines(out)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while _journal_lines(out) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole job, workers included, as an OOM kill or node loss would
        proc.wait()
        mid_way += 0 < _journal_lines(out) < total
    assert mid_way >= 1, "no kill landed while videos were being scored"
    final = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert final.returncode == 1, final.stderr
    for name in DATASET_FILES:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    videos = [r["video"] for r in read_jsonl(out / "records.jsonl")]
    assert len(videos) == len(set(videos))
    assert not list(out.rglob(".*.tmp*")), "a temporary file was left behind"


def _justification_texts(out: Path) -> dict[str, str]:
    return {r["video"]: r["justification"] for r in read_jsonl(out / "records.jsonl")}


def _levels(out: Path) -> dict[str, list]:
    return {r["video"]: [r["overall"]["level"], sorted((k, v["level"]) for k, v in r["dimensions"].items())]
            for r in read_jsonl(out / "records.jsonl")}


def test_same_seed_is_byte_identical_and_another_seed_only_rephrases(dataset, reference, tmp_path):
    ref, _ = reference
    same = tmp_path / "same"
    run_s2i("generate", f"input={dataset}", f"output={same}", "executor.workers=0", "progress=false")
    for name in (*DATASET_FILES, "report.html"):
        assert (same / name).read_bytes() == (ref / name).read_bytes(), name
    other = tmp_path / "other"
    shutil.copytree(ref / ".s2i", other / ".s2i")  # phase 1 scores are seed-independent: reuse them
    run_s2i("generate", f"input={dataset}", f"output={other}", "seed=7", "executor.workers=0", "progress=false")
    assert _levels(other) == _levels(ref)
    a, b = _justification_texts(ref), _justification_texts(other)
    assert sum(a[v] != b[v] for v in a) >= len(a) // 2


def test_ray_executor_gives_the_same_records_as_the_local_pool(dataset, reference, tmp_path):
    pytest.importorskip("ray")
    ref, _ = reference
    out = tmp_path / "ray"
    proc = run_s2i("generate", f"input={dataset}", f"output={out}", "executor=ray", "executor.local_cpus=2",
                   "limit=8", "progress=false")
    assert proc.returncode in (0, 1), proc.stderr
    expected = {r["video"]: r for r in read_jsonl(ref / "records.jsonl")}
    got = read_jsonl(out / "records.jsonl")
    errors = read_jsonl(out / "errors.jsonl")
    assert len(got) + len(errors) == 8
    for r in got:  # equal-width levels depend on the video alone, so each record matches the full run's
        assert r == expected[r["video"]]


def test_balanced_pick_with_one_scorer_flat_template_and_quantile_levels(dataset, tmp_path):
    out = tmp_path / "balanced"
    proc = run_s2i("generate", f"input={dataset}", f"output={out}", "balance.n=6", "scorers=[exposure]",
                   "template=flat", "rewriter=identity", "level_mapper=quantile", "level_mapper.min_videos=3",
                   "executor.workers=0",
                   "progress=false")
    assert proc.returncode == 0, proc.stderr  # unreadable files have no proxy score and are never picked
    records = read_jsonl(out / "records.jsonl")
    assert len(records) == 6 and not read_jsonl(out / "errors.jsonl")
    for r in records:
        assert set(r["dimensions"]) == {"exposure"} and set(r["groups"]) == {"technical"}  # no aesthetic group
        assert r["justification"].startswith("Quality ratings of this video:")
        assert validate_record(r) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["videos"] == 6 and "exposure" in manifest["level_mapper"]["thresholds"]
    assert len({r["dimensions"]["exposure"]["level"] for r in records}) >= 3  # quantiles spread the levels


def test_a_changed_video_is_scored_again_on_rerun(tmp_path):
    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5)
    make_video(tmp_path / "in/b.mp4", size="128x96", seconds=0.5)
    args = ("generate", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}", "executor.workers=0",
            "progress=false", "scorers=[exposure,colorfulness]")
    run_s2i(*args, check=True)
    before = {r["video"]: r for r in read_jsonl(tmp_path / "out/records.jsonl")}
    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5, vf="eq=brightness=-0.6,hue=s=0")
    run_s2i(*args, check=True)
    after = {r["video"]: r for r in read_jsonl(tmp_path / "out/records.jsonl")}
    assert after["b.mp4"] == before["b.mp4"]
    assert after["a.mp4"]["dimensions"]["exposure"]["score"] < before["a.mp4"]["dimensions"]["exposure"]["score"]


def test_runs_sharing_a_score_cache_score_each_video_once(tmp_path):
    from s2i_core.sig.io import Journal

    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5)
    make_video(tmp_path / "in/b.mp4", size="128x96", seconds=0.5, source="mandelbrot")
    cache = tmp_path / "cache"

    def generate(out: str, *extra: str):
        run_s2i("generate", f"input={tmp_path / 'in'}", f"output={tmp_path / out}", "executor.workers=0",
                "progress=false", "scorers=[exposure,colorfulness]", f"score_cache={cache}", *extra, check=True)
        return {r["video"]: r for r in read_jsonl(tmp_path / out / "records.jsonl")}

    def journal_lines():
        (path,) = cache.glob("scores-*.jsonl")
        return path.read_text().splitlines()

    first = generate("one")
    assert len(journal_lines()) == 2 and not list((tmp_path / "one/.s2i").glob("scores-*.jsonl"))
    # another output, another seed: the scores come from the cache, nothing is scored again
    second = generate("two", "seed=3")
    assert len(journal_lines()) == 2
    assert {v: r["dimensions"] for v, r in second.items()} == {v: r["dimensions"] for v, r in first.items()}
    # a changed video is scored again, the other is not
    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5, vf="eq=brightness=-0.6")
    third = generate("three")
    assert len(journal_lines()) == 3
    assert third["a.mp4"]["dimensions"]["exposure"]["score"] < first["a.mp4"]["dimensions"]["exposure"]["score"]
    assert third["b.mp4"]["dimensions"] == first["b.mp4"]["dimensions"]
    assert set(Journal(next(cache.glob("scores-*.jsonl")), shared=True).read()) == {"a.mp4", "b.mp4"}
