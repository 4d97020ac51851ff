"""The paper's ablation grid as one Hydra multirun (tiny model, a few videos), then `s2i summary`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import make_video, run_s2i

from s2i_core.bench.ablation import as_overrides, train_config
from s2i_core.hydra_bridge import compose_config
from s2i_core.registry import load_registry

GRID = ["full", "no_cot", "no_stage1", "no_preserve", "no_pool", "data_20", "data_50"]


def test_nested_overrides_flatten_to_hydra_syntax():
    node = {"template": "flat", "rewriter": {"preserve_check": False}, "writers": ["sharegpt"],
            "stage1": {"max_steps": 3}, "note": "two words", "limit": None}
    assert as_overrides(node) == ["template=flat", "rewriter.preserve_check=false", "writers=[sharegpt]",
                                  "stage1.max_steps=3", "note='two words'", "limit=null"]


@pytest.mark.parametrize("experiment", [*GRID, "data_100"])
def test_every_experiment_composes_and_its_sub_configs_compose(experiment, tmp_path):
    registry = load_registry()
    cfg = compose_config("ablate", [f"experiment={experiment}", "preset=tiny"], registry)
    gen = compose_config("generate", [f"input={tmp_path}", *as_overrides(cfg.generate), *cfg.extra.generate],
                         registry)
    train = compose_config("train", [f"data={tmp_path}", *as_overrides(cfg.train), *cfg.extra.train], registry)
    assert gen.template.impl == ("flat" if experiment == "no_cot" else "hierarchical")
    assert gen.rewriter.preserve_check is (experiment != "no_preserve")
    assert train.stage1.enabled is (experiment != "no_stage1")
    assert train.data_fraction == {"data_20": 0.2, "data_50": 0.5}.get(experiment, 1.0)
    assert cfg.use_pool is (experiment != "no_pool")
    assert train.lmm.tiny is True
    # a job's seed seeds the tiny model's initialisation too, not only the data order
    seeded = train_config(compose_config("ablate", [f"experiment={experiment}", "preset=tiny", "seed=2"], registry),
                          tmp_path, registry)
    assert seeded.seed == 2 and seeded.lmm.seed == 2


@pytest.mark.slow
def test_ablation_grid_runs_as_one_multirun_and_summarises(tmp_path):
    pool, held_out = tmp_path / "pool", tmp_path / "held_out"
    for i, (source, vf) in enumerate([("testsrc2", None), ("mandelbrot", "gblur=sigma=3"),
                                      ("smptebars", "noise=alls=40:allf=t")]):
        make_video(pool / f"p{i}.mp4", source=source, size="96x72", seconds=0.4, vf=vf)
    for sigma in (0, 3, 8):
        vf = f"gblur=sigma={sigma}" if sigma else None
        make_video(held_out / f"b{sigma}.mp4", size="96x72", seconds=0.4, vf=vf)
    (held_out / "labels.csv").write_text("path,mos\n" + "".join(f"b{s}.mp4,{-s}\n" for s in (0, 3, 8)))
    out = tmp_path / "grid"
    proc = run_s2i("ablate", "-m", "preset=tiny", f"pool={pool}", f"dataset.root={held_out}",
                   f"labeled={{impl:csv,root:'{held_out}'}}", "+generate.scorers=[sharpness,noise]",
                   "train.stage1.max_steps=1", "train.stage2.max_steps=1", "bootstrap=0", f"output={out}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jobs = {json.loads(p.read_text())["job"]: p.parent for p in out.glob("*/metrics.json")}
    assert sorted(jobs) == sorted(GRID)
    # Each experiment changed what its job did, not just its name.
    metrics = {j: json.loads((d / "metrics.json").read_text()) for j, d in jobs.items()}
    assert metrics["no_stage1"]["train_stages"] == [2] and metrics["full"]["train_stages"] == [1, 2]
    assert "sig_records" not in metrics["no_pool"] and metrics["no_pool"]["labeled_videos"] == 3
    assert metrics["full"]["sig_records"] == 3
    # the six jobs that use the pool scored it once between them, in the grid's shared journal
    (journal,) = (out / ".scores").glob("scores-*.jsonl")
    assert len(journal.read_text().splitlines()) == 3
    assert not list(out.glob("*/sig/.s2i/scores-*.jsonl"))
    flat = json.loads((jobs["no_cot"] / "sig" / "records.jsonl").read_text().splitlines()[0])["justification"]
    deep = json.loads((jobs["full"] / "sig" / "records.jsonl").read_text().splitlines()[0])["justification"]
    assert len(flat) < len(deep)
    items = {j: json.loads((d / "train" / "summary.json").read_text())["stages"]["2"]["items"]
             for j, d in jobs.items() if j in ("full", "data_20", "data_50")}
    assert items["data_20"] < items["data_50"] < items["full"]

    proc = run_s2i("summary", f"input={out}")
    assert proc.returncode == 0, proc.stderr
    with open(out / "summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["job"] for r in rows) == sorted(GRID)  # one row per job
    assert all(r["status"] == "ok" and r["scored"] == "3" and r["failed"] == "0" for r in rows)
    assert {r["overrides"] for r in rows} == {f"experiment={j}" for j in GRID}  # shared overrides dropped
    markdown = (out / "summary.md").read_text()
    assert markdown.count("\n| ") == len(GRID) + 1
    assert (out / "summary.png").stat().st_size > 1000


def test_slurm_launcher_config_composes(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the `slurm` extra is not installed")
    proc = run_s2i("ablate", "hydra/launcher=slurm", "hydra.launcher.partition=gpu", "--cfg", "hydra")
    assert proc.returncode == 0, proc.stderr
    assert "SlurmLauncher" in proc.stdout and "partition: gpu" in proc.stdout and "gpus_per_node: 1" in proc.stdout


@pytest.mark.slow
def test_reproduce_command_end_to_end_on_a_small_budget(tmp_path):
    out = tmp_path / "repro"
    proc = run_s2i("reproduce", "budget=quick", f"output={out}",
                   "segments=[{clip:bikes.mp4,start:0.0,split:train},"
                   "{clip:carphone_pristine.mp4,start:0.0,split:test}]",
                   "segment_s=0.6", "max_side=96",
                   "ladders.exposure=[0.1,0.3]", "+ladders.contrast=[0.3,0.6]",
                   "variants=[sig,untrained,stage1_2,labels,features,probe]",
                   "train.stage1.max_steps=2", "train.stage2.max_steps=2", "bootstrap=20", "warmup.steps=30",
                   "seeds=[0,1]",
                   "+generate.scorers=[exposure,contrast]")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert results["train_clips"] == 5 and results["test_clips"] == 5 and results["sig_records"] == 5
    assert set(results["variants"]) == {"sig", "untrained", "stage1_2", "labels", "features", "probe"}
    assert results["train_sources"] == ["bikes_0s"] and results["test_sources"] == ["carphone_pristine_0s"]
    # the teacher has no seed; each LMM variant runs once per model seed, reported as mean and spread
    assert results["variants"]["sig"]["seeds"] == [0] and results["variants"]["sig"]["srcc_sd"] == 0.0
    # so has the ridge on frame statistics: fit once on the true labels, its penalty chosen over whole clips
    features = results["variants"]["features"]
    assert features["seeds"] == [0] and features["scored"] == 5 and features["runs"][0]["fit"]["penalty"] > 0
    # the probe reads each seed's own untrained model
    assert results["variants"]["probe"]["runs"][0]["fit"]["features"] == 2 * 32
    for name in ("untrained", "stage1_2", "labels", "probe"):
        variant = results["variants"][name]
        assert variant["seeds"] == [0, 1] and variant["scored"] == 10 and variant["failed"] == 0
        assert variant["srcc"] == pytest.approx(sum(variant["srcc_runs"]) / 2)
    assert [r["train_steps"] for r in results["variants"]["stage1_2"]["runs"]] == [{"1": 2, "2": 2}] * 2
    # the ceiling learns the TRUE severity of each training rung as its level (pristine best, last rung worst)
    stage2 = (out / "labels" / "instructions" / "stage2.jsonl").read_text().splitlines()
    labelled = [json.loads(line) for line in stage2]
    answers = {r["id"].split("#")[0].split("/")[1]: r["conversations"][1]["value"] for r in labelled}
    assert answers["pristine.mp4"].endswith("excellent.") and answers["contrast_2.mp4"].endswith("bad.")
    assert len(results["variants"]["untrained"]["runs"]) == 2
    table = (out / "results.md").read_text()
    assert "untrained (no S2I tuning)" in table and "stage I + II" in table and "the teacher" in table
    assert "true labels" in table and "ridge on frame statistics" in table and "hidden states" in table
    # how much of the true distortion the SIG labels carry, over the five training rungs
    assert results["label_agreement"]["clips"] == 5 and -1.0 <= results["label_agreement"]["srcc"] <= 1.0
    assert "SIG labels vs the true strengths of the training clips" in table
    # the text-only warm-up gave the random LLM language, and the tuned model grew from that base
    for seed in ("0", "1"):
        warmup = results["warmup"][seed]
        assert warmup["loss_last"] < warmup["loss_first"]
        assert (out / f"seed{seed}" / "base" / "config.json").is_file()
        settings = json.loads((out / f"seed{seed}" / "train_stage1_2" / "model" / "s2i_lmm.json").read_text())
        assert settings["impl"] == "qwen2_vl"
    # `s2i summary` reads a reproduction's own results as one fold
    proc = run_s2i("summary", f"input={out}", f"output={tmp_path / 'summary'}")
    assert proc.returncode == 0 and "1 reproduction jobs" in proc.stdout, proc.stdout + proc.stderr
    folds_table = (tmp_path / "summary" / "summary_folds.md").read_text()
    assert f"| 1 | {results['variants']['labels']['srcc']:.3f} ± - |" in folds_table
    # Held-out clips never reach generation: the SIG records are the training ladder's only.
    videos = [json.loads(line)["video"] for line in (out / "sig" / "records.jsonl").read_text().splitlines()]
    assert all(v.startswith("bikes_") for v in videos)


def test_a_warm_up_is_reused_by_the_same_run_and_refused_to_another(tmp_path):
    """Every variant of a reproduction grows from its seed's warmed base: a rerun resumes on it, and a rerun
    with other warm-up settings or text must not overwrite it under the variants already trained."""
    from conftest import two_clip_instructions
    from lmm_helpers import compose, lmm_registry, tiny_overrides

    from s2i_core.bench.warmup import language_warmup
    from s2i_core.errors import ConfigError

    data = two_clip_instructions(tmp_path)
    registry = lmm_registry()
    lmm = compose("train", [*tiny_overrides("qwen2_vl"), f"data={data}"], registry).lmm
    base = tmp_path / "base"
    settings = {"steps": 3, "lr": 3e-3, "batch_size": 2, "max_length": 64, "seed": 0}
    first = language_warmup(lmm, registry, data, str(base), **settings)
    weights = {p.name: p.stat().st_mtime_ns for p in base.iterdir()}
    assert first["steps"] == 3 and "model.safetensors" in weights
    assert language_warmup(lmm, registry, data, str(base), **settings) == first
    assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == weights  # reused, not trained again
    with pytest.raises(ConfigError, match=r"belongs to another run \(steps: 3 -> 4\)"):
        language_warmup(lmm, registry, data, str(base), **(settings | {"steps": 4}))
    other = two_clip_instructions(tmp_path / "other")
    (Path(other) / "instructions" / "stage2.jsonl").write_text(
        (Path(data) / "instructions" / "stage2.jsonl").read_text().replace("good", "fair"))
    with pytest.raises(ConfigError, match="instruction file changed"):
        language_warmup(lmm, registry, other, str(base), **settings)
    assert {p.name: p.stat().st_mtime_ns for p in base.iterdir()} == weights


def test_summary_folds_jobs_that_differ_only_in_their_seed(tmp_path):
    from s2i_core.bench import summary

    runs = [(0, "full", 0, 0.2), (1, "full", 1, 0.4), (2, "no_cot", 0, 0.1), (3, "no_cot", 1, 0.3)]
    for num, experiment, seed, srcc in runs:
        (tmp_path / str(num) / ".hydra").mkdir(parents=True)
        (tmp_path / str(num) / ".hydra" / "overrides.yaml").write_text(
            f"- experiment={experiment}\n- seed={seed}\n- pool=/data\n")
        (tmp_path / str(num) / "metrics.json").write_text(json.dumps({"job": experiment, "srcc": srcc}))
    rows = summary.collect(tmp_path)
    folded = {r["job"]: r for r in summary.over_seeds(rows)}
    assert sorted(folded) == ["full", "no_cot"] and folded["full"]["seeds"] == 2
    assert folded["full"]["overrides"] == "experiment=full"
    assert folded["full"]["srcc"] == pytest.approx(0.3) and folded["full"]["srcc_sd"] == pytest.approx(0.1414, abs=1e-4)
    files = summary.write(rows, tmp_path, title="t")
    assert tmp_path / "summary_seeds.md" in files and "0.300" in (tmp_path / "summary_seeds.md").read_text()
    # one seed per job: nothing to fold, no extra files
    assert summary.over_seeds(rows[::2]) == []


def test_summary_folds_reproductions_over_their_held_out_contents(tmp_path):
    """`s2i reproduce -m 'held_out=[...],[...]'` then `s2i summary`: one row per variant over the folds; the
    score folders' metrics.json inside each job are not read as jobs of their own."""
    folds = [("[a,b]", {"labels": 0.6, "untrained": 0.1, "sig": 0.5}),
             ("[c,d]", {"labels": 0.8, "untrained": -0.3})]
    for num, (held, variants) in enumerate(folds):
        job = tmp_path / str(num)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(f"- held_out={held}\n- clips=/data\n")
        (job / "score_labels").mkdir()
        (job / "score_labels" / "metrics.json").write_text(json.dumps({"srcc": 0.99}))
        results = {"label_agreement": {"srcc": 0.4}, "test_clips": 8, "test_sources": ["x_0s"],
                   "variants": {v: {"srcc": value, "seeds": [0, 1]} for v, value in variants.items()}}
        (job / "results.json").write_text(json.dumps(results))
    proc = run_s2i("summary", f"input={tmp_path}", "title=folds")
    assert proc.returncode == 0, proc.stderr
    assert "2 reproduction jobs" in proc.stdout
    table = (tmp_path / "summary_folds.md").read_text()
    assert "1: [a,b] (8); 2: [c,d] (8)" in table
    rows = {r["variant"]: r for r in csv.DictReader((tmp_path / "summary_folds.csv").open())}
    assert list(rows) == ["sig", "untrained", "labels"]  # the reproduction's order
    assert float(rows["labels"]["srcc"]) == pytest.approx(0.7)
    assert float(rows["labels"]["srcc_sd"]) == pytest.approx(0.1414, abs=1e-4)
    assert rows["sig"]["folds"] == "1" and rows["sig"]["fold2"] == "nan"  # a fold without the row says so
    assert "| true labels, stage I + II (the ceiling) | 2 | 0.700 ± 0.141 | 0.600 | 0.800 |" in table
    assert not (tmp_path / "summary.csv").exists()


