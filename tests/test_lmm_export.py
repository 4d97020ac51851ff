"""The tuned `model/` is a checkpoint like any other: it loads through transformers' own classes (the family's
model class, AutoTokenizer, AutoImageProcessor, and AutoProcessor where torchvision is installed) and scores
like `s2i assess`; its LoRA loads on its own with peft; normalisation is read from every processor file; and a
model folder cannot switch on running its own code."""

from __future__ import annotations

import importlib.util
import json
import shutil
import warnings

import pytest
import torch
from conftest import make_video, run_s2i
from lmm_helpers import lmm_registry, tiny_overrides, write_instructions


HAVE_TORCHVISION = importlib.util.find_spec("torchvision") is not None
LEVELS = ("bad", "poor", "fair", "good", "excellent")


@pytest.fixture(scope="module", params=["qwen2_vl", "llava_onevision"])
def tuned(request, tmp_path_factory):
    """A real `s2i train` run (both stages) of a tiny model; returns (family, output dir, a video)."""
    root = tmp_path_factory.mktemp(f"export_{request.param}")
    make_video(root / "in" / "clean.mp4", size="96x72", seconds=0.5)
    make_video(root / "in" / "noisy.mp4", source="mandelbrot", size="96x72", seconds=0.5, vf="noise=alls=80:allf=t")
    data = write_instructions(str(root / "data"), str(root / "in"), {"clean.mp4": "excellent", "noisy.mp4": "bad"})
    run_s2i("train", *tiny_overrides(request.param), f"data={data}", f"output={root / 'out'}", "stage1.max_steps=2",
            "stage2.max_steps=2", "stage1.lr=5e-3", "stage2.lr=5e-3", "stage2.lora_r=4", check=True)  # fmt: skip
    return request.param, root / "out", root / "in" / "noisy.mp4"


def _level_ids(tokenizer, prefix: str) -> tuple[list[int], list[int]]:
    """The answer prefix's ids and the first id of each level after it, tokenized as a whole answer."""
    answers = [tokenizer(f"{prefix} {lv}", add_special_tokens=False)["input_ids"] for lv in LEVELS]
    common = 0
    while all(len(a) > common + 1 and a[common] == answers[0][common] for a in answers):
        common += 1
    return answers[0][:common], [a[common] for a in answers]


def test_exported_model_loads_with_transformers_and_scores_like_assess(tuned):
    import transformers
    from transformers import AutoImageProcessor, AutoTokenizer

    from s2i_core.lmm.preprocess import sample_frames

    family, out, video = tuned
    model_dir = out / "model"
    for name in ("config.json", "model.safetensors", "chat_template.jinja", "processor_config.json",
                 "preprocessor_config.json", "video_preprocessor_config.json", "adapter/adapter_config.json",
                 "adapter/adapter_model.safetensors"):  # fmt: skip
        assert (model_dir / name).is_file(), f"model/ lacks {name}"
    settings = json.loads((model_dir / "s2i_lmm.json").read_text())
    assert "trust_remote_code" not in settings

    shown = run_s2i("assess", str(video), f"model={model_dir}", "json=true", "max_new_tokens=1", check=True)
    expected = json.loads(shown.stdout[shown.stdout.index("{") :])["probabilities"]

    adapter = lmm_registry().build("lmm_adapter", {"impl": family, "tiny": True})
    model = getattr(transformers, adapter.model_class).from_pretrained(str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    image_processor = AutoImageProcessor.from_pretrained(str(model_dir))
    mean, std = json.loads((model_dir / "processor_config.json").read_text())["video_processor"]["image_mean"], None
    assert list(image_processor.image_mean) == pytest.approx(mean)

    score = settings["score"]
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": score["question"]}]}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    frames = sample_frames(str(video), settings["frames"])
    prefix_ids, level_ids = _level_ids(tokenizer, score["answer_prefix"])
    if HAVE_TORCHVISION:  # transformers' own processor prepares text and video
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(str(model_dir))
        inputs = processor(text=[prompt], videos=[torch.from_numpy(frames.pixels).permute(0, 3, 1, 2)],
                           do_sample_frames=False, return_tensors="pt")  # fmt: skip
        inputs = dict(inputs)
    else:  # no torchvision, no video processor: the pixels come from our preprocessing (bit-exact, see docs)
        adapter.model_config = model.config
        adapter.config.model = str(model_dir)
        adapter.config.max_pixels, adapter.config.min_pixels = settings["max_pixels"], settings["min_pixels"]
        clip = adapter.video_input(frames, tokenizer)
        ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        marker = adapter.marker_ids(tokenizer)
        at = next(i for i in range(len(ids)) if ids[i : i + len(marker)] == marker)
        ids = ids[:at] + clip.tokens + ids[at + len(marker) :]
        inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}
        inputs |= adapter.batch_fields([clip], inputs)
    extra = torch.tensor([prefix_ids])
    inputs["input_ids"] = torch.cat([inputs["input_ids"], extra], dim=1)
    inputs["attention_mask"] = torch.cat([inputs["attention_mask"], torch.ones_like(extra)], dim=1)
    if "mm_token_type_ids" in inputs:
        inputs["mm_token_type_ids"] = torch.cat([inputs["mm_token_type_ids"], torch.zeros_like(extra)], dim=1)
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    probs = torch.softmax(logits[level_ids].float(), dim=-1).tolist()
    assert dict(zip(LEVELS, probs)) == pytest.approx(expected, abs=2e-4)


