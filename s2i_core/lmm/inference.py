"""Inference with a (tuned) video LMM: Q-Align-style level-token scoring and free-form justification.

    scorer = load_scorer("runs/train/x/model", registry)   # or a config node {impl: qwen2_vl, model: ..., ...}
    scorer.score(["a.mp4", "b.mp4"])  -> [0.81, 0.22]  # one forward pass per batch
    scorer.justify(["a.mp4"])          -> ["The sharpness is good ..."]

Scoring reads the next-token distribution at the answer position, keeps the five level words, softmaxes them
and returns sum(p_i * w_i) with w = (0, .25, .5, .75, 1): a scalar in [0, 1], higher is better.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from s2i_core.dimensions import LEVELS
from s2i_core.errors import ConfigError
from s2i_core.lmm import data as D
from s2i_core.prompts import SCORE_ANSWER_PREFIX, SCORE_QUESTION  # the words the tuned model was trained on

JUSTIFY_QUESTION = "Assess the quality of this video and explain your rating."
LEVEL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


class Scorer:
    def __init__(
        self,
        adapter,
        model,
        tokenizer,
        device: str,
        *,
        question: str = SCORE_QUESTION,
        answer_prefix: str = SCORE_ANSWER_PREFIX,
        batch_size: int = 4,
    ):
        self.adapter, self.model, self.tokenizer, self.device = adapter, model, tokenizer, device
        self.question, self.answer_prefix, self.batch_size = question, answer_prefix, batch_size
        self.model.eval()
        self.prefix_ids, self.level_ids = self._level_token_ids()

    def _level_token_ids(self) -> tuple[list[int], list[int]]:
        """Tokens of the answer prefix, then the first token of each level word, exactly as training tokenized
        an assistant turn `<prefix> <level>` (the template's own spacing, the answer segment on its own)."""
        segments = []
        for level in LEVELS:
            answer = f"{self.answer_prefix} {level}" if self.answer_prefix else level
            messages = D.to_messages(
                [{"from": "human", "value": "<video>\n" + self.question}, {"from": "gpt", "value": answer}]
            )
            text = next(t for t, is_answer in D.render_segments(self.tokenizer, messages) if is_answer)
            segments.append(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        common = 0
        while all(len(s) > common + 1 and s[common] == segments[0][common] for s in segments):
            common += 1
        level_ids = [s[common] for s in segments]
        if len(set(level_ids)) != len(LEVELS):
            raise ConfigError(
                f"the level words do not start with distinct tokens after {self.answer_prefix!r} "
                f"in this tokenizer ({level_ids}); choose another answer_prefix"
            )
        return segments[0][:common], level_ids

    # ---- inputs ---------------------------------------------------------------------------------------------
    def _videos(self, clips) -> list:
        from s2i_core.lmm.preprocess import Frames, frames_from_clip, sample_frames

        out = []
        for clip in clips:
            if isinstance(clip, (str, os.PathLike)):
                frames = sample_frames(str(clip), self.adapter.config.frames, self.adapter.config.fps)
            elif isinstance(clip, Frames):
                frames = clip
            else:  # an s2i_core.video.Clip decoded elsewhere
                frames = frames_from_clip(clip, self.adapter.config.frames, self.adapter.config.fps)
            out.append(self.adapter.video_input(frames, self.tokenizer))
        return out

    def _batch(self, videos, question: str, prefix_ids: list[int]) -> dict:
        examples = [
            {"input_ids": D.prompt_ids(self.adapter, self.tokenizer, question, v) + prefix_ids, "video": v}
            for v in videos
        ]
        batch = D.collate(self.adapter, self.tokenizer, examples, left_pad=True)
        batch.pop("labels")
        return {k: v.to(self.device) for k, v in batch.items()}

    # ---- scoring --------------------------------------------------------------------------------------------
    def _answer_outputs(self, clips, **options):
        """The model's outputs for each batch of `clips`, read at the answer position (the level word's)."""
        import torch

        for start in range(0, len(clips), self.batch_size):
            videos = self._videos(clips[start : start + self.batch_size])
            batch = self._batch(videos, self.question, self.prefix_ids)
            with torch.no_grad():
                yield self.model(**batch, logits_to_keep=1, **options)

    def probabilities(self, clips) -> list[dict[str, float]]:
        import torch

        rows = []
        for out in self._answer_outputs(clips):
            probs = torch.softmax(out.logits[:, -1, self.level_ids].float(), dim=-1).cpu()
            rows += [dict(zip(LEVELS, p.tolist())) for p in probs]
        return rows

    def hidden_states(self, clips):
        """[clips, layers x width]: the hidden state at the answer position (where the level word is read)
        after every decoder layer, concatenated: what a probe can read out of the model (s2i_core.bench)."""
        import torch

        rows = [torch.cat([h[:, -1].float() for h in out.hidden_states[1:]], dim=-1).cpu()
                for out in self._answer_outputs(clips, output_hidden_states=True)]
        return torch.cat(rows).numpy()

    def score(self, clips) -> list[float]:
        return [sum(w * p[lv] for w, lv in zip(LEVEL_WEIGHTS, LEVELS)) for p in self.probabilities(clips)]

    # ---- generation -----------------------------------------------------------------------------------------
    def justify(
        self, clips, question: str = JUSTIFY_QUESTION, max_new_tokens: int = 256, min_new_tokens: int = 0
    ) -> list[str]:
        import torch

        texts = []
        for start in range(0, len(clips), self.batch_size):
            videos = self._videos(clips[start : start + self.batch_size])
            batch = self._batch(videos, question, [])
            with torch.no_grad():
                out = self.model.generate(
                    **batch,
                    max_new_tokens=max_new_tokens,
                    min_new_tokens=min_new_tokens,
                    do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            new = out[:, batch["input_ids"].shape[1] :]
            texts += [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]
        return texts

    def score_by_generation(self, clips, max_new_tokens: int = 16) -> list[float | None]:
        """The slow baseline: generate an answer to the scoring question and parse its last level word.
        Exactly `max_new_tokens` are generated (a random benchmark model would otherwise stop anywhere)."""
        answers = self.justify(clips, self.question, max_new_tokens, min_new_tokens=max_new_tokens)
        return [parse_level_score(a) for a in answers]


def parse_level_score(text: str) -> float | None:
    found = re.findall(r"\b(" + "|".join(LEVELS) + r")\b", text.lower())
    return LEVEL_WEIGHTS[LEVELS.index(found[-1])] if found else None


def load_scorer(
    path_or_cfg: Any, registry, *, device: str = "auto", trust_remote_code: bool = False, **options
) -> Scorer:
    """A scorer from a tuned model folder (written by `s2i train`), or from an `lmm` config node.

    For a folder, `trust_remote_code` comes from the caller (the command line) only: the folder's own
    `s2i_lmm.json` cannot turn it on, and a folder that ships code (`auto_map`) is refused without it."""
    import torch

    if isinstance(path_or_cfg, (str, os.PathLike)):
        folder = str(path_or_cfg)
        settings_file = os.path.join(folder, "s2i_lmm.json")
        if not os.path.exists(settings_file):
            raise ConfigError(
                f"{folder}: not a tuned model folder (no s2i_lmm.json); `s2i train` writes one under <output>/model"
            )
        with open(settings_file, encoding="utf-8") as fh:
            node = json.load(fh) | {"model": os.path.abspath(folder)}
        asks = node.pop("trust_remote_code", False)
        code = remote_code_files(folder)
        if (asks or code) and not trust_remote_code:
            what = f"ships its own code ({', '.join(code)})" if code else "asks for trust_remote_code in s2i_lmm.json"
            raise ConfigError(
                f"model folder {folder} {what}; it runs only if you pass trust_remote_code=true on the command line"
            )
        node["trust_remote_code"] = bool(trust_remote_code)
        options = node.pop("score", {}) | options  # the prompt the model was trained to answer
    else:
        node = path_or_cfg
    adapter = registry.build("lmm_adapter", node)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model, tokenizer = adapter.load(device)
    return Scorer(adapter, model, tokenizer, device, **options)


def remote_code_files(folder: str) -> list[str]:
    """The config files of `folder` that point transformers at Python code in it (`auto_map`)."""
    names = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json",
             "video_preprocessor_config.json")  # fmt: skip
    found = []
    for name in names:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as fh:
                    content = json.load(fh)
            except (OSError, json.JSONDecodeError):
                continue
            if isinstance(content, dict) and content.get("auto_map"):
                found.append(f"auto_map in {name}")
    return found


def assess_with_model(
    video: str, model_dir: str, registry, *, max_new_tokens: int = 256, device: str = "auto",
    trust_remote_code: bool = False,
) -> dict:
    """What `s2i assess VIDEO model=<tuned dir>` reports: the LMM's score, level probabilities and its words."""
    if not os.path.isfile(video):
        raise ConfigError(f"video {video!r} does not exist or is not a file")
    scorer = load_scorer(model_dir, registry, device=device, batch_size=1, trust_remote_code=trust_remote_code)
    probs = scorer.probabilities([video])[0]
    score = sum(w * probs[lv] for w, lv in zip(LEVEL_WEIGHTS, LEVELS))
    return {
        "video": video,
        "model": model_dir,
        "overall": {"score": round(score, 4), "level": max(probs, key=probs.get)},
        "probabilities": {k: round(v, 4) for k, v in probs.items()},
        "justification": scorer.justify([video], max_new_tokens=max_new_tokens)[0],
    }


def run_assess(cfg, registry) -> int:
    """The `s2i assess` branch for a tuned model (kept here so assess.py only delegates)."""
    record = assess_with_model(
        str(cfg.video),
        str(cfg.model),
        registry,
        max_new_tokens=cfg.max_new_tokens,
        trust_remote_code=cfg.trust_remote_code,
    )
    if cfg.json:
        print(json.dumps(record, indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.panel import Panel

    console = Console()
    probs = "  ".join(f"{k} {v:.2f}" for k, v in record["probabilities"].items())
    # The score is the expected value over the five level probabilities (Q-Align), the level the most likely
    # word: they can disagree (0.47 is "fair" on the scale, yet "bad" may be the likeliest word), so say which.
    console.print(
        f"[bold]{record['video']}[/]  overall score {record['overall']['score']:.3f} (probability-weighted "
        f"mean of the levels, bad=0 ... excellent=1); most likely level: {record['overall']['level']}\n"
        f"  level probabilities: {probs}",
        highlight=False,
    )
    console.print(Panel(record["justification"] or "(empty)", title=f"justification — {cfg.model}", expand=False))
    return 0