def test_summary_lists_a_job_that_wrote_no_metrics(tmp_path):
    from s2i_core.bench import summary

    for num, experiment in ((0, "full"), (1, "no_cot")):
        (tmp_path / str(num) / ".hydra").mkdir(parents=True)
        (tmp_path / str(num) / ".hydra" / "overrides.yaml").write_text(f"- experiment={experiment}\n- seed=3\n")
    (tmp_path / "0" / "metrics.json").write_text(json.dumps({"job": "full", "srcc": 0.5, "scored": 4}))
    rows = summary.collect(tmp_path)
    assert [(r["job"], r["status"], r["overrides"]) for r in rows] == [
        ("full", "ok", "experiment=full"), ("1", "no metrics.json", "experiment=no_cot")]
    assert rows[0]["srcc"] == 0.5 and rows[1]["srcc"] != rows[1]["srcc"]  # NaN, not a made-up number
    assert "| 1 | no metrics.json | experiment=no_cot |" in summary.markdown(rows)


def test_summary_terminal_table_keeps_square_brackets(capsys):
    from s2i_core.bench.summary import COLUMNS, print_table

    row = dict.fromkeys(COLUMNS, None) | {"job": "0", "status": "done", "overrides": "scorers=[exposure] seed=1"}
    print_table([row], title="runs/[abl]")
    shown = capsys.readouterr().out
    assert "scorers=[exposure]" in shown and "runs/[abl]" in shown