def test_lora_adapter_loads_with_peft_on_the_stage_one_model(tuned):
    import transformers
    from peft import PeftModel

    from s2i_core.lmm.checkpoint import load_weights

    family, out, _ = tuned
    adapter_dir = out / "model" / "adapter"
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] == 4
    adapter = lmm_registry().build("lmm_adapter", {"impl": family, "tiny": True, "frames": 4,
                                                   "max_pixels": 56 * 56, "tiny_image_size": 28})  # fmt: skip
    base, _ = adapter.load("cpu")
    load_weights(base, str(out / "stage1" / "trained.safetensors"))  # the model stage II started from
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    exported = getattr(transformers, adapter.model_class).from_pretrained(str(out / "model")).state_dict()
    state = merged.state_dict()
    assert set(state) == set(exported)
    for name, tensor in exported.items():
        assert torch.allclose(state[name].float(), tensor.float(), atol=1e-5), name
    without_lora, _ = adapter.load("cpu")
    load_weights(without_lora, str(out / "stage1" / "trained.safetensors"))
    q_proj = next(n for n in state if "language_model" in n and n.endswith("q_proj.weight"))
    assert not torch.allclose(without_lora.state_dict()[q_proj], exported[q_proj]), "the adapter changed nothing"


def test_processor_setting_reads_every_processor_file_and_warns_on_fallback(tmp_path):
    from s2i_core.lmm.model_files import processor_setting

    files = {
        "processor_config.json": {"video_processor": {"image_mean": [0.5, 0.5, 0.5]}, "processor_class": "X"},
        "preprocessor_config.json": {"image_mean": [0.485, 0.456, 0.406]},
        "video_preprocessor_config.json": {"image_mean": [0.1, 0.2, 0.3]},
    }
    for name, content in files.items():
        folder = tmp_path / name.split(".")[0]
        folder.mkdir()
        (folder / name).write_text(json.dumps(content))
        found = processor_setting(str(folder), "image_mean", (9, 9, 9))
        assert found == (content.get("video_processor") or content)["image_mean"], name
    nested_image = tmp_path / "image_only"
    nested_image.mkdir()
    (nested_image / "processor_config.json").write_text(json.dumps({"image_processor": {"image_std": [0.2] * 3}}))
    assert processor_setting(str(nested_image), "image_std", (1, 1, 1)) == [0.2] * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert processor_setting(str(nested_image), "image_mean", (7, 7, 7)) == (7, 7, 7)
    assert any("falls back to the family default" in str(w.message) for w in caught)


