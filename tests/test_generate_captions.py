"""Optional content captions from a video LMM adapter (a tiny random Qwen2-VL built from config, no weights)."""

from __future__ import annotations

import json

import pytest
from conftest import make_video, run_s2i

from s2i_core.sig.io import read_jsonl


@pytest.mark.slow
def test_captions_come_from_the_lmm_and_are_journaled(tmp_path):
    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5)
    out = tmp_path / "out"
    args = ("generate", f"input={tmp_path / 'in'}", f"output={out}", "progress=false", "executor.workers=0",
            "captions.enabled=true", "captions.device=cpu", "captions.max_new_tokens=6",
            "captions.model={impl:qwen2_vl,tiny:true,frames:4,max_pixels:3136,tiny_image_size:28}")
    proc = run_s2i(*args)
    assert proc.returncode == 0, proc.stderr
    (record,) = read_jsonl(out / "records.jsonl")
    assert isinstance(record["caption"], str)
    assert record["justification"].startswith("Content: ")
    journal = next((out / ".s2i").glob("captions-*.jsonl"))
    assert json.loads(journal.read_text().splitlines()[0])["caption"] == record["caption"]
    first = (out / "records.jsonl").read_bytes()
    assert run_s2i(*args).returncode == 0 and (out / "records.jsonl").read_bytes() == first


def test_captions_need_a_model(tmp_path):
    make_video(tmp_path / "in/a.mp4", size="128x96", seconds=0.5)
    proc = run_s2i("generate", f"input={tmp_path / 'in'}", f"output={tmp_path / 'out'}", "progress=false",
                   "executor.workers=0", "captions.enabled=true")
    assert proc.returncode == 2 and "captions.model" in proc.stderr