def test_merged_training_data_holds_every_part_with_absolute_video_paths(tmp_path):
    from lmm_helpers import write_instructions

    from s2i_core.bench.ablation import merge_data
    from s2i_core.sig import manifest as dataset_manifest
    from s2i_core.sig.io import read_jsonl

    parts = [Path(write_instructions(str(tmp_path / name), str(tmp_path / f"{name}_in"), {"a.mp4": level}))
             for name, level in (("pool", "good"), ("labeled", "poor"))]
    merged = merge_data(parts, tmp_path / "data")
    rows = read_jsonl(merged / "instructions/stage1.jsonl")
    assert len(rows) == 2 * len(read_jsonl(parts[0] / "instructions/stage1.jsonl"))
    assert {r["video"] for r in rows} == {str(tmp_path / "pool_in/a.mp4"), str(tmp_path / "labeled_in/a.mp4")}
    assert all(r["videos"] == [r["video"]] for r in rows)
    dataset_manifest.verify(merged, ["instructions/stage1.jsonl", "instructions/stage2.jsonl"])


def test_reproduce_segments_come_from_a_clip_folder_split_by_held_out_names(tmp_path):
    from omegaconf import OmegaConf

    from s2i_core.bench.reproduce import segments
    from s2i_core.errors import ConfigError

    for name, seconds in (("a_street.mp4", 3.0), ("b_room.mp4", 1.2), ("c_park.mp4", 3.0), ("x_bad.mp4", 3.0)):
        make_video(tmp_path / name, seconds=seconds, size="64x48")
    (tmp_path / "notes.txt").write_text("not a video")
    cfg = OmegaConf.create({"segments": [], "segment_s": 1.0, "starts": [0.0, 1.5], "held_out": ["c_"],
                            "exclude": ["x_"]})
    found = segments(cfg, tmp_path)
    # each clip at each start that leaves a whole segment; the 1.2-s clip has room for one; x_ is left out
    assert found == [{"clip": "a_street.mp4", "start": 0.0, "split": "train"},
                     {"clip": "a_street.mp4", "start": 1.5, "split": "train"},
                     {"clip": "b_room.mp4", "start": 0.0, "split": "train"},
                     {"clip": "c_park.mp4", "start": 0.0, "split": "test"},
                     {"clip": "c_park.mp4", "start": 1.5, "split": "test"}]
    with pytest.raises(ConfigError, match="no test segment"):
        segments(OmegaConf.merge(cfg, {"held_out": ["nothing_"]}), tmp_path)
    with pytest.raises(ConfigError, match="held_out"):
        segments(OmegaConf.merge(cfg, {"held_out": []}), tmp_path)
    # configured segments are taken as they are
    given = [{"clip": "a_street.mp4", "start": 0.5, "split": "test"}]
    assert segments(OmegaConf.merge(cfg, {"segments": given}), tmp_path) == given


