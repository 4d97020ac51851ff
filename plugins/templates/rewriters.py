"""Rewriters: vary the wording of a justification while keeping every level word.

`template` (default) works offline: seeded substitutions of connective phrases, never touching a level word.
`llm` asks an OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama: `endpoint=http://host:port/v1`)
or a local transformers model (`model_path=`) with a rating-preserving prompt; HTTP goes through the shared
client (`s2i_core.llm`: retries, one deadline per request, a reply-size cap, no key on redirects). The pipeline
checks every rewrite (`s2i_core.sig.rewrite`): one that drops, adds, swaps or negates a rating is rejected and
the template text kept, unless `preserve_check=false` (the paper's ablation without the rating-preserving step).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s2i_core.dimensions import LEVELS
from s2i_core.errors import ConfigError
from s2i_core.llm import ChatClient, ClientConfig, LlmError
from s2i_core.sig.rewrite import RewriteFailed
from s2i_core.specs import NoConfig, RewriterSpec

__all__ = ["RewriteFailed"]  # re-exported: third-party rewriters raise it to keep the template text


class Identity:
    preserve_check = False

    def __init__(self, cfg: NoConfig):
        self.cfg = cfg

    def rewrite(self, text: str, rng) -> str:
        return text


SWAPS = (
    ("this video", ("this video", "the video", "this clip", "the footage")),
    ("Therefore, ", ("Therefore, ", "Hence, ", "So ", "Thus, ")),
    ("Taken together, ", ("Taken together, ", "Altogether, ", "All in all, ")),
    ("I would call it", ("I would call it", "I would rate it", "I find it")),
    ("the rating is", ("the rating is", "my rating is", "the verdict is")),
    ("Looking at", ("Looking at", "Examining", "Considering")),
)


@dataclass
class TemplateRewriterConfig:
    preserve_check: bool = True
    # Offline stand-in for an unconstrained paraphraser: each level word moves to a neighbouring level with this
    # probability (0 = never). With preserve_check=true such rewrites are rejected; with false they are kept,
    # which reproduces the paper's "without rating preservation" ablation without an LLM.
    level_drift: float = 0.0


class TemplateRewriter:
    """Offline paraphrase by seeded phrase substitution (each occurrence drawn independently)."""

    def __init__(self, cfg: TemplateRewriterConfig):
        if not 0.0 <= cfg.level_drift <= 1.0:
            raise ConfigError(f"rewriter.level_drift={cfg.level_drift}: must be in [0, 1]")
        self.cfg, self.preserve_check = cfg, cfg.preserve_check

    def rewrite(self, text: str, rng) -> str:
        for phrase, options in SWAPS:
            text = re.sub(re.escape(phrase), lambda _m, o=options: rng.choice(o), text)
        if self.cfg.level_drift > 0:
            text = re.sub(r"\b(" + "|".join(LEVELS) + r")\b", lambda m: self._drift(m.group(1), rng), text)
        return text

    def _drift(self, level: str, rng) -> str:
        if rng.random() >= self.cfg.level_drift:
            return level
        i = LEVELS.index(level)
        return LEVELS[rng.choice([j for j in (i - 1, i + 1) if 0 <= j < len(LEVELS)])]


PROMPT = ("Rewrite the following assessment of a video's quality in different words, keeping its meaning. "
          "Keep every rating word (bad, poor, fair, good, excellent) exactly as written, attached to the same "
          "aspect, and add no new rating words. Reply with the rewritten text only.\n\n{text}")


@dataclass
class LlmRewriterConfig(ClientConfig):  # api_key_env, timeout_s, retries, backoff_s, max_reply_bytes, retry_failed
    endpoint: str = ""  # OpenAI-compatible base URL, e.g. http://localhost:8000/v1
    model: str = "default"  # model name sent to the endpoint
    model_path: str = ""  # local transformers model folder, used when no endpoint is given
    temperature: float = 0.7
    max_tokens: int = 512
    concurrency: int = 8  # parallel HTTP requests
    preserve_check: bool = True
    prompt: str = PROMPT


class LlmRewriter:
    cached = True  # replies are journaled: slow, non-deterministic, and a rerun must not ask again

    def __init__(self, cfg: LlmRewriterConfig):
        if not cfg.endpoint and not cfg.model_path:
            raise ConfigError("rewriter=llm needs rewriter.endpoint=http://HOST:PORT/v1 (OpenAI-compatible "
                              "server: vLLM, llama.cpp, Ollama) or rewriter.model_path=<local transformers model>")
        if cfg.concurrency < 1:
            raise ConfigError(f"rewriter.concurrency={cfg.concurrency}: must be >= 1")
        self.cfg, self.preserve_check, self.concurrency = cfg, cfg.preserve_check, cfg.concurrency
        self._client = ChatClient(cfg.endpoint, cfg, "rewriter.endpoint") if cfg.endpoint else None
        self._local = None

    def rewrite(self, text: str, rng) -> str:
        seed = rng.randrange(2**31)
        if self.cfg.endpoint:
            return self._chat(text, seed)
        return self._generate_local(text, seed)

    def _chat(self, text: str, seed: int) -> str:
        body = {"model": self.cfg.model, "temperature": self.cfg.temperature, "max_tokens": self.cfg.max_tokens,
                "seed": seed, "messages": [{"role": "user", "content": self.cfg.prompt.format(text=text)}]}
        try:
            return self._client.chat(body).strip()
        except LlmError as exc:
            raise RewriteFailed(str(exc), exc.kind) from exc

    def _generate_local(self, text: str, seed: int) -> str:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self._local is None:
            tok = AutoTokenizer.from_pretrained(self.cfg.model_path)
            self._local = (tok, AutoModelForCausalLM.from_pretrained(self.cfg.model_path).eval())
        tok, model = self._local
        messages = [{"role": "user", "content": self.cfg.prompt.format(text=text)}]
        if tok.chat_template:
            ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                          return_dict=True)["input_ids"]
        else:
            ids = tok(messages[0]["content"], return_tensors="pt")["input_ids"]
        torch.manual_seed(seed)
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=self.cfg.max_tokens, do_sample=self.cfg.temperature > 0,
                                 temperature=self.cfg.temperature or None, pad_token_id=tok.eos_token_id)
        return tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip()


SPECS = (
    RewriterSpec("identity", Identity, NoConfig, "keep the template text"),
    RewriterSpec("template", TemplateRewriter, TemplateRewriterConfig, "offline seeded phrase substitution"),
    RewriterSpec("llm", LlmRewriter, LlmRewriterConfig,
                 "OpenAI-compatible chat endpoint or local transformers model, rating-preserving prompt"),
)
