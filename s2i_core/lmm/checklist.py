"""The contract every video-LMM adapter meets, run on a tiny model built from config (no hub, no weights).

    from s2i_core.lmm.checklist import check_adapter
    check_adapter(registry, "my_vlm", "clip.mp4")   # raises AdapterCheckFailed naming the broken rule

A family's tests call it with a real video: the built-in families in tests/test_lmm_adapters.py, the new
family of docs/hooks.md in tests/test_hooks_docs.py, a third-party family in its own tests. It checks, in the
order the framework uses an adapter: the spec and the tiny build, the chat template and assistant-only labels,
the video input (placeholders grow with the frames, `lmm.max_video_tokens` holds), the batch fields (every
one a named input of the model, the forward gives a finite loss), the parameter groups, LoRA targets and
the parameters declared unused on video, level-token scoring and generation, and one LoRA training step.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any

from s2i_core.lmm import data as D
from s2i_core.lmm.adapter import GROUPS, LmmAdapter, LmmConfig

TINY = {"tiny": True, "frames": 4, "max_pixels": 56 * 56, "tiny_image_size": 28}
MAX_TINY_PARAMETERS = 5_000_000
CONVERSATIONS = (
    [{"from": "human", "value": "<video>\nHow is the sharpness of this video?"},
     {"from": "gpt", "value": "The sharpness of this video is good."}],
    [{"from": "human", "value": "<video>\nIs the video free of noise?"}, {"from": "gpt", "value": "Yes."}],
)  # fmt: skip


class AdapterCheckFailed(AssertionError):
    """An adapter breaks the contract; the message names the family and the rule."""


def check_adapter(registry, name: str, video: str, **options: Any) -> dict:
    """Run every check on the tiny model of adapter `name` with frames of `video`; `options` are extra
    `lmm.*` settings. Returns what was measured (parameters, video tokens, loss, level probabilities)."""
    from s2i_core.lmm.preprocess import sample_frames

    adapter = _build(registry, name, options)
    model, tokenizer = adapter.load("cpu")
    parameters = _check_tiny_model(name, adapter, model, tokenizer)
    frames = sample_frames(video, adapter.config.frames, adapter.config.fps)
    clip = _check_video_input(name, adapter, tokenizer, frames)
    placeholders = clip.tokens.count(clip.video_token_id)
    budget = _build(registry, name, options | {"max_video_tokens": placeholders // 2})
    budget.model_config = model.config
    _check_budget(name, budget, tokenizer, frames)
    batch = _check_labels_and_batch(name, adapter, model, tokenizer, clip)
    _check_groups(name, adapter, model)
    _check_video_path(name, adapter, model, batch)
    probabilities = _check_scoring(name, adapter, model, tokenizer, frames)
    loss = _check_lora_step(name, adapter, model, batch)
    return {"parameters": parameters, "video_tokens": placeholders, "loss": loss,
            "probabilities": probabilities}  # fmt: skip


def _require(condition: bool, name: str, rule: str) -> None:
    if not condition:
        raise AdapterCheckFailed(f"lmm adapter {name!r}: {rule}")


def _build(registry, name: str, options: dict) -> LmmAdapter:
    spec = registry.get("lmm_adapter", name)
    _require(isinstance(spec.config, type) and issubclass(spec.config, LmmConfig), name,
             f"its config {spec.config!r} must extend LmmConfig (every adapter takes lmm.frames, lmm.tiny, ...)")
    adapter = registry.build("lmm_adapter", {"impl": name, **TINY, **options})
    _require(isinstance(adapter, LmmAdapter), name,
             f"build() returned {type(adapter).__name__}, not an LmmAdapter")
    return adapter


def _check_tiny_model(name: str, adapter, model, tokenizer) -> int:
    parameters = sum(p.numel() for p in model.parameters())
    _require(type(model).__name__ == adapter.model_class, name,
             f"model_class says {adapter.model_class!r}, load() built {type(model).__name__}")
    _require(parameters < MAX_TINY_PARAMETERS, name, f"the tiny model has {parameters:,} parameters")
    _require(bool(adapter.chat_template) and tokenizer.chat_template == adapter.chat_template, name,
             "the tiny tokenizer must carry the family's chat_template")
    _require(tokenizer.pad_token_id is not None, name, "the tokenizer has no pad token")
    return parameters


def _check_video_input(name: str, adapter, tokenizer, frames):
    import torch

    from s2i_core.lmm.preprocess import thin

    clip = adapter.video_input(frames, tokenizer)
    _require(bool(clip.tensors) and all(isinstance(t, torch.Tensor) for t in clip.tensors.values()), name,
             "video_input() must give a dict of tensors")
    _require(clip.tokens.count(clip.video_token_id) > 0, name, "the placeholder tokens hold no video_token_id")
    _require(max(clip.tokens) < len(tokenizer), name, "a placeholder token id is outside the vocabulary")
    fewer = adapter.video_input(thin(frames, len(frames.pixels) // 2), tokenizer)
    _require(len(fewer.tokens) < len(clip.tokens), name,
             f"half the frames gave {len(fewer.tokens)} placeholder tokens, all of them {len(clip.tokens)}")
    return clip


def _check_budget(name: str, adapter, tokenizer, frames) -> None:
    budget = adapter.config.max_video_tokens
    clip = adapter.video_input(frames, tokenizer)
    placeholders = clip.tokens.count(clip.video_token_id)
    _require(placeholders <= budget, name, f"lmm.max_video_tokens={budget} gave {placeholders} video tokens")
    _require(clip.frames_dropped > 0 or clip.downscaled, name,
             "a clip cut to fit lmm.max_video_tokens must say so (frames_dropped or downscaled)")


def _check_labels_and_batch(name: str, adapter, model, tokenizer, clip) -> dict:
    import torch

    examples = [D.encode(adapter, tokenizer, D.to_messages(list(c)), clip) for c in CONVERSATIONS]
    for (question, reply), example in zip(CONVERSATIONS, examples):
        learned = [i for i, label in zip(example["input_ids"], example["labels"]) if label != D.IGNORE]
        answer = tokenizer.decode(learned)
        asked = question["value"].removeprefix("<video>\n")
        _require(reply["value"] in answer and asked not in answer, name,
                 f"labels must cover the assistant answer only, they cover {answer!r}")
    batch = D.collate(adapter, tokenizer, examples)
    named = {p.name for p in inspect.signature(model.forward).parameters.values()
             if p.kind is not inspect.Parameter.VAR_KEYWORD}  # fmt: skip
    unknown = sorted(set(batch) - named)
    _require(not unknown, name,
             f"batch_fields() gives {unknown}, which {adapter.model_class}.forward does not take")
    with torch.no_grad():
        out = model(**batch)
    _require(tuple(out.logits.shape[:2]) == tuple(batch["input_ids"].shape), name, "logits do not match the batch")
    _require(math.isfinite(float(out.loss)), name, f"the loss is {float(out.loss)}")
    return batch


def _check_groups(name: str, adapter, model) -> None:
    names = [n for n, _ in model.named_parameters()]
    orphans = [n for n in names if adapter.group_of(n) not in GROUPS]
    _require(not orphans, name, f"parameters in no group (vision/projector/language prefixes): {orphans[:3]}")
    _require({adapter.group_of(n) for n in names} == set(GROUPS), name, f"every group needs parameters: {GROUPS}")
    for prefix in adapter.unused_on_video():
        _require(any(n.startswith(prefix) for n in names), name,
                 f"unused_on_video() prefix {prefix!r} matches nothing")
    targets = [m for m, _ in model.named_modules() if re.fullmatch(adapter.lora_target_modules(), m)]
    _require(bool(targets), name, "lora_target_modules() matches no module")
    stray = [m for m in targets if adapter.group_of(m + ".weight") != "language"]
    _require(not stray, name, f"LoRA must land on the language model only, it also targets {stray[:3]}")


def _check_video_path(name: str, adapter, model, batch) -> None:
    """A video forward/backward reaches every parameter except those `unused_on_video()` names (training
    freezes them, so DDP needs no unused-parameter search), and none of those."""
    unused = adapter.unused_on_video()
    for p in model.parameters():
        p.requires_grad_(True)
        p.grad = None
    model(**batch).loss.backward()
    missed = [n for n, p in model.named_parameters() if p.grad is None and not n.startswith(unused)]
    _require(not missed, name, f"the video path never reaches {missed[:3]}: add them to unused_on_video()")
    reached = [n for n, p in model.named_parameters() if p.grad is not None and n.startswith(unused)]
    _require(not reached, name, f"unused_on_video() names parameters the video path uses: {reached[:3]}")
    model.zero_grad(set_to_none=True)


def _check_scoring(name: str, adapter, model, tokenizer, frames) -> dict:
    from s2i_core.lmm.inference import Scorer

    scorer = Scorer(adapter, model, tokenizer, "cpu", batch_size=2)
    first, second = scorer.probabilities([frames, frames])
    _require(abs(sum(first.values()) - 1) < 1e-4 and all(0 <= p <= 1 for p in first.values()), name,
             f"level probabilities must be a distribution, got {first}")
    _require(all(abs(first[k] - second[k]) < 1e-4 for k in first), name, "one clip twice in a batch scored twice")
    texts = scorer.justify([frames], max_new_tokens=2)
    _require(len(texts) == 1 and isinstance(texts[0], str), name, "generation must give one text per clip")
    return first


def _check_lora_step(name: str, adapter, model, batch) -> float:
    import torch
    from omegaconf import OmegaConf

    from s2i_core.lmm.trainer import add_lora, set_trainable
    from s2i_core.schemas import Stage2Config

    model = add_lora(model, adapter, OmegaConf.structured(Stage2Config(lora_r=4, lora_alpha=8, lora_dropout=0.0)))
    model.train()
    counts = set_trainable(model, adapter, [], lora=True)
    _require(counts["lora"] > 0 and counts["vision"] == counts["language"] == 0, name,
             f"stage II must train LoRA alone, trains {counts}")
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    loss = float(loss.detach())
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    _require(any("lora_B" in n for n in changed), name, "one LoRA step changed no lora_B weight")
    return round(loss, 6)
