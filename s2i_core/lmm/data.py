"""S2I instruction files -> token ids with assistant-only labels -> padded batches.

Input is a `s2i generate` output folder: `instructions/stage1.jsonl`, `instructions/stage2.jsonl` (LLaVA/ShareGPT
`conversations`) and `manifest.json` whose `input` resolves the relative video paths. The model's own chat
template renders the text; labels cover exactly the assistant turns (the text each template adds after the
generation prompt), so the loss never trains the model to write the user's question.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import dataclass

from s2i_core.errors import ConfigError

IGNORE = -100
ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


@dataclass
class Item:
    id: str
    video: str  # absolute path
    conversations: list[dict]


def load_items(data_dir: str, stage: int, fraction: float = 1.0) -> list[Item]:
    from s2i_core.sig import manifest as dataset_manifest

    name = f"instructions/stage{stage}.jsonl"
    path = os.path.join(data_dir, name)
    # Only files the folder's manifest lists, unchanged since it was written: never another config's leftovers.
    root = dataset_manifest.verify(data_dir, [name], "data").get("input", data_dir)
    items = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                video = row["video"] if os.path.isabs(row["video"]) else os.path.join(root, row["video"])
                items.append(Item(str(row.get("id", number)), video, row["conversations"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ConfigError(f"{path}:{number}: not an instruction line ({exc!r})") from exc
    if not 0 < fraction <= 1:
        raise ConfigError(f"data_fraction must be in (0, 1], got {fraction}")
    # A deterministic prefix of a fixed shuffle, so data_fraction=0.5 is a subset of 0.75 (ablation curves).
    if fraction < 1:
        import random

        order = list(range(len(items)))
        random.Random(1234).shuffle(order)
        keep = sorted(order[: max(1, round(len(items) * fraction))])
        items = [items[i] for i in keep]
    return items


def to_messages(conversations: list[dict]) -> list[dict]:
    """ShareGPT turns -> chat-template messages; a `<video>` tag becomes a video item of the user turn."""
    messages = []
    for turn in conversations:
        role = ROLES.get(turn.get("from", turn.get("role", "")))
        if role is None:
            raise ConfigError(f"conversation turn with unknown speaker: {turn!r}")
        text = turn.get("value", turn.get("content", ""))
        if role == "user" and "<video>" in text:
            rest = text.replace("<video>\n", "", 1).replace("<video>", "", 1)
            messages.append({"role": role, "content": [{"type": "video"}, {"type": "text", "text": rest}]})
        else:
            # content as a list of items: multimodal templates (llava-hf) render only list content
            messages.append({"role": role, "content": [{"type": "text", "text": text}]})
    return messages


def render_segments(tokenizer, messages: list[dict]) -> list[tuple[str, bool]]:
    """The conversation as (text, is_assistant) pieces, cut where the generation prompt ends."""
    pieces: list[tuple[str, bool]] = []
    done = ""
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(messages[:k], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages[: k + 1], tokenize=False)
        if not full.startswith(done):
            raise ConfigError(
                "the chat template does not render conversations as growing prefixes; "
                "assistant-only labels need that property"
            )
        if prompt.startswith(done) and full.startswith(prompt):
            cut = len(prompt)
        else:  # the template writes the assistant header differently from its generation prompt (llava-hf)
            answer = "".join(item.get("text", "") for item in message["content"])
            cut = full.rfind(answer)
            if not answer or cut < len(done):
                raise ConfigError("cannot find the assistant answer in the rendered conversation")
        pieces += [(full[len(done) : cut], False), (full[cut:], True)]
        done = full
    return [p for p in pieces if p[0]]


def find_marker(ids: list[int], marker: list[int]) -> int:
    n = len(marker)
    for i in range(len(ids) - n + 1):
        if ids[i : i + n] == marker:
            return i
    raise ConfigError("the rendered prompt holds no video marker; is there a '<video>' in the first question?")


def splice(ids: list[int], labels: list[int], marker: list[int], tokens: list[int]):
    """Replace the first occurrence of the video marker ids by the clip's placeholder tokens."""
    i, n = find_marker(ids, marker), len(marker)
    return ids[:i] + tokens + ids[i + n :], labels[:i] + [IGNORE] * len(tokens) + labels[i + n :]


