"""`s2i generate` never mixes, loses or falsifies a dataset: one writer per folder, one config per folder,
retries after a fix, a decoder that cannot load stops the run, and every skipped path is reported."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import S2I, make_video, run_s2i

from s2i_core.sig.io import read_jsonl

FAST = ("executor.workers=0", "progress=false")


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for i, (source, vf) in enumerate([("testsrc2", None), ("mandelbrot", None), ("smptebars", "boxblur=4"),
                                      ("testsrc2", "noise=alls=40:allf=t"), ("testsrc2", "eq=brightness=-0.4"),
                                      ("rgbtestsrc", None)]):
        make_video(root / f"v{i}.mp4", source=source, size="128x96", rate=20, seconds=0.6, vf=vf)
    return root


def _dataset_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*")
            if p.is_file() and not p.relative_to(out).as_posix().startswith(".s2i/")}


def _holder(out: Path) -> dict | None:
    try:
        return json.loads((out / ".s2i/lock").read_text())
    except (OSError, ValueError):
        return None


def test_a_second_run_on_a_held_folder_refuses_and_the_first_finishes_intact(videos, tmp_path):
    many = tmp_path / "many"  # enough work that the first run is still scoring when the second starts
    for copy in range(5):
        shutil.copytree(videos, many / f"c{copy}")
    out = tmp_path / "shared"
    first_args = ["generate", f"input={many}", f"output={out}", *FAST]
    first = subprocess.Popen([S2I, *first_args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    deadline = time.monotonic() + 120
    while _holder(out) is None and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _holder(out) == {**_holder(out), "pid": first.pid}, "the first run did not take the lock"
    # Hold the first run (and its workers) where it is, lock taken, work half done: however fast this machine
    # scores, the second run then starts while the first is still running.
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        second = run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[noise]", "writers=none",
                         "report=false", *FAST)
        assert first.poll() is None, "the first run ended before the second was refused: the test proves nothing"
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "Traceback" not in second.stderr
    message = " ".join(second.stderr.split())
    assert str(out) in message and f"pid {first.pid}" in message and "in use by another run" in message
    assert time.monotonic() - started < 60  # refused at once, not after waiting for the lock
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err

    # The same run alone (its scores reused, so only the derived files are rebuilt) writes the same bytes.
    alone = tmp_path / "alone"
    shutil.copytree(out / ".s2i", alone / ".s2i", ignore=shutil.ignore_patterns("lock", "outputs.json"))
    run_s2i("generate", f"input={many}", f"output={alone}", *FAST, check=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["records"] == 30
    assert set(manifest["files"]) | {"manifest.json"} == _dataset_files(out) == _dataset_files(alone)
    for name in manifest["files"]:
        assert (out / name).read_bytes() == (alone / name).read_bytes(), name
    assert len(manifest["config"]["scorers"]) == 14 and not list(out.rglob(".*.tmp*"))


def test_another_config_leaves_no_stale_file_and_train_refuses_data_it_does_not_list(videos, tmp_path):
    out = tmp_path / "data"
    run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[exposure,noise]", *FAST, check=True)
    assert {"instructions/stage1.jsonl", "records.parquet", "report.html"} <= _dataset_files(out)
    (out / "notes.txt").write_text("the user's own file\n")  # never written by a run: never removed

    run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[noise]", "writers=none", "report=false",
            *FAST, check=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert _dataset_files(out) == set(manifest["files"]) | {"manifest.json", "notes.txt"}
    assert set(manifest["files"]) == {"records.jsonl", "errors.jsonl"}
    assert all(set(r["dimensions"]) == {"noise"} for r in read_jsonl(out / "records.jsonl"))

    train = ("train", "lmm=qwen2_vl", "lmm.tiny=true", f"data={out}", f"output={tmp_path / 'tuned'}", "device=cpu")
    proc = run_s2i(*train)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "instructions/stage1.jsonl" in proc.stderr and not (tmp_path / "tuned" / "model").exists()

    # The same refusal for a file left over by hand or changed after the run.
    run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[noise]", "report=false", *FAST, check=True)
    stage1 = out / "instructions/stage1.jsonl"
    stage1.write_text(stage1.read_text().replace("bad", "excellent").replace("poor", "good"))
    proc = run_s2i(*train)
    assert proc.returncode == 2 and "does not match manifest.json" in proc.stderr, proc.stderr


FAILING_DECODER = '''
import importlib.abc, sys

class _BreakTorchcodec(importlib.abc.MetaPathFinder):
    """Loads torch, then makes every libtorchcodec load fail as a CUDA build does on a CPU machine."""
    def find_spec(self, name, path=None, target=None):
        if name == "torchcodec":
            sys.meta_path.remove(self)
            import torch
            real = torch.ops.load_library
            def load_library(path):
                if "libtorchcodec" in str(path):
                    raise OSError(f"Could not load this library: {path}")
                return real(path)
            torch.ops.load_library = load_library
        return None

sys.meta_path.insert(0, _BreakTorchcodec())
'''


def test_a_decoder_that_cannot_load_stops_the_run_before_the_first_video(videos, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(FAILING_DECODER)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")]))}
    out = tmp_path / "out"
    proc = run_s2i("generate", f"input={videos}", f"output={out}", *FAST, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    message = " ".join(proc.stderr.split())
    assert message.startswith("error: the video decoder cannot load") and len(lines) <= 3, proc.stderr
    assert "OSError: Could not load this library" in message and "scripts/setup.sh" in message
    assert not (out / "errors.jsonl").exists() and not (out / "records.jsonl").exists()


def _without_root_override() -> list[str]:
    """A command prefix that takes root's power to read any file away, so a chmod really denies reading."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: a file mode cannot deny root")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", "--bounding-set", caps, "--inh-caps", caps, "--"]


