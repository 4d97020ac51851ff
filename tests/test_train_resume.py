"""Resume is safe: a rerun into the same output continues only the same run. Another config or other data is
refused with the keys that changed (nothing is overwritten) or, with resume=fresh, trained again; a -m sweep
rerun with new values does not reuse the old stages; a torn last log line does not break the rerun."""

from __future__ import annotations

import json

import pytest
from conftest import kill_env, run_s2i, two_clip_instructions
from lmm_helpers import compose, lmm_registry, record_files, tiny_overrides

from s2i_core.errors import ConfigError

STEPS = ["stage1.max_steps=2", "stage2.max_steps=2", "stage1.lr=5e-3", "stage2.lr=5e-3", "stage2.lora_r=4"]


@pytest.fixture
def data_dir(tmp_path):
    return two_clip_instructions(tmp_path)


def _train(data: str, out, *extra: str) -> dict:
    from s2i_core.lmm.trainer import train

    cfg = compose("train", tiny_overrides("qwen2_vl") + STEPS + [f"data={data}", f"output={out}", *extra])
    return train(cfg, str(out), registry=lmm_registry())


def test_resume_with_changed_config_or_dataset_is_refused(tmp_path, data_dir):
    out = tmp_path / "out"
    first = _train(data_dir, out)
    weights = (out / "model" / "model.safetensors").read_bytes()
    again = _train(data_dir, out)  # the same run: both stages are restored, not retrained
    assert [again["stages"][s]["seconds"] for s in (1, 2)] == [first["stages"][s]["seconds"] for s in (1, 2)]

    for change, named in (("stage2.lr=1e-3", "stage2.lr: 0.005 -> 0.001"), ("seed=3", "seed: 0 -> 3"),
                          ("stage1.max_steps=3", "stage1.max_steps: 2 -> 3"),
                          ("lmm.frames=2", "lmm.frames: 4 -> 2")):  # fmt: skip
        with pytest.raises(ConfigError, match="belongs to another run") as refused:
            _train(data_dir, out, change)
        assert named in str(refused.value), str(refused.value)
    # a stage-I change makes stage II stale as well: it is refused for stage I first
    stage2 = tmp_path / "data" / "instructions" / "stage2.jsonl"
    rows = stage2.read_text().splitlines()
    stage2.write_text("\n".join(rows[:-1]) + "\n")  # the dataset lost an item
    record_files(str(tmp_path / "data"))  # ... in a regenerated, consistent dataset (its manifest rewritten)
    with pytest.raises(ConfigError, match="instruction file changed") as refused:
        _train(data_dir, out)
    assert "stage2" in str(refused.value) and "item count 4 -> 3" in str(refused.value)
    assert (out / "model" / "model.safetensors").read_bytes() == weights, "a refused run overwrote the model"

    fresh = _train(data_dir, out, "resume=fresh")  # asked for: the old stages are discarded and trained again
    assert fresh["stages"][2]["items"] == 3 and fresh["stages"][2]["resumed_from"] == 0
    done = json.loads((out / "stage2" / "done.json").read_text())
    assert done["fingerprint"]["data"]["items"] == 3


def test_sweep_rerun_with_new_values_does_not_reuse_old_stages(tmp_path, data_dir):
    args = [*tiny_overrides("qwen2_vl"), *STEPS, f"data={data_dir}", f"output={tmp_path / 'sweep'}"]
    run_s2i("train", "-m", *args, "seed=0", check=True)
    rerun = run_s2i("train", "-m", *args, "seed=1")
    assert rerun.returncode == 2, rerun.stdout + rerun.stderr
    assert "seed: 0 -> 1" in rerun.stderr and "resume=fresh" in rerun.stderr
    summary = json.loads((tmp_path / "sweep" / "0" / "summary.json").read_text())
    assert summary["stages"]["2"]["fingerprint"]["config"]["seed"] == 0  # the old job's result is untouched


def test_torn_last_log_line_and_killed_checkpoint_resume(tmp_path, data_dir):
    """A real SIGKILL after step 1, then a torn half line appended to the log (as a kill mid-write leaves):
    the rerun resumes from the checkpoint (state read with weights_only=True) and logs steps 1..2 once."""
    args = [*tiny_overrides("qwen2_vl"), *STEPS, f"data={data_dir}", f"output={tmp_path / 'run'}",
            "save_every=1", "stage2.enabled=false"]  # fmt: skip
    killed = run_s2i("train", *args, env=kill_env(stage=1, step=1))
    assert killed.returncode == -9, killed.stderr[-2000:]
    log = tmp_path / "run" / "stage1" / "metrics.jsonl"
    with open(log, "a", encoding="utf-8") as fh:
        fh.write('{"stage": 1, "step": 2, "lo')
    run_s2i("train", *args, check=True)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    done = json.loads((tmp_path / "run" / "stage1" / "done.json").read_text())
    assert done["resumed_from"] == 1
