"""LLM judge over any OpenAI-compatible chat endpoint (vLLM, llama.cpp server, Ollama, OpenAI), stdlib HTTP only.

The judge model and the exact prompt are part of every result: scores from two judges are not comparable.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from s2i_core.bench.judging import JudgeError
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
class LlmJudgeConfig:
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never stored in configs
    temperature: float = 0.0
    max_tokens: int = 200
    timeout_s: float = 120.0
    retries: int = 2


class LlmJudge:
    axes = AXES

    def __init__(self, cfg: LlmJudgeConfig):
        if not cfg.model:
            raise JudgeError("judge 'llm' needs judge.model=<model name served at judge.base_url>")
        self.cfg = cfg

    def describe(self) -> dict:
        return {"judge": "llm", "model": self.cfg.model, "base_url": self.cfg.base_url,
                "temperature": self.cfg.temperature, "system": SYSTEM, "prompt": PROMPT}

    def judge(self, item: dict, answer: str, seed: int = 0) -> dict[str, float]:
        content = PROMPT.format(question=item["question"], reference=item["reference"], answer=answer)
        body = {"model": self.cfg.model, "temperature": self.cfg.temperature, "max_tokens": self.cfg.max_tokens,
                "seed": seed, "messages": [{"role": "system", "content": SYSTEM},
                                           {"role": "user", "content": content}]}
        reply = self._post(body)
        try:
            text = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise JudgeError(f"judge endpoint {self._url()} returned no message: {str(reply)[:200]}") from None
        return parse_verdict(text)

    def _url(self) -> str:
        return self.cfg.base_url.rstrip("/") + "/chat/completions"

    def _post(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if key := os.environ.get(self.cfg.api_key_env, ""):
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self._url(), data=json.dumps(body).encode(), headers=headers)
        last = ""
        for attempt in range(self.cfg.retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.cfg.timeout_s) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}: {exc.read()[:200].decode(errors='replace')}"
                if exc.code < 500 and exc.code != 429:
                    break  # a client error will not go away by asking again
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as exc:
                last = str(exc)
            time.sleep(min(2.0, 0.2 * 2 ** attempt))
        raise JudgeError(f"judge endpoint {self._url()} failed: {last}")


def parse_verdict(text: str) -> dict[str, float]:
    """The four axis scores from the judge's reply (the first JSON object in it), clamped to [0, 5]."""
    match = re.search(r"\{.*?\}", text, re.DOTALL)
    try:
        verdict = json.loads(match.group(0)) if match else None
    except json.JSONDecodeError:
        verdict = None
    if not isinstance(verdict, dict) or any(a not in verdict for a in AXES):
        raise JudgeError(f"judge reply is not a JSON object with {', '.join(AXES)}: {text[:200]!r}")
    try:
        return {a: min(5.0, max(0.0, float(verdict[a]))) for a in AXES}
    except (TypeError, ValueError):
        raise JudgeError(f"judge reply has a non-numeric score: {text[:200]!r}") from None


SPECS = (JudgeSpec("llm", LlmJudge, LlmJudgeConfig,
                   "LLM judge over an OpenAI-compatible endpoint: correctness, context, detail, temporal (0-5)"),)
