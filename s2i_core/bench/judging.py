"""Model-free reading of quality answers: which level a text gives each dimension, and text overlap.

Used by the deterministic `levels` judge, by S2I-Bench building (reference levels) and by the rating check of
rewrites (`s2i_core.sig.rewrite`). A clause ("...;", "...." or a line) that names a dimension and holds a level
word gives that dimension that level; "overall" and the group names are read the same way; a negated level word
("not bad") states nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from s2i_core.dimensions import DIMENSIONS, GROUPS, LEVELS, level_index
from s2i_core.errors import S2IError

OVERALL = "overall"


class JudgeError(S2IError):
    """A judge could not score an answer (unreachable endpoint, malformed verdict)."""


# Words people use for each dimension besides its name and its written definition.
_SYNONYMS = {
    "sharpness": ("sharp", "focus", "blurry", "blurriness"),
    "noise": ("grain", "grainy", "noisy"),
    "motion_blur": ("motion blur",),
    "stability": ("shake", "shaky", "steadiness", "camera stability"),
    "color_cast": ("colour cast", "color balance", "colour balance", "white balance"),
    "compression": ("blocking", "compression artifacts", "compression artefacts"),
    "fluency": ("stutter", "smoothness of motion", "frame rate"),
    "colorfulness": ("colourfulness", "colourful", "colorful", "vividness"),
    "lighting": ("light",),
    OVERALL: ("overall",),
    "technical": ("technical quality", "technical rating", "technical"),
    "aesthetic": ("aesthetic quality", "aesthetic rating", "aesthetics", "aesthetic"),
}


def _aliases() -> list[tuple[str, str]]:
    pairs = []
    for d in DIMENSIONS:
        pairs += [(d.name, d.name.replace("_", " ")), (d.name, d.definition.lower())]
        pairs += [(d.name, s) for s in _SYNONYMS.get(d.name, ())]
    for name in (OVERALL, *GROUPS):
        pairs += [(name, s) for s in _SYNONYMS[name]]
    return sorted(set(pairs), key=lambda p: -len(p[1]))  # longest first: "colour cast" before "colour"


_ALIASES = _aliases()
_ALIAS_RE = re.compile("|".join(rf"\b{re.escape(a)}\b" for _, a in _ALIASES))
_ALIAS_NAME = {a: n for n, a in _ALIASES}
_LEVEL_RE = re.compile(rf"\b({'|'.join(LEVELS)})\b")
_CLAUSE_RE = re.compile(r"[.;\n!?]+")


# A level word with one of these among the (up to three) words before it, in the same phrase, is not stated:
# "noise is not bad", "isn't excellent", "by no means poor", "good rather than bad".
_NEGATION_RE = re.compile(r"\b(?:not|never|no|nor|neither|cannot|hardly|barely|without|far from|anything but|"
                          r"rather than|instead of|less than|short of)\b|n[\'\u2019]t\b")
_PHRASE_BREAK_RE = re.compile(r"[,:()\"\u2014\u2013]|\s-\s")


@dataclass(frozen=True)
class Reading:
    """What a text states: `levels` by name (the tightest statement of each); every level any mention of a name
    pairs with (`claims`); level words no name claims (`unattached`); negated level words."""

    levels: dict[str, str]
    claims: dict[str, tuple[str, ...]]
    unattached: tuple[str, ...] = ()
    negated: tuple[str, ...] = ()


def _is_negated(clause: str, start: int) -> bool:
    before = clause[:start]
    phrase_start = max((m.end() for m in _PHRASE_BREAK_RE.finditer(before)), default=0)
    return bool(_NEGATION_RE.search(" ".join(before[phrase_start:].split()[-3:])))


def read_ratings(text: str) -> Reading:
    """Which level `text` gives each dimension, group and 'overall'.

    Each mention of a name pairs with the nearest level word of its clause (one after the name preferred:
    "noise is poor"); of all statements about a name, the tightest pairing wins. That keeps a passing mention
    ("on the technical side (capture, compression...): sharpness is bad") from outvoting the sentence that
    actually rates the thing ("compression ... comes out good"). A negated level word states nothing.
    """
    best: dict[str, tuple[int, str]] = {}
    claims: dict[str, list[str]] = {}
    unattached, negated = [], []
    for clause in _CLAUSE_RE.split(text.lower()):
        levels = []
        for m in _LEVEL_RE.finditer(clause):
            if _is_negated(clause, m.start()):
                negated.append(m.group(1))
            else:
                levels.append((m.start(), m.end(), m.group(1)))
        claimed = set()
        for m in _ALIAS_RE.finditer(clause) if levels else ():
            name = _ALIAS_NAME[m.group(0)]
            after = [(start - m.end(), start, word) for start, _, word in levels if start >= m.end()]
            before = [(2 * (m.start() - end), start, word) for start, end, word in levels if end <= m.start()]
            distance, start, word = min(after or before)
            claimed.add(start)
            claims.setdefault(name, []).append(word)
            if name not in best or distance < best[name][0]:
                best[name] = (distance, word)
        unattached += [word for start, _, word in levels if start not in claimed]
    return Reading({name: word for name, (_, word) in best.items()},
                   {name: tuple(words) for name, words in claims.items()}, tuple(unattached), tuple(negated))


def extract_levels(text: str) -> dict[str, str]:
    """{dimension | group | 'overall': level} as stated in `text` (see `read_ratings`)."""
    return read_ratings(text).levels


def level_agreement(answer: dict[str, str], reference: dict[str, str]) -> dict[str, float]:
    """Exact-match rate and closeness (1 - |rank gap| / 4) over the reference's dimensions; a level the answer
    does not state scores 0 on both."""
    if not reference:
        return {"level_accuracy": 0.0, "level_closeness": 0.0}
    exact = close = 0.0
    for name, ref in reference.items():
        got = answer.get(name)
        if got is not None:
            exact += got == ref
            close += 1 - abs(level_index(got) - level_index(ref)) / 4
    return {"level_accuracy": exact / len(reference), "level_closeness": close / len(reference)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased words (longest common subsequence)."""
    a, b = _words(candidate), _words(reference)
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)
