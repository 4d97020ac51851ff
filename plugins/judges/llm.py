"""LLM judge over any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, OpenAI).

HTTP goes through the shared client (`s2i_core.llm`): retries, one deadline per request, a reply-size cap, no
key on redirects; a failed or malformed reply fails that one item. The judge model and the exact prompt are part
of every result: scores from two judges are not comparable.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from s2i_core.bench.judging import JudgeError
from s2i_core.llm import ChatClient, ClientConfig
from s2i_core.specs import JudgeSpec
AXES = ("correctness", "context", "detail", "temporal")

SYSTEM = ("You are a strict evaluator of video quality assessments. You compare a model's answer with a "
          "reference answer written from measured quality scores. Reply with JSON only.")
PROMPT = """Question about the video: {question}

Reference answer: {reference}

Model answer: {answer}

Score the model answer from 0 (worst) to 5 (best) on each axis:
- correctness: do its quality ratings agree with the reference?
- context: does it address what was asked, in the context of this video?
- detail: does it name the specific distortions and dimensions, not generic praise?
- temporal: does it judge what happens over time (stability, flicker, fluency, motion) correctly?
Reply with exactly one JSON object: {{"correctness": n, "context": n, "detail": n, "temporal": n}}"""


@dataclass
class LlmJudgeConfig(ClientConfig):  # api_key_env, timeout_s, retries, backoff_s, max_reply_bytes, retry_failed
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    temperature: float = 0.0
    max_tokens: int = 200
    timeout_s: float = 120.0


class LlmJudge:
    axes = AXES
    cached = True  # verdicts are journaled as they come: a killed run resumes, a rerun asks nothing again

    def __init__(self, cfg: LlmJudgeConfig):
        if not cfg.model:
            raise JudgeError("judge 'llm' needs judge.model=<model name served at judge.base_url>")
        self.cfg, self.retry_failed = cfg, cfg.retry_failed
        self._client = ChatClient(cfg.base_url, cfg, "judge.base_url")

    def describe(self) -> dict:
        return {"judge": "llm", "model": self.cfg.model, "base_url": self.cfg.base_url,
                "temperature": self.cfg.temperature, "max_tokens": self.cfg.max_tokens, "system": SYSTEM,
                "prompt": PROMPT}

    def judge(self, item: dict, answer: str, seed: int = 0) -> dict[str, float]:
        content = PROMPT.format(question=item["question"], reference=item["reference"], answer=answer)
        body = {"model": self.cfg.model, "temperature": self.cfg.temperature, "max_tokens": self.cfg.max_tokens,
                "seed": seed, "messages": [{"role": "system", "content": SYSTEM},
                                           {"role": "user", "content": content}]}
        return parse_verdict(self._client.chat(body))


def parse_verdict(text: str) -> dict[str, float]:
    """The four axis scores from the judge's reply (the first JSON object in it), each a number in [0, 5].

    A score outside the scale (or NaN) means the judge did not follow the instructions: the verdict is refused,
    not clamped into something that looks valid."""
    match = re.search(r"\{.*?\}", text, re.DOTALL)
    try:
        verdict = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        verdict = None
    if not isinstance(verdict, dict) or any(a not in verdict for a in AXES):
        raise JudgeError(f"judge reply is not a JSON object with {', '.join(AXES)}: {text[:200]!r}")
    try:
        if any(isinstance(verdict[a], bool) for a in AXES):
            raise TypeError
        scores = {a: float(verdict[a]) for a in AXES}
    except (TypeError, ValueError):
        raise JudgeError(f"judge reply has a non-numeric score: {text[:200]!r}") from None
    if bad := [a for a, v in scores.items() if not (math.isfinite(v) and 0.0 <= v <= 5.0)]:
        raise JudgeError(f"judge reply scores {', '.join(bad)} outside 0-5: {text[:200]!r}")
    return scores


SPECS = (JudgeSpec("llm", LlmJudge, LlmJudgeConfig,
                   "LLM judge over an OpenAI-compatible endpoint: correctness, context, detail, temporal (0-5)"),)
