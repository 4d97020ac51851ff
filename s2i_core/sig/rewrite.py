"""Apply a rewriter to every justification with the rating-preserving check, counting rejections.

A rewrite is accepted only if it carries exactly the same level words, the same number of times, as the template
text (a dropped, added or changed rating is a rejection; the template text is kept). Slow rewriters (`cached =
True`, the LLM one) have their raw replies journaled under `.s2i/`, so a killed run resumes without asking again
and a rerun is byte-identical even though the model samples.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from s2i_core.dimensions import LEVELS
from s2i_core.sig.io import Journal, dumps

_LEVEL_WORD = re.compile(r"\b(" + "|".join(LEVELS) + r")\b", re.IGNORECASE)


def level_words(text: str) -> Counter:
    return Counter(m.group(1).lower() for m in _LEVEL_WORD.finditer(text))


def preserves_levels(original: str, rewritten: str) -> bool:
    return bool(rewritten.strip()) and level_words(original) == level_words(rewritten)


def rewrite_all(rewriter, items: list[tuple[str, str, str]], journal_path, rewriter_config: dict) -> tuple[
        dict[str, str], dict[str, int]]:
    """items: (video, template text, rng seed string). Returns {video: final text} and counts."""
    stats = {"accepted": 0, "rejected": 0, "failed": 0, "unchecked": 0}
    cached = getattr(rewriter, "cached", False)
    journal = Journal(journal_path, key="key") if cached else None
    done = journal.read() if journal else {}
    salt = dumps(rewriter_config)
    lock = threading.Lock()

    def key_of(text: str, seed: str) -> str:
        return hashlib.sha256(f"{salt}\n{seed}\n{text}".encode()).hexdigest()[:32]

    def one(item: tuple[str, str, str]) -> tuple[str, str | None]:
        video, text, seed = item
        key = key_of(text, seed)
        if key in done:
            return video, done[key]["text"]
        try:
            reply = rewriter.rewrite(text, random.Random(seed))
        except Exception as exc:
            if type(exc).__name__ != "RewriteFailed":
                raise
            return video, None
        if journal is not None:
            with lock:  # threads share one journal handle
                journal.append({"key": key, "text": reply})
        return video, reply

    replies: dict[str, str | None] = {}
    try:
        workers = getattr(rewriter, "concurrency", 1)
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                replies = dict(pool.map(one, items))
        else:
            replies = dict(map(one, items))
    finally:
        if journal is not None:
            journal.close()
    out = {}
    for video, text, _ in items:
        reply = replies[video]
        if reply is None:
            stats["failed"] += 1
            out[video] = text
        elif not getattr(rewriter, "preserve_check", True):
            stats["unchecked"] += 1
            out[video] = reply
        elif preserves_levels(text, reply):
            stats["accepted"] += 1
            out[video] = reply
        else:
            stats["rejected"] += 1
            out[video] = text
    return out, stats
