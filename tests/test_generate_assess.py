"""`s2i assess VIDEO`: one video's scores, levels and justification, for a person or as JSON."""

from __future__ import annotations

import json

from conftest import run_s2i

from s2i_core.sig.records import validate_record


def test_assess_prints_a_valid_record_as_json(video_factory):
    video = video_factory("noisy.mp4", size="128x96", seconds=0.6, vf="noise=alls=50:allf=t")
    proc = run_s2i("assess", str(video), "json=true")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert validate_record(record) == [] and record["video"] == str(video)
    assert len(record["dimensions"]) >= 2 and record["justification"].count(record["overall"]["level"]) >= 1


def test_assess_for_a_person_and_for_a_broken_file(video_factory, tmp_path):
    video = video_factory("clip.mp4", size="128x96", seconds=0.6)
    proc = run_s2i("assess", str(video), "scorers=[exposure,colorfulness]", "template=flat")
    assert proc.returncode == 0, proc.stderr
    assert "justification" in proc.stdout and "colours are vivid and rich" in proc.stdout
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video")
    proc = run_s2i("assess", str(broken), "json=true", cwd=tmp_path)
    assert proc.returncode == 1 and json.loads(proc.stdout)["error"] == "not_a_video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4", "clip.mp4"]  # assess writes no files
