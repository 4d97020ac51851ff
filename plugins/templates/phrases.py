"""Phrase pools for the chain-of-thought templates. Several phrasings per step, picked by the seeded rng,
so 100K justifications do not read the same. No phrase may contain a level word: level words appear only where
a rating is stated (the rating-preserving check reads them back)."""

from __future__ import annotations

from s2i_core.dimensions import BY_NAME, DIMENSIONS

OPENINGS = (
    "Let me assess the quality of this video step by step, from individual aspects to the overall impression.",
    "I will go through the quality aspects one at a time, then group them, then conclude.",
    ("To judge this video, I first look at each quality aspect, then at the technical and aesthetic sides, "
     "and finally at the whole."),
    "Let me reason from local details to the global picture.",
    "I examine the clip aspect by aspect before forming an overall view.",
    "Starting from the low-level aspects and working up to an overall verdict:",
)
# Definitions are clauses or fragments ("free of blocking, ..."), so they sit in parentheses, dashes or
# quotes, never inside a subordinate clause that would need a full sentence.
DIMENSION = (
    "{Name} ({definition}): {level}.",
    "As for {name} ({definition}), it is {level}.",
    "{Name} — {definition} — comes out {level}.",
    "Judged by the criterion \"{definition}\", {name} is {level}.",
    "I rate {name} ({definition}) as {level}.",
    "For {name}, meaning {definition}, the rating is {level}.",
    "The {name} aspect, i.e. {definition}, is {level}.",
)
GROUP_INTRO = {
    "technical": ("On the technical side (distortions from capture, editing, compression and transmission):",
                  "First, technical quality:", "Looking at technical distortions:",
                  "Technical aspects first."),
    "aesthetic": ("On the aesthetic side:", "Turning to aesthetics:", "Next, the aesthetic aspects:",
                  "As for the aesthetic qualities:"),
}
GROUP = (
    "Taken together, the {group} quality is {level}.",
    "Combining these, I rate the {group} quality as {level}.",
    "So the {group} side of this video is {level}.",
    "Summing up the {group} aspects: {level}.",
    "Overall on {group} grounds, the video is {level}.",
)
WORST = (
    "The weakest point is {name} ({level}), which holds the {group} rating back.",
    "{Name} is the main weakness here ({level}) and weighs on the {group} rating.",
    "The {group} rating is pulled down mostly by {name}, which is only {level}.",
)
OVERALL = (
    "Therefore, the overall quality of this video is {level}.",
    "Weighing the technical and aesthetic ratings, the overall quality is {level}.",
    "All things considered, this video's overall quality is {level}.",
    "In conclusion, I rate the overall quality of the video as {level}.",
    "Putting it all together, the overall quality is {level}.",
)


def name_of(dimension: str) -> str:
    return dimension.replace("_", " ")


def ordered(dimensions: dict, group: str) -> list[str]:
    """Dimensions of a group in the table's order (capture -> editing -> compression -> transmission)."""
    return [d.name for d in DIMENSIONS if d.name in dimensions and d.group == group]


def fill(pattern: str, dimension: str | None = None, **kw) -> str:
    if dimension is not None:
        kw.update(name=name_of(dimension), Name=name_of(dimension).capitalize(),
                  definition=BY_NAME[dimension].definition)
    text = pattern.format(**kw)
    return text[0].upper() + text[1:]
