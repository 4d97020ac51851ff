"""The rating-preserving check compares ratings, not words: swaps, negations, drops and additions are rejected.

Rewrites come from the `llm` rewriter talking to a real local HTTP server that plays the rewriter LLM.
"""

from __future__ import annotations

import random

import pytest
from chat_server import ChatServer

from s2i_core.dimensions import DIMENSIONS, GROUPS, LEVELS
from s2i_core.registry import load_registry
from s2i_core.sig.rewrite import level_words, rating_problems, record_levels, rewrite_all

# A record rated like the reported counter-example: noise bad, compression excellent.
LEVELS_OF = {"sharpness": "good", "noise": "bad", "compression": "excellent", "colorfulness": "fair",
             "technical": "poor", "aesthetic": "fair", "overall": "poor"}
FAITHFUL = ("Going aspect by aspect: the sharpness of this clip is good, fine detail staying crisp. Noise is bad, "
            "with heavy grain everywhere. Compression is excellent, free of blocking. The technical quality is "
            "therefore poor. Colorfulness is fair. The aesthetic quality is fair. Overall, the quality of this "
            "video is poor.")
REWRITES = {  # what a careless LLM returns -> the problem the check must name
    "faithful": (FAITHFUL, None),
    "swap": (FAITHFUL.replace("Noise is bad", "Noise is excellent").replace("Compression is excellent",
                                                                            "Compression is bad"),
             "noise is rated excellent, the record says bad"),
    "negation": (FAITHFUL.replace("Noise is bad", "Noise is not bad"), "noise (bad) is not rated"),
    "contraction": (FAITHFUL.replace("Noise is bad", "Noise isn't bad"), "noise (bad) is not rated"),
    "by-no-means": (FAITHFUL.replace("Compression is excellent", "Compression is by no means excellent"),
                    "compression (excellent) is not rated"),
    "dropped-dimension": (FAITHFUL.replace(" Noise is bad, with heavy grain everywhere.", ""),
                          "noise (bad) is not rated"),
    "dropped-overall": (FAITHFUL.replace(" Overall, the quality of this video is poor.", ""),
                        "overall (poor) is not rated"),
    "group-changed": (FAITHFUL.replace("quality is therefore poor", "quality is therefore fair"),
                      "technical is rated fair, the record says poor"),
    "added-rating": (FAITHFUL + " The lighting is good.",
                     "lighting is rated good, but the record does not rate it"),
    "contradiction": (FAITHFUL + " Noise, to be honest, is poor.",
                      "noise is also called poor, the record says bad"),
    "stray-level": (FAITHFUL + " A good watch.", "'good' rates no named aspect"),
}


def record(levels: dict[str, str]) -> dict:
    return {"video": "v.mp4",
            "dimensions": {d.name: {"score": 0.5, "level": levels[d.name], "raw": 0.5, "group": d.group}
                           for d in DIMENSIONS if d.name in levels},
            "groups": {g: {"score": 0.5, "level": levels[g]} for g in GROUPS if g in levels},
            "overall": {"score": 0.5, "level": levels["overall"]}}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def scripted_rewriter(registry, replies: dict[str, str], **options):
    """A ChatServer answering each template text with its scripted rewrite; returns (server, rewriter node)."""
    def respond(ex):
        text = ex.prompt.split("\n\n", 1)[1]
        ex.chat(replies[text])

    server = ChatServer(respond)
    return server, {"impl": "llm", "endpoint": server.url, "concurrency": 2, **options}


