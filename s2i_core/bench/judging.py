"""Model-free reading of quality answers: which level a text gives each dimension, and text overlap.

Used by the deterministic `levels` judge and by S2I-Bench building (reference levels). A clause ("...;", "...."
or a line) that names a dimension and holds a level word gives that dimension that level; "overall" and the
group names are read the same way.
"""

from __future__ import annotations

import re

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
    OVERALL: ("overall", "in total", "all in all"),
    "technical": ("technical quality", "technical"),
    "aesthetic": ("aesthetic quality", "aesthetics", "aesthetic"),
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


def extract_levels(text: str) -> dict[str, str]:
    """{dimension | group | 'overall': level} as stated in `text`; the first statement of each one wins."""
    found: dict[str, str] = {}
    for clause in _CLAUSE_RE.split(text.lower()):
        names = [(m.start(), _ALIAS_NAME[m.group(0)]) for m in _ALIAS_RE.finditer(clause)]
        levels = [(m.start(), m.group(1)) for m in _LEVEL_RE.finditer(clause)]
        if not names or not levels:
            continue
        for pos, name in names:
            if name in found:
                continue
            # One level in the clause applies to every name in it ("noise and sharpness are good");
            # several levels pair with the nearest one after the name, else the last before it.
            after = [lvl for p, lvl in levels if p > pos]
            found[name] = levels[0][1] if len(levels) == 1 else (after[0] if after else levels[-1][1])
    return found


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
