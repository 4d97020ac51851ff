"""The `s2i` console script as a user meets it."""

from __future__ import annotations

import json

from conftest import make_video, run_s2i


def test_version_and_help_list_commands():
    assert run_s2i("--version", check=True).stdout.startswith("s2i ")
    out = run_s2i("--help", check=True).stdout
    for command in ("plugins", "generate"):
        assert command in out


def test_unknown_command_lists_commands():
    proc = run_s2i("genrate")
    assert proc.returncode == 2
    assert "unknown command 'genrate'" in proc.stderr and "did you mean 'generate'" in proc.stderr


def test_plugins_table_names_distribution_version_and_names():
    out = run_s2i("plugins", check=True).stdout
    assert "score2instruct" in out and "0.1.0" in out and "scorers" in out
    rows = json.loads(run_s2i("plugins", "--json", check=True).stdout)
    builtin = [r for r in rows if r["distribution"] == "score2instruct"]
    assert any("scorer" in r["provides"] for r in builtin)


def test_misspelled_plugin_name_suggests_before_running(tmp_path):
    proc = run_s2i("generate", "scorers=[exposur]", f"output={tmp_path / 'o'}")
    assert proc.returncode == 2
    assert "unknown scorer 'exposur'" in proc.stderr and "did you mean 'exposure'" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_multirun_jobs_write_separate_output_folders(tmp_path):
    videos = tmp_path / "videos"
    make_video(videos / "a.mp4", size="96x72", seconds=0.6)
    make_video(videos / "b.mp4", source="mandelbrot", size="96x72", seconds=0.6)
    out = tmp_path / "sweep"
    proc = run_s2i("generate", "-m", "scorers=[exposure],[colorfulness]", f"input={videos}", f"output={out}")
    assert proc.returncode == 0, proc.stderr
    jobs = sorted(p for p in out.iterdir() if p.is_dir())
    assert [p.name for p in jobs] == ["0", "1"]
    seen = []
    for job in jobs:
        records = [json.loads(line) for line in (job / "records.jsonl").read_text().splitlines()]
        assert len(records) == 2
        seen.append(sorted(records[0]["dimensions"]))
    assert seen == [["exposure"], ["colorfulness"]]


def test_assess_positional_video_and_json_flag():
    from importlib.resources import files

    sample = files("s2i_core") / "samples" / "pristine.mp4"
    proc = run_s2i("assess", str(sample), "--json", check=True)
    record = json.loads(proc.stdout)
    assert record["video"].endswith("pristine.mp4") and record["overall"]["level"] in (
        "bad", "poor", "fair", "good", "excellent")
