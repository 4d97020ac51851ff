"""Apply a rewriter to every justification with the rating-preserving check, counting rejections.

A rewrite is accepted only if it states the record's ratings: every dimension, group and overall rating the
template text states must be read back from the rewrite (`s2i_core.bench.judging.read_ratings`) with the
record's level, no mention may pair a name with a level the template text never gives it, and the rewrite may
rate nothing the template text does not mention nor add a level word that rates no named aspect. So a rewrite
that swaps two ratings, negates one ("noise is not bad") or drops one is rejected and the template text kept.

Slow rewriters (`cached = True`, the LLM one) have their raw replies journaled under `.s2i/`, and so have their
failures (with the failure's kind), so a killed run resumes without asking again and a rerun is byte-identical
even though the model samples and the server is flaky. `retry_failed=true` asks again for journaled failures.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from s2i_core.bench.judging import read_ratings
from s2i_core.dimensions import LEVELS
from s2i_core.llm import TRANSPORT_FIELDS
from s2i_core.sig.io import Journal, dumps
from s2i_core.sig.records import Record

_LEVEL_WORD = re.compile(r"\b(" + "|".join(LEVELS) + r")\b", re.IGNORECASE)


class RewriteFailed(Exception):
    """The rewriter could not produce text (server down, malformed reply); the template text is kept.

    `kind` is a short stable word for the manifest's counts (`http_500`, `timeout`, `bad_reply`, ...)."""

    def __init__(self, message: str, kind: str = "failed"):
        self.kind = kind
        super().__init__(message)


def level_words(text: str) -> Counter:
    return Counter(m.group(1).lower() for m in _LEVEL_WORD.finditer(text))


def record_levels(record: dict) -> dict[str, str]:
    """{dimension | group | 'overall': level} of a record."""
    return Record(record).levels()


def rating_problems(levels: dict[str, str], original: str, rewritten: str) -> list[str]:
    """Why `rewritten` does not state the record's `levels` that `original` states; [] when it does."""
    if not rewritten.strip():
        return ["the rewrite is empty"]
    template, reading = read_ratings(original), read_ratings(rewritten)
    problems = [f"{name} ({levels[name]}) is not rated" for name in levels
                if name in template.levels and name not in reading.levels]
    for name, level in reading.levels.items():
        if name not in levels:
            if name not in template.claims:  # else a passing mention the template makes too ("... compression")
                problems.append(f"{name} is rated {level}, but the record does not rate it")
        elif level != levels[name]:
            problems.append(f"{name} is rated {level}, the record says {levels[name]}")
        elif stray := sorted(set(reading.claims[name]) - set(template.claims.get(name, ())) - {level}):
            problems.append(f"{name} is also called {', '.join(stray)}, the record says {level}")
    stray = Counter(reading.unattached) - Counter(template.unattached)
    problems += [f"{word!r} rates no named aspect" for word in sorted(stray.elements())]
    return problems


def rewrite_all(rewriter, items: list[tuple[str, str, str, dict]], journal_path, rewriter_config: dict) -> tuple[
        dict[str, str], dict]:
    """items: (video, template text, rng seed string, record levels). Returns {video: final text} and counts
    (`failed_by_kind`: failures by their kind)."""
    cached = getattr(rewriter, "cached", False)
    journal = Journal(journal_path, key="key") if cached else None
    done = journal.read() if journal else {}
    if rewriter_config.get("retry_failed"):
        done = {k: row for k, row in done.items() if "text" in row}
    # How replies are fetched does not change what was asked: those options leave the journal valid.
    salt = dumps({k: v for k, v in rewriter_config.items() if k not in TRANSPORT_FIELDS})
    lock = threading.Lock()

    def key_of(text: str, seed: str) -> str:
        return hashlib.sha256(f"{salt}\n{seed}\n{text}".encode()).hexdigest()[:32]

    def one(item: tuple[str, str, str, dict]) -> tuple[str, str | RewriteFailed]:
        video, text, seed, _ = item
        key = key_of(text, seed)
        if key in done:
            row = done[key]
            return video, row["text"] if "text" in row else RewriteFailed(row["message"], row["error"])
        try:
            reply = rewriter.rewrite(text, random.Random(seed))
            row = {"key": key, "text": reply}
        except RewriteFailed as exc:
            reply, row = exc, {"key": key, "error": exc.kind, "message": str(exc)}
        if journal is not None:
            with lock:  # threads share one journal handle
                journal.append(row)
        return video, reply

    replies: dict[str, str | RewriteFailed] = {}
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
    return _tally(rewriter, items, replies)


def _tally(rewriter, items: list[tuple[str, str, str, dict]], replies: dict[str, str | RewriteFailed]) -> tuple[
        dict[str, str], dict]:
    """The final text per video (the template text unless a reply passed the rating check) and the counts."""
    stats = {"accepted": 0, "rejected": 0, "failed": 0, "unchecked": 0}
    failed_by_kind: Counter = Counter()
    out = {}
    for video, text, _, levels in items:
        reply = replies[video]
        if isinstance(reply, RewriteFailed):
            stats["failed"] += 1
            failed_by_kind[reply.kind] += 1
            out[video] = text
        elif not getattr(rewriter, "preserve_check", True):
            stats["unchecked"] += 1
            out[video] = reply
        elif not rating_problems(levels, text, reply):
            stats["accepted"] += 1
            out[video] = reply
        else:
            stats["rejected"] += 1
            out[video] = text
    return out, {**stats, "failed_by_kind": dict(sorted(failed_by_kind.items()))}