def test_a_video_that_failed_for_its_permissions_is_scored_after_the_fix(tmp_path):
    make_video(tmp_path / "in" / "a.mp4", size="128x96", seconds=0.5)
    make_video(tmp_path / "in" / "b.mp4", size="128x96", seconds=0.5, source="mandelbrot")
    (tmp_path / "in" / "b.mp4").chmod(0o000)
    cmd = [*_without_root_override(), S2I, "generate", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}",
           "scorers=[exposure,noise]", *FAST]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert first.returncode == 1, first.stderr
    errors = read_jsonl(tmp_path / "out/errors.jsonl")
    assert [(e["video"], e["error"]) for e in errors] == [("b.mp4", "unreadable")]
    (tmp_path / "in" / "b.mp4").chmod(0o644)  # the fix changes neither size nor mtime, only the mode
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert not read_jsonl(tmp_path / "out/errors.jsonl")
    assert sorted(r["video"] for r in read_jsonl(tmp_path / "out/records.jsonl")) == ["a.mp4", "b.mp4"]


def test_every_path_that_is_not_a_video_gets_an_error_row_with_its_reason(tmp_path):
    root = tmp_path / "in"
    make_video(root / "good.mp4", size="128x96", seconds=0.5)
    (root / "dangling.mp4").symlink_to(root / "gone.mp4")
    (root / "loop.mp4").symlink_to(root / "loop.mp4")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root)  # a folder loop
    (root / "folder.mp4").mkdir()
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=64x48",
                    "-frames:v", "1", str(tmp_path / "still.png")], check=True)
    shutil.copy(tmp_path / "still.png", root / "picture.mp4")
    (root / "readme.txt").write_text("not a video name: ignored\n")
    out = tmp_path / "out"
    proc = run_s2i("generate", f"input={root}", f"output={out}", "scorers=[exposure]", *FAST)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    kinds = {e["video"]: e["error"] for e in read_jsonl(out / "errors.jsonl")}
    assert kinds == {"dangling.mp4": "broken_link", "loop.mp4": "link_loop", "sub/up": "link_loop",
                     "folder.mp4": "not_a_file", "picture.mp4": "still_image"}
    assert [r["video"] for r in read_jsonl(out / "records.jsonl")] == ["good.mp4"]
    assert all(e["message"] for e in read_jsonl(out / "errors.jsonl"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["errors"] == 5 and manifest["errors_by_kind"]["link_loop"] == 2


def test_the_manifest_records_the_resolved_versions(videos, tmp_path):
    import importlib.metadata as md

    out = tmp_path / "out"
    run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[exposure]", "limit=1", *FAST, check=True)
    versions = json.loads((out / "manifest.json").read_text())["versions"]
    for dist in ("torch", "torchcodec", "numpy", "opencv-python-headless", "transformers", "scipy"):
        assert versions[dist] == md.version(dist), dist
    assert versions["python"] == ".".join(map(str, sys.version_info[:3])) and versions["ffmpeg"].isdigit()


def test_start_up_clean_up_removes_only_temp_files_of_dead_runs(tmp_path):
    from s2i_core.sig.io import remove_stale_temps
    from s2i_core.sig.lock import OutputLock

    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        theirs = tmp_path / "instructions" / f".stage1.jsonl.tmp{alive.pid}"
        stale = tmp_path / f".records.jsonl.tmp{dead.pid}"
        mine = tmp_path / f".report.html.tmp{os.getpid()}"
        for path in (theirs, stale, mine):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("partial")
        assert remove_stale_temps(tmp_path) == 2
        assert theirs.exists() and not stale.exists() and not mine.exists()
    finally:
        alive.kill()
        alive.wait()
    with OutputLock(tmp_path):  # a second holder, even in the same process, is refused
        with pytest.raises(Exception, match=rf"in use by another run \(pid {os.getpid()} on "):
            OutputLock(tmp_path).acquire()
    OutputLock(tmp_path).acquire().release()  # released: free again