def tokenize_turns(tokenizer, messages: list[dict]) -> tuple[list[int], list[int]]:
    """Token ids of a rendered conversation and their labels: assistant tokens kept, every other IGNORE."""
    ids: list[int] = []
    labels: list[int] = []
    for text, is_answer in render_segments(tokenizer, messages):
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if is_answer else [IGNORE] * len(piece)
    return ids, labels


def encode(adapter, tokenizer, messages: list[dict], video_input, max_length: int = 0) -> dict:
    """Token ids and labels of one conversation with its clip spliced in, fitted to `max_length`.

    Truncation never cuts the video: the text after it is shortened from the end (`cut` tokens). A sample is
    dropped instead (`dropped` says why) when the tokens up to the end of the video alone exceed
    `max_length`, or when no answer token would be left to learn from."""
    ids, labels = tokenize_turns(tokenizer, messages)
    marker = adapter.marker_ids(tokenizer)
    video_end = find_marker(ids, marker) + len(video_input.tokens)
    ids, labels = splice(ids, labels, marker, video_input.tokens)
    example = {"input_ids": ids, "labels": labels, "video": video_input, "cut": 0, "dropped": None}
    if max_length and len(ids) > max_length:
        if video_end > max_length:
            example["dropped"] = f"the prompt and video take {video_end} tokens, beyond max_length={max_length}"
        elif all(label == IGNORE for label in labels[:max_length]):
            example["dropped"] = f"no answer token within max_length={max_length}"
        example["cut"] = len(ids) - max_length
        example["input_ids"], example["labels"] = ids[:max_length], labels[:max_length]
    return example


def prompt_ids(adapter, tokenizer, question: str, video_input) -> list[int]:
    """Token ids of a single-question prompt up to where the answer starts (inference)."""
    messages = to_messages([{"from": "human", "value": "<video>\n" + question}])
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    ids, _ = splice(ids, [IGNORE] * len(ids), adapter.marker_ids(tokenizer), video_input.tokens)
    return ids


def pad_batch(examples: list[dict], pad: int, *, left_pad: bool = False) -> dict:
    """`input_ids` / `labels` lists padded to one width: input_ids, attention_mask and labels tensors."""
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    ids, labels, mask = [], [], []
    for e in examples:
        gap = width - len(e["input_ids"])
        lab = e.get("labels") or [IGNORE] * len(e["input_ids"])
        if left_pad:
            ids.append([pad] * gap + e["input_ids"])
            labels.append([IGNORE] * gap + lab)
            mask.append([0] * gap + [1] * len(e["input_ids"]))
        else:
            ids.append(e["input_ids"] + [pad] * gap)
            labels.append(lab + [IGNORE] * gap)
            mask.append([1] * len(e["input_ids"]) + [0] * gap)
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}


def collate(adapter, tokenizer, examples: list[dict], *, left_pad: bool = False) -> dict:
    """Pad a batch (right for training, left for generation) and add the adapter's fields for its clips."""
    batch = pad_batch(examples, tokenizer.pad_token_id, left_pad=left_pad)
    return batch | adapter.batch_fields([e["video"] for e in examples], batch)


class VideoCache:
    """Preprocessed clips by path: stage I repeats each video once per dimension, decode it once."""

    def __init__(self, adapter, tokenizer, size: int = 256):
        self.adapter, self.tokenizer, self.size = adapter, tokenizer, size
        self._items: OrderedDict[str, object] = OrderedDict()

    def get(self, path: str):
        from s2i_core.lmm.preprocess import sample_frames

        if path in self._items:
            self._items.move_to_end(path)
            return self._items[path]
        config = self.adapter.config
        item = self.adapter.video_input(sample_frames(path, config.frames, config.fps), self.tokenizer)
        self._items[path] = item
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return item
