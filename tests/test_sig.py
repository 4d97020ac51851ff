"""SIG building blocks: level mappers, aggregation, templates, QA, rewriters (real local HTTP server), journal."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from chat_server import ChatServer
from s2i_plugins.templates import phrases

from s2i_core.dimensions import BY_NAME, DIMENSIONS, LEVELS
from s2i_core.registry import load_registry
from s2i_core.sig import select
from s2i_core.errors import ConfigError
from s2i_core.sig.io import Journal, read_jsonl
from s2i_core.sig.aggregation import Aggregation
from s2i_core.sig.records import Rating, Record, validate_record
from s2i_core.sig.rewrite import level_words, rewrite_all


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def make_record(scores: dict[str, float], mapper, agg: Aggregation | None = None, video="v.mp4") -> dict:
    agg = agg or Aggregation()
    groups = agg.group_scores(scores)
    overall = agg.overall_score(groups)
    return {"video": video, "meta": {"width": 1, "height": 1, "fps": 1.0, "frames": 1, "duration_s": 1.0},
            "dimensions": {d: {"score": s, "level": mapper.level(d, s), "raw": s, "group": BY_NAME[d].group}
                           for d, s in scores.items()},
            "groups": {g: {"score": s, "level": mapper.level(g, s)} for g, s in groups.items()},
            "overall": {"score": overall, "level": mapper.level("overall", overall)},
            "justification": "x", "qa": []}


def test_equal_width_bins(registry):
    m = registry.build("level_mapper", "equal_width")
    assert [m.level("noise", s) for s in (0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0)] == \
        ["bad", "bad", "poor", "fair", "good", "excellent", "excellent"]


def test_quantile_mapper_puts_a_fifth_of_the_videos_in_each_level(registry):
    m = registry.build("level_mapper", {"impl": "quantile"})
    scores = [random.Random(i).random() * 0.3 for i in range(100)]  # all would be bad/poor with equal width
    m.fit({"noise": scores})
    counts = {lv: sum(m.level("noise", s) == lv for s in scores) for lv in LEVELS}
    assert counts == dict.fromkeys(LEVELS, 20)


def test_calibrated_mapper_reads_thresholds_from_a_manifest(registry, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"level_mapper": {"thresholds": {"*": [0.2, 0.4, 0.6, 0.8], "noise": [0.1, 0.2, 0.3, 0.4]}}}))
    m = registry.build("level_mapper", {"impl": "calibrated", "from_file": str(tmp_path / "manifest.json")})
    assert m.level("noise", 0.35) == "good" and m.level("sharpness", 0.35) == "poor"
    with pytest.raises(Exception, match="4 increasing cut points"):
        registry.build("level_mapper", {"impl": "calibrated", "thresholds": {"noise": [0.5, 0.2, 0.3, 0.4]}})


def test_worst_technical_defect_pulls_the_overall_rating_down(registry):
    m = registry.build("level_mapper", "equal_width")
    fine = {d.name: 0.95 for d in DIMENSIONS}
    one_defect = {**fine, "compression": 0.05}
    assert make_record(fine, m)["overall"]["level"] == "excellent"
    pulled = make_record(one_defect, m)
    # one strong defect reaches the technical group and the overall almost in full (Minkowski pooling) ...
    assert pulled["groups"]["technical"]["level"] in ("bad", "poor")
    assert pulled["overall"]["level"] in ("bad", "poor")
    # ... while an excellent content-driven aesthetic group cannot lift it, and a poor one only nudges a sound video
    dull = {**fine, "colorfulness": 0.1, "lighting": 0.1, "composition": 0.1}
    assert make_record(dull, m)["overall"]["level"] in ("good", "excellent")
    # a lower exponent (closer to a sum of impairments over a mean) pulls less than the worst-case limit
    milder = make_record(one_defect, m, Aggregation(exponent=1.0))
    many = {**fine, **{d: 0.6 for d in ("noise", "sharpness", "contrast", "flicker")}}
    assert make_record(many, m)["overall"]["score"] < make_record({**fine, "noise": 0.6}, m)["overall"]["score"]
    assert milder["overall"]["score"] <= pulled["overall"]["score"] + 1e-9


def test_any_subset_of_dimensions_gives_a_valid_record_and_groups_only_when_scored(registry):
    m = registry.build("level_mapper", "equal_width")
    rec = make_record({"colorfulness": 0.7}, m)
    assert set(rec["groups"]) == {"aesthetic"} and validate_record(rec) == []
    assert validate_record({**rec, "overall": {"score": 1.5, "level": "great"}}) != []


def test_record_view_walks_dimensions_then_groups_then_overall_and_names_a_missing_rating(registry):
    m = registry.build("level_mapper", "equal_width")
    row = make_record({"noise": 0.1, "colorfulness": 0.7}, m)
    ratings = list(Record(row).ratings())
    assert [(r.key, r.kind) for r in ratings] == [("noise", "dimension"), ("colorfulness", "dimension"),
                                                 *((g, "group") for g in row["groups"]), ("overall", "overall")]
    assert ratings[0] == Rating("noise", "dimension", 0.1, "bad")
    assert Record(row).rating("overall").score == row["overall"]["score"]
    assert Record(row).rating("sharpness") is None
    assert Record(row).levels()["colorfulness"] == "good"


def test_phrase_pools_never_contain_a_level_word():
    pools = [phrases.OPENINGS, phrases.DIMENSION, phrases.GROUP, phrases.WORST, phrases.OVERALL,
             *phrases.GROUP_INTRO.values()]
    assert not any(level_words(p.replace("{level}", "")) for pool in pools for p in pool)
    assert not any(level_words(d.definition) for d in DIMENSIONS)


def test_hierarchical_justification_walks_dimensions_groups_overall(registry):
    m = registry.build("level_mapper", "equal_width")
    rec = make_record({**{d.name: 0.9 for d in DIMENSIONS}, "noise": 0.1}, m)
    template = registry.build("cot_template", "hierarchical")
    text = template.justify(rec, random.Random(0))
    for d in DIMENSIONS:
        assert d.definition in text
    assert "technical quality" in text or "technical rating" in text or "technical side" in text
    assert "noise" in text.split("\n\n")[1]  # the worst technical defect is named in the technical paragraph
    assert text.rstrip(".").endswith(rec["overall"]["level"])
    counted = level_words(text)
    assert sum(counted.values()) == len(rec["dimensions"]) + len(rec["groups"]) + 1 + 1  # + worst named
    texts = {template.justify(rec, random.Random(seed)) for seed in range(20)}
    assert len(texts) >= 15  # many phrasings
    flat = registry.build("cot_template", "flat").justify(rec, random.Random(0))
    assert sum(level_words(flat).values()) == len(rec["dimensions"]) + 1


def test_qa_answers_agree_with_the_record_and_yes_no_is_balanced(registry):
    m = registry.build("level_mapper", "equal_width")
    yes = no = 0
    for i in range(50):
        rng = random.Random(i)
        rec = make_record({d.name: rng.random() for d in DIMENSIONS}, m, video=f"{i}.mp4")
        levels = {**{k: v["level"] for k, v in rec["dimensions"].items()},
                  **{k: v["level"] for k, v in rec["groups"].items()}, "overall": rec["overall"]["level"]}
        for name in ("what_how", "yes_no", "multiple_choice"):
            for qa in registry.build("expander", {"impl": name}).expand(rec, random.Random(i)):
                truth = levels[qa["key"]]
                if name == "yes_no":
                    asked = qa["question"].rstrip("?").split()[-1]
                    assert qa["answer"].startswith("Yes" if asked == truth else "No")
                    yes += qa["answer"].startswith("Yes")
                    no += qa["answer"].startswith("No")
                elif name == "multiple_choice":
                    letter = qa["answer"][0]
                    assert f"{letter}. {truth}" in qa["question"] and qa["answer"].endswith(truth)
                else:
                    assert f" is {truth}" in qa["answer"]
    assert yes == no == 50


def test_always_overall_asks_every_video_for_its_overall_rating_once(registry):
    m = registry.build("level_mapper", "equal_width")
    plain = registry.build("expander", {"impl": "what_how"})
    rating = registry.build("expander", {"impl": "what_how", "always_overall": True})
    asked = 0
    for i in range(30):
        rec = make_record({d.name: random.Random(i).random() for d in DIMENSIONS}, m, video=f"{i}.mp4")
        sampled = plain.expand(rec, random.Random(i))
        pairs = rating.expand(rec, random.Random(i))
        keys = [qa["key"] for qa in pairs]
        assert keys.count("overall") == 1
        assert set(keys) - {"overall"} == {qa["key"] for qa in sampled} - {"overall"}
        overall = next(qa for qa in pairs if qa["key"] == "overall")
        assert overall["answer"] == f"The overall quality of this video is {rec['overall']['level']}."
        asked += "overall" in [qa["key"] for qa in sampled]
    assert asked < 30  # without the option most videos are never asked


def _rephrase(exchange) -> None:
    """Rephrases the text after the instruction, and changes one rating where the text asks for it."""
    body = exchange.body
    assert exchange.path == "/v1/chat/completions" and body["messages"][0]["role"] == "user"
    text = body["messages"][0]["content"].split("\n\n", 1)[1]
    reply = text.replace("The overall quality", "The quality of the footage overall")
    exchange.chat(reply.replace("good", "excellent", 1) if "CHANGE" in text else reply)


@pytest.fixture
def chat_server():
    with ChatServer(_rephrase) as server:
        yield server


def test_llm_rewriter_rejects_rewrites_that_change_a_level(registry, chat_server, tmp_path):
    levels = {"noise": "poor", "overall": "good"}
    items = [(f"v{i}.mp4", f"The overall quality is good. Noise: poor.{' CHANGE' if i % 3 == 0 else ''}",
              f"0:v{i}", levels) for i in range(9)]
    node = {"impl": "llm", "endpoint": chat_server.url, "concurrency": 3}
    rewriter = registry.build("rewriter", node)
    texts, stats = rewrite_all(rewriter, items, tmp_path / "rewrites.jsonl", node)
    assert stats["rejected"] == 3 and stats["accepted"] == 6
    for video, original, _, _ in items:
        expected = original if "CHANGE" in original else original.replace(
            "The overall quality", "The quality of the footage overall")
        assert texts[video] == expected
    # replies are journaled: a rerun asks the server nothing and gives the same texts, also with other transport
    # options (how replies are fetched is not what was asked)
    calls = len(chat_server.requests)
    again, _ = rewrite_all(registry.build("rewriter", node), items, tmp_path / "rewrites.jsonl", node)
    assert again == texts and len(chat_server.requests) == calls
    fetched_otherwise = {**node, "concurrency": 1, "retries": 0, "timeout_s": 5}
    again, _ = rewrite_all(registry.build("rewriter", fetched_otherwise), items, tmp_path / "rewrites.jsonl",
                           fetched_otherwise)
    assert again == texts and len(chat_server.requests) == calls
    # the ablation without the rating-preserving check keeps the changed ratings
    unchecked = {**node, "preserve_check": False}
    texts_off, stats_off = rewrite_all(registry.build("rewriter", unchecked), items, tmp_path / "off.jsonl",
                                       unchecked)
    assert stats_off["unchecked"] == 9 and sum("excellent" in t for t in texts_off.values()) == 3


def test_llm_rewriter_keeps_template_text_when_the_server_is_down(registry, tmp_path):
    node = {"impl": "llm", "endpoint": "http://127.0.0.1:9/v1", "timeout_s": 2, "concurrency": 1}
    node = {**node, "retries": 1, "backoff_s": 0.01}
    texts, stats = rewrite_all(registry.build("rewriter", node),
                               [("a.mp4", "Noise: good.", "0:a", {"noise": "good"})], tmp_path / "r.jsonl", node)
    assert texts == {"a.mp4": "Noise: good."} and stats["failed"] == 1
    assert stats["failed_by_kind"] == {"transport": 1}


def test_journal_drops_a_torn_last_line_and_duplicates(tmp_path):
    path = tmp_path / "scores.jsonl"
    with Journal(path) as j:
        j.append({"video": "a", "n": 1})
        j.append({"video": "b", "n": 2})
        j.append({"video": "a", "n": 3})
    with open(path, "ab") as fh:
        fh.write(b'{"video": "c", "n"')  # killed mid-write
    done = Journal(path).read()
    assert done == {"a": {"video": "a", "n": 3}, "b": {"video": "b", "n": 2}}  # a re-scored video: the last
    with Journal(path) as j:
        j.append({"video": "c", "n": 4})
    assert Journal(path).read()["c"]["n"] == 4


def test_read_jsonl_names_the_file_and_line_it_cannot_read(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"id": 1, "note": "a line separator \u2028 inside a string"}\n\n{"id": 2}\n{"id": 3\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"answers file '.*answers.jsonl' line 4 is not JSON"):
        read_jsonl(path, "answers file")
    path.write_text(path.read_text(encoding="utf-8").replace('{"id": 3\n', ""), encoding="utf-8")
    assert [r["id"] for r in read_jsonl(path)] == [1, 2]
    with pytest.raises(ConfigError, match="records file '.*nowhere.jsonl' does not exist"):
        read_jsonl(tmp_path / "nowhere.jsonl", "records file")


def test_balanced_pick_spreads_over_the_proxy_range():
    proxies = {f"{i}.mp4": (i / 100) ** 3 for i in range(100)}  # most videos crowd near 0
    picked = select.balanced_pick(proxies, 5)
    values = sorted(proxies[p] for p in picked)
    assert len(picked) == 5 and values[0] == 0.0 and values[-1] == proxies["99.mp4"]
    assert all(b - a > 0.1 for a, b in itertools.pairwise(values))


def test_subset_is_seeded_and_stable():
    rels = [f"{i}.mp4" for i in range(100)]
    half = select.subset(rels, 0.5, None, seed=1)
    assert len(half) == 50 and half == select.subset(list(reversed(rels)), 0.5, None, seed=1)
    assert select.subset(rels, 1.0, 7, seed=1) != select.subset(rels, 1.0, 7, seed=2)


def test_build_s2i_bench_covers_every_dimension_and_overall(registry):
    from s2i_core.sig.bench_set import build_s2i_bench

    m = registry.build("level_mapper", "equal_width")
    records = [make_record({d.name: random.Random(i * 31 + j).random() for j, d in enumerate(DIMENSIONS)}, m,
                           video=f"{i}.mp4") for i in range(40)]
    items = build_s2i_bench(records, n=400, seed=0)
    assert len(items) == 400
    assert {i["dimension"] for i in items} == {d.name for d in DIMENSIONS} | {"overall"}
    assert all(i["question"] and i["reference"] for i in items)


def test_llm_rewriter_runs_a_local_transformers_model(registry, tmp_path):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from s2i_core.lmm.tokenizer import build_tiny_tokenizer, chatml_template

    tok = build_tiny_tokenizer(["<|im_start|>", "<|im_end|>"], chatml_template("<video>"), eos="<|im_end|>")
    config = Qwen2Config(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512)
    torch.manual_seed(0)  # fixed random weights: the same (garbled) reply every run
    Qwen2ForCausalLM(config).save_pretrained(tmp_path / "tiny")
    tok.save_pretrained(tmp_path / "tiny")
    node = {"impl": "llm", "model_path": str(tmp_path / "tiny"), "max_tokens": 8, "temperature": 0.0,
            "concurrency": 1}
    items = [("a.mp4", "The noise is good.", "0:a", {"noise": "good"})]
    texts, stats = rewrite_all(registry.build("rewriter", node), items, tmp_path / "r.jsonl", node)
    # a random tiny model cannot keep the rating: its rewrite must be rejected and the template text kept
    assert stats["rejected"] == 1 and texts == {"a.mp4": "The noise is good."}


def test_template_rewriter_level_drift_is_caught_by_the_preserve_check(registry, tmp_path):
    text = "Noise: good. Sharpness: poor. Overall: fair. " * 3
    levels = {"noise": "good", "sharpness": "poor", "overall": "fair"}
    items = [(f"{i}.mp4", text, f"0:{i}", levels) for i in range(40)]
    checked = {"impl": "template", "level_drift": 0.3}
    texts, stats = rewrite_all(registry.build("rewriter", checked), items, tmp_path / "a.jsonl", checked)
    assert stats["rejected"] > 30 and all(level_words(t) == level_words(text) for t in texts.values())
    off = {**checked, "preserve_check": False}
    texts, stats = rewrite_all(registry.build("rewriter", off), items, tmp_path / "b.jsonl", off)
    assert stats["unchecked"] == 40 and sum(level_words(t) != level_words(text) for t in texts.values()) > 30


def test_sharegpt_items_place_the_question_as_each_family_template_does(tmp_path):
    from s2i_plugins.templates.writers import ShareGpt, ShareGptConfig

    record = {"video": "a/clip.mp4", "dimensions": {"noise": {"level": "good"}}, "overall": {"level": "fair"},
              "justification": "Fine.", "qa": [{"type": "yes_no", "question": "Noisy?", "answer": "No."}]}
    for newline, expected in ((False, "<video>How is the overall"), (True, "<video>\nHow is the overall")):
        out = tmp_path / str(newline)
        ShareGpt(ShareGptConfig(newline_after_video=newline)).write([record], out, {"seed": 0, "input": "/data/in"})
        items = [json.loads(line) for line in (out / "instructions/stage1.jsonl").read_text().splitlines()]
        assert items[-1]["conversations"][0]["value"].startswith(expected)
        assert all(i["videos"] == ["/data/in/a/clip.mp4"] and i["video"] == "a/clip.mp4" for i in items)
        info = json.loads((out / "instructions/dataset_info.json").read_text())
        assert all("media_dir" not in entry for entry in info.values())