def test_reproduce_crops_add_training_views_and_leave_held_out_clips_whole(tmp_path):
    from omegaconf import OmegaConf

    from s2i_core.bench.reproduce import make_ladders
    from s2i_core.errors import ConfigError
    from s2i_core.video import meta_of, open_decoder

    make_video(tmp_path / "clips/a.mp4", seconds=1.2, size="160x120")
    make_video(tmp_path / "clips/b.mp4", seconds=1.2, size="160x120", source="mandelbrot")
    cfg = OmegaConf.create({"clips": str(tmp_path / "clips"), "segment_s": 1.0, "max_side": 160,
                            "segments": [{"clip": "a.mp4", "start": 0.0, "split": "train"},
                                         {"clip": "b.mp4", "start": 0.0, "split": "test"}],
                            "crops": [[0.0, 0.0, 0.5, 0.5], [0.5, 0.25, 0.5, 0.75]],
                            "ladders": {"exposure": [0.2]}})
    rows = make_ladders(cfg, tmp_path / "out")
    # the training segment gives three sources (whole, two crops), each with its ladder; held out: one, whole
    assert sorted({r["source"] for r in rows["train"]}) == ["a_0s", "a_0s_crop1", "a_0s_crop2"]
    assert [r["source"] for r in rows["test"]] == ["b_0s", "b_0s"]
    sizes = {}
    for name in ("train/a_0s", "train/a_0s_crop1", "train/a_0s_crop2", "test/b_0s"):
        meta = meta_of(open_decoder(tmp_path / "out" / name / "exposure_1.mp4"), name)
        sizes[name] = (meta.width, meta.height)
    assert sizes == {"train/a_0s": (160, 120), "train/a_0s_crop1": (80, 60), "train/a_0s_crop2": (80, 90),
                     "test/b_0s": (160, 120)}
    for bad in ([0.6, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 1.0]):
        with pytest.raises(ConfigError, match="crops"):
            make_ladders(OmegaConf.merge(cfg, {"crops": [bad]}), tmp_path / "bad")