def test_the_llm_rewriter_keeps_only_the_rewrite_that_states_the_records_ratings(registry, tmp_path):
    rec = record(LEVELS_OF)
    assert record_levels(rec) == LEVELS_OF
    template = registry.build("cot_template", "hierarchical")
    texts = {name: template.justify(rec, random.Random(i)) for i, name in enumerate(REWRITES)}
    assert len(set(texts.values())) == len(REWRITES)  # one distinct template text per scripted reply
    items = [(f"{name}.mp4", texts[name], f"0:{name}", LEVELS_OF) for name in REWRITES]
    server, node = scripted_rewriter(registry, {texts[name]: reply for name, (reply, _) in REWRITES.items()})
    with server:
        out, stats = rewrite_all(registry.build("rewriter", node), items, tmp_path / "rewrites.jsonl", node)
    assert stats["accepted"] == 1 and stats["rejected"] == len(REWRITES) - 1 and stats["failed"] == 0
    for name, (reply, problem) in REWRITES.items():
        if problem is None:
            assert out[f"{name}.mp4"] == reply
            assert rating_problems(LEVELS_OF, texts[name], reply) == []
        else:
            assert out[f"{name}.mp4"] == texts[name], name  # the template text is kept
            assert problem in rating_problems(LEVELS_OF, texts[name], reply), name
    swap = rating_problems(LEVELS_OF, texts["swap"], REWRITES["swap"][0])
    assert "compression is rated bad, the record says excellent" in swap


def test_swapping_two_ratings_of_the_template_text_is_rejected_though_every_word_is_kept(registry, tmp_path):
    """The reported case: the same level words, the same number of times, on the wrong dimensions (6 of 6 were
    accepted when the check counted words)."""
    full = {d.name: "good" for d in DIMENSIONS} | {"noise": "bad", "compression": "excellent",
                                                   "technical": "poor", "aesthetic": "good", "overall": "fair"}
    rec = record(full)
    swapped = record(full | {"noise": "excellent", "compression": "bad"})
    template = registry.build("cot_template", {"impl": "hierarchical", "name_worst": False})
    items, replies = [], {}
    for i in range(6):
        text = template.justify(rec, random.Random(i))
        replies[text] = template.justify(swapped, random.Random(i))  # same phrasing, ratings swapped
        assert level_words(replies[text]) == level_words(text) and replies[text] != text
        items.append((f"v{i}.mp4", text, f"0:v{i}", full))
    server, node = scripted_rewriter(registry, replies)
    with server:
        out, stats = rewrite_all(registry.build("rewriter", node), items, tmp_path / "rewrites.jsonl", node)
    assert stats["rejected"] == 6 and stats["accepted"] == 0
    assert all(out[video] == text for video, text, _, _ in items)


@pytest.mark.parametrize("template", ["hierarchical", "flat"])
def test_the_check_accepts_every_text_our_templates_and_the_template_rewriter_write(registry, template):
    """No false rejections of our own texts: random levels, random scorer subsets, many phrasings."""
    writer, paraphrase = registry.build("cot_template", template), registry.build("rewriter", "template")
    rng = random.Random(0)
    for trial in range(60):
        dims = rng.sample([d.name for d in DIMENSIONS], rng.randint(1, len(DIMENSIONS)))
        groups = {next(d.group for d in DIMENSIONS if d.name == name) for name in dims}
        levels = {d: rng.choice(LEVELS) for d in dims} | {g: rng.choice(LEVELS) for g in groups}
        rec = record(levels | {"overall": rng.choice(LEVELS)})
        text = writer.justify(rec, random.Random(trial))
        assert rating_problems(record_levels(rec), text, text) == [], text
        varied = paraphrase.rewrite(text, random.Random(trial))
        assert rating_problems(record_levels(rec), text, varied) == [], varied


def test_the_levels_judge_does_not_read_a_negated_level():
    from s2i_core.bench.judging import extract_levels, read_ratings

    assert extract_levels("Noise is not bad.") == {}
    assert extract_levels("Noise is good rather than bad.") == {"noise": "good"}
    assert extract_levels("Noise isn't bad; compression is excellent.") == {"compression": "excellent"}
    # a definition's own "no" ("no stutter, dropped or frozen frames") is not a negated rating
    assert extract_levels("Fluency (motion flows smoothly, no stutter, dropped or frozen frames): good.") == {
        "fluency": "good"}
    assert read_ratings("It is good.").unattached == ("good",)
