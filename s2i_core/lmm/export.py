"""What `s2i train` writes beside the merged weights so `model/` is a checkpoint like any other:
the processor files transformers reads, the chat template, and the stage-II LoRA on its own (PEFT format).

    model/                      config.json, model.safetensors, tokenizer files   (save_pretrained)
          chat_template.jinja   the template training rendered with
          processor_config.json, preprocessor_config.json, video_preprocessor_config.json
          adapter/              adapter_config.json + adapter_model.safetensors   (PeftModel.save_pretrained)
          s2i_lmm.json          the adapter settings `s2i assess model=...` reads
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

from s2i_core.lmm.model_files import PROCESSOR_FILES
from s2i_core.sig.io import atomic_write_text

ADAPTER_DIR = "adapter"


def save_adapter(model, folder: str, base: str) -> str | None:
    """Write the LoRA of a peft model to `folder/adapter` (before it is merged); None without LoRA.

    Its base is the model stage II started from: `lmm.model` with stage I's weights
    (`stage1/trained.safetensors`) when stage I ran."""
    if not hasattr(model, "peft_config"):
        return None
    target = os.path.join(folder, ADAPTER_DIR)
    model.save_pretrained(target)
    config_file = os.path.join(target, "adapter_config.json")
    with open(config_file, encoding="utf-8") as fh:
        config = json.load(fh)
    config["base_model_name_or_path"] = base or None
    atomic_write_text(config_file, json.dumps(config, indent=2))
    return target


def save_processor_files(adapter, tokenizer, folder: str) -> list[str]:
    """The base checkpoint's processor files when it has them, else ones written from the adapter's
    preprocessing; and the chat template as `chat_template.jinja`. Returns the names written."""
    base = adapter.config.model
    written = []
    if base and os.path.isdir(base) and any(os.path.exists(os.path.join(base, n)) for n in PROCESSOR_FILES):
        for name in PROCESSOR_FILES:
            if os.path.exists(os.path.join(base, name)):
                shutil.copyfile(os.path.join(base, name), os.path.join(folder, name))
                written.append(name)
    else:
        for name, content in adapter.processor_files().items():
            atomic_write_text(os.path.join(folder, name), json.dumps(content, indent=2) + "\n")
            written.append(name)
    template = os.path.join(folder, "chat_template.jinja")
    if isinstance(tokenizer.chat_template, str) and not os.path.exists(template):
        atomic_write_text(template, tokenizer.chat_template)
    written.append("chat_template.jinja")
    return written


def save_final(cfg, adapter, model, tokenizer, output_dir: str, dtype=None) -> str:
    """A standalone model folder: LoRA merged (and saved on its own in PEFT format), tokenizer, chat
    template, processor files and the adapter settings under the name the run selected it by (`lmm.impl`),
    which `load_scorer` builds it from again. The weights are stored in `dtype` (the run's compute dtype),
    rounded once from the fp32 masters after merging."""
    folder = os.path.join(output_dir, "model")
    save_adapter(model, folder, adapter.config.model)
    merged = model.merge_and_unload() if hasattr(model, "merge_and_unload") else model
    if dtype is not None:
        merged.to(dtype=dtype)
    merged.config.use_cache = True
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    save_processor_files(adapter, tokenizer, folder)
    # trust_remote_code is never written: a folder must not be able to turn on running its own code
    settings = dataclasses.asdict(adapter.config) | {"impl": cfg.lmm.impl, "model": folder, "tiny": False}
    settings.pop("trust_remote_code", None)
    if cfg.score:
        from omegaconf import OmegaConf

        settings["score"] = OmegaConf.to_container(cfg.score, resolve=True)
    atomic_write_text(os.path.join(folder, "s2i_lmm.json"), json.dumps(settings, indent=2))
    return folder
