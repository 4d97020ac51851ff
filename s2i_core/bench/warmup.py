"""Language warm-up of a tiny from-scratch LMM: the stand-in for the pre-trained LLM the method starts from.

The paper tunes LMMs whose language model already knows language (stage I freezes it and steers it through
the vision side). A tiny model built from config has a random LLM whose logits are nearly uniform whatever its
input, so a frozen random LLM cannot be steered and stage I would learn nothing. The warm-up trains the
language model alone (causal LM, assistant tokens only) on the text of the instruction files with the video
removed: it learns the wording and the level prior, never what any video looks like. Every variant of the
reproduction (untrained included) starts from the saved folder, as every variant in the paper starts from the
same base model.

The saved folder carries `warmup.json`: the settings it was trained with and its losses. A rerun into the same
folder with the same settings and text reuses it (a resumed reproduction does not train it again); one with
other settings is refused, since the variants already trained in the run folder started from the saved
weights and a new base under them would mix two runs in one table.
"""

from __future__ import annotations

import json
import os

from s2i_core.lmm import data as D
from s2i_core.lmm import fingerprint as fp

MARKER = "warmup.json"
STAGES = (1, 2)  # the instruction files whose text the warm-up reads


def text_examples(tokenizer, data_dir: str, max_length: int) -> list[dict]:
    """`input_ids` and `labels` of every stage I and stage II conversation, without its video."""
    out = []
    for stage in STAGES:
        for item in D.load_items(data_dir, stage):
            turns = [dict(t, value=t["value"].replace("<video>\n", "").replace("<video>", ""))
                     for t in item.conversations]
            ids, labels = D.tokenize_turns(tokenizer, D.to_messages(turns))
            out.append({"input_ids": ids[:max_length], "labels": labels[:max_length]})
    return out


def language_warmup(lmm_cfg, registry, data_dir: str, folder: str, *, steps: int, lr: float, batch_size: int,
                    max_length: int, seed: int) -> dict:
    """Train the language group of `lmm_cfg`'s model on text for `steps` steps; save it to `folder`, or reuse
    what an earlier run with the same settings and text saved there."""
    import torch
    from omegaconf import OmegaConf

    from s2i_core.lmm.trainer import set_trainable

    lmm = {k: v for k, v in OmegaConf.to_container(lmm_cfg, resolve=True).items() if k not in fp.LMM_NOT_LEARNED}
    fingerprint = {"config": fp.flatten({"lmm": lmm, "steps": steps, "lr": lr, "batch_size": batch_size,
                                          "max_length": max_length, "seed": seed}),
                   "data": {"instructions": fp.instructions_digest(data_dir, STAGES)}}
    marker = os.path.join(folder, MARKER)
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as fh:
            saved = json.load(fh)
        fp.check(saved.get("fingerprint"), fingerprint, marker,
                 remedy="or delete the whole run folder to start again (its trained variants grew from this base)")
        return saved["result"]
    adapter = registry.build("lmm_adapter", lmm_cfg)
    torch.manual_seed(seed)
    model, tokenizer = adapter.load("cpu")
    set_trainable(model, adapter, ["language"], lora=False)
    examples = text_examples(tokenizer, data_dir, max_length)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    order = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(steps):
        picked = torch.randint(len(examples), (batch_size,), generator=order).tolist()
        batch = D.pad_batch([examples[i] for i in picked], tokenizer.pad_token_id)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    head = max(1, steps // 10)
    result = {"steps": steps, "examples": len(examples), "loss_first": sum(losses[:head]) / head,
              "loss_last": sum(losses[-head:]) / head, "folder": folder}
    # written last: a warm-up killed before this point is trained again
    with open(marker + ".tmp", "w", encoding="utf-8") as fh:
        json.dump({"fingerprint": fingerprint, "result": result}, fh, indent=2, sort_keys=True)
    os.replace(marker + ".tmp", marker)
    return result
