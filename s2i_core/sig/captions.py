"""Optional content captions from a video LMM (the paper used ShareCaptioner-Video), off by default.

`captions.enabled=true captions.model=<tuned model folder or base model folder>` loads the model through the LMM
adapter layer (`s2i_core.lmm.inference.load_scorer`, which accepts a `s2i train` output folder) and asks
`captions.question` per video. Captions are journaled under `.s2i/` like scores (a killed run does not caption
twice) and stored in each record as `caption`; with `captions.in_justification=true` the justification opens with
one content sentence, so the quality reasoning is anchored to what the video shows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from omegaconf import OmegaConf

from s2i_core.errors import ConfigError
from s2i_core.sig.io import Journal, dumps


def caption_videos(cfg, registry, root: Path, videos: list[str], work: Path, show: bool) -> dict[str, str]:
    """{video: caption} for `videos`, from the journal where present, else from the model."""
    from s2i_core.schemas import CaptionsConfig

    node = OmegaConf.to_container(OmegaConf.merge(OmegaConf.structured(CaptionsConfig), cfg), resolve=True)
    if not node["model"]:
        raise ConfigError("captions.enabled=true needs captions.model=<model folder> (a video LMM the adapters "
                          "in `s2i plugins` can load)")
    key = hashlib.sha256(dumps(node).encode()).hexdigest()[:12]
    journal = Journal(work / f"captions-{key}.jsonl")
    done = {v: row["caption"] for v, row in journal.read().items()}
    todo = [v for v in videos if v not in done]
    if todo:
        from s2i_core.lmm.inference import load_scorer
        from s2i_core.sig.progress import progress_bar

        model = load_scorer(node["model"], registry, device=node["device"], batch_size=node["batch_size"],
                            trust_remote_code=node["trust_remote_code"])
        size = max(1, node["batch_size"])
        with journal, progress_bar(show, "captions", len(videos), completed=len(videos) - len(todo)) as advance:
            for start in range(0, len(todo), size):
                batch = todo[start:start + size]
                texts = model.justify([str(root / v) for v in batch], question=node["question"],
                                      max_new_tokens=node["max_new_tokens"])
                for video, text in zip(batch, texts):
                    text = " ".join(text.split())
                    journal.append({"video": video, "caption": text})
                    done[video] = text
                    advance()
    return {v: done[v] for v in videos}


def with_caption(justification: str, caption: str) -> str:
    caption = caption.strip().rstrip(".")
    return f"Content: {caption}.\n\n{justification}" if caption else justification