def test_label_agreement_tells_labels_that_follow_the_ladder_from_a_content_rated_low_throughout(tmp_path):
    from s2i_core.bench.reproduce import label_agreement

    rows = [{"path": f"{src}/{name}.mp4", "source": src, "ladder": "pristine" if k == 0 else "exposure",
             "severity": k / 3} for src in ("a", "b") for k, name in enumerate(
                 ["pristine", "exposure_1", "exposure_2", "exposure_3"])]

    def write(scores):
        path = tmp_path / "records.jsonl"
        path.write_text("".join(json.dumps({"video": r["path"], "overall": {"score": s}}) + "\n"
                                for r, s in zip(rows, scores)))
        return path

    # the teacher follows the ladder in both sources: every label carries the distortion
    follows = label_agreement(rows, write([0.9, 0.7, 0.5, 0.3, 0.95, 0.75, 0.55, 0.35]))
    assert follows["srcc"] > 0.9 and follows["within_ladder_srcc"] == pytest.approx(1.0)
    # source b is rated low at every rung for another defect: within a ladder it still ranks, pooled it does not
    content = label_agreement(rows, write([0.9, 0.7, 0.5, 0.3, 0.12, 0.11, 0.1, 0.09]))
    assert content["srcc"] < 0.6 and content["within_ladder_srcc"] == pytest.approx(1.0)
    assert content["clips"] == 8
