"""What a checkpoint keeps beside its weights that preprocessing depends on: the tokenizer with its chat
template, and the processor settings (normalisation) in whichever file this transformers version writes."""

from __future__ import annotations

import os

from s2i_core.errors import ConfigError


def load_tokenizer(path: str, trust_remote_code: bool):
    """The tokenizer with the model's own chat template (some checkpoints keep it beside the processor)."""
    import json

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    if tokenizer.chat_template is None and os.path.isdir(path):
        for name in ("chat_template.jinja", "chat_template.json"):
            file = os.path.join(path, name)
            if os.path.exists(file):
                with open(file, encoding="utf-8") as fh:
                    text = fh.read()
                tokenizer.chat_template = json.loads(text)["chat_template"] if name.endswith("json") else text
                break
    if tokenizer.chat_template is None:
        raise ConfigError(f"{path}: no chat template found (tokenizer_config.json, chat_template.jinja/json)")
    return tokenizer


PROCESSOR_FILES = ("video_preprocessor_config.json", "preprocessor_config.json", "processor_config.json")
_warned: set[tuple[str, str]] = set()


def processor_setting(model: str, key: str, default, *, tiny: bool = False):
    """A preprocessing value (image_mean, image_std, ...) from the checkpoint's processor files, else `default`.

    Reads every file transformers writes: `video_preprocessor_config.json`, `preprocessor_config.json` (4.x) and
    `processor_config.json` (5.x, which nests `video_processor` / `image_processor`); video settings first.
    Falling back to the family default for a real checkpoint is warned about once: training or scoring a
    checkpoint with another normalisation than its own is silent damage."""
    import warnings

    found = _processor_values(model, key) if model else []
    if found:
        return found[0]
    if not tiny and (model, key) not in _warned:
        _warned.add((model, key))
        where = "has no processor file with it" if os.path.isdir(model) else "has no processor file here"
        warnings.warn(
            f"lmm.model={model!r} {where}: {key} falls back to the family default {list(default)}",
            stacklevel=2,
        )
    return default


def _processor_values(model: str, key: str) -> list:
    import json

    values = []
    for name in PROCESSOR_FILES:
        file = _processor_file(model, name)
        if not file:
            continue
        with open(file, encoding="utf-8") as fh:
            content = json.load(fh)
        nodes = [content.get("video_processor"), content.get("image_processor")] if name.startswith("processor_") \
            else [content]  # fmt: skip
        values += [n[key] for n in nodes if isinstance(n, dict) and n.get(key) is not None]
    return values


def _processor_file(model: str, name: str) -> str | None:
    """A local folder's file, or a hub id's file from the local cache (never downloaded here)."""
    if os.path.isdir(model):
        file = os.path.join(model, name)
        return file if os.path.exists(file) else None
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, name)
    except Exception:  # not a valid repo id
        return None
    return found if isinstance(found, str) else None