def test_model_folder_cannot_turn_on_trust_remote_code(tuned, tmp_path):
    family, out, video = tuned
    if family != "qwen2_vl":
        pytest.skip("one family is enough: the check is the loader's, not the adapter's")
    folder = tmp_path / "model"
    shutil.copytree(out / "model", folder)
    settings = json.loads((folder / "s2i_lmm.json").read_text())
    (folder / "s2i_lmm.json").write_text(json.dumps(settings | {"trust_remote_code": True}))
    refused = run_s2i("assess", str(video), f"model={folder}", "json=true", "max_new_tokens=1")
    assert refused.returncode == 2 and "trust_remote_code=true on the command line" in refused.stderr

    marker = tmp_path / "code_ran"
    (folder / "s2i_lmm.json").write_text(json.dumps(settings))
    (folder / "shipped_tokenizer.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "from transformers import PreTrainedTokenizerFast\n\n\n"
        "class ShippedTokenizer(PreTrainedTokenizerFast):\n    pass\n"
    )
    tok_config = json.loads((folder / "tokenizer_config.json").read_text())
    tok_config["auto_map"] = {"AutoTokenizer": [None, "shipped_tokenizer.ShippedTokenizer"]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_config))
    env = {"HF_MODULES_CACHE": str(tmp_path / "modules")}
    refused = run_s2i("assess", str(video), f"model={folder}", "json=true", "max_new_tokens=1", env=env)
    assert refused.returncode == 2 and "auto_map in tokenizer_config.json" in refused.stderr
    assert not marker.exists(), "code shipped in the model folder ran without trust_remote_code"

    run_s2i("assess", str(video), f"model={folder}", "json=true", "max_new_tokens=1", "trust_remote_code=true",
            env=env)  # fmt: skip
    assert marker.exists(), "trust_remote_code=true on the command line did not reach transformers"


@pytest.mark.skipif(not HAVE_TORCHVISION, reason="transformers' video processors need torchvision")
@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "llava_onevision", "llava_next_video",
                                    "internvl"])  # fmt: skip
def test_exported_processor_matches_ours_official(tmp_path, family):
    """For every family, AutoProcessor on the exported files yields our token ids and pixel tensors."""
    from transformers import AutoProcessor

    from s2i_core.lmm import data as D
    from s2i_core.lmm.export import save_processor_files
    from s2i_core.lmm.preprocess import sample_frames

    video = make_video(tmp_path / "clip.mp4", size="96x72", seconds=0.5)
    adapter = lmm_registry().build("lmm_adapter", {"impl": family, "tiny": True, "frames": 4,
                                                   "max_pixels": 56 * 56, "tiny_image_size": 28})  # fmt: skip
    model, tokenizer = adapter.load("cpu")
    model.save_pretrained(str(tmp_path / "model"))
    tokenizer.save_pretrained(str(tmp_path / "model"))
    save_processor_files(adapter, tokenizer, str(tmp_path / "model"))
    processor = AutoProcessor.from_pretrained(str(tmp_path / "model"))

    frames = sample_frames(str(video), 4)
    clip = adapter.video_input(frames, tokenizer)
    messages = D.to_messages([{"from": "human", "value": "<video>\nHow is the overall quality of this video?"}])
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    metadata = {"fps": frames.fps, "frames_indices": frames.indices.tolist(), "total_num_frames": 13}
    theirs = processor(text=[prompt], videos=[torch.from_numpy(frames.pixels).permute(0, 3, 1, 2)],
                       video_metadata=[metadata], do_sample_frames=False, return_tensors="pt")  # fmt: skip
    assert theirs["input_ids"][0].tolist() == D.prompt_ids(adapter, tokenizer, messages[0]["content"][1]["text"],
                                                           clip)  # fmt: skip
    for key, ours in clip.tensors.items():
        official = theirs[key]
        assert ours.numel() == official.numel(), key
        torch.testing.assert_close(ours.reshape(official.shape).float(), official.float(), atol=1e-4, rtol=0)
