"""Language warm-up of a tiny from-scratch LMM: the stand-in for the pre-trained LLM the method starts from.

The paper tunes LMMs whose language model already knows language (stage I freezes it and steers it through
the vision side). A tiny model built from config has a random LLM whose logits are nearly uniform whatever its
input, so a frozen random LLM cannot be steered and stage I would learn nothing. The warm-up trains the
language model alone (causal LM, assistant tokens only) on the text of the instruction files with the video
removed: it learns the wording and the level prior, never what any video looks like. Every variant of the
reproduction (untrained included) starts from the saved folder, as every variant in the paper starts from the
same base model.
"""

from __future__ import annotations

import os

from s2i_core.lmm import data as D


def text_examples(tokenizer, data_dir: str, max_length: int) -> list[dict]:
    """`input_ids` and `labels` of every stage I and stage II conversation, without its video."""
    out = []
    for stage in (1, 2):
        for item in D.load_items(data_dir, stage):
            turns = [dict(t, value=t["value"].replace("<video>\n", "").replace("<video>", ""))
                     for t in item.conversations]
            ids, labels = D.tokenize_turns(tokenizer, D.to_messages(turns))
            out.append({"input_ids": ids[:max_length], "labels": labels[:max_length]})
    return out


def language_warmup(lmm_cfg, registry, data_dir: str, folder: str, *, steps: int, lr: float, batch_size: int,
                    max_length: int, seed: int) -> dict:
    """Train the language group of `lmm_cfg`'s model on text for `steps` steps; save it to `folder`."""
    import torch

    from s2i_core.lmm.trainer import set_trainable

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
    return {"steps": steps, "examples": len(examples), "loss_first": sum(losses[:head]) / head,
            "loss_last": sum(losses[-head:]) / head, "folder": folder}

