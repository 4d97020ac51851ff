"""Judges: the deterministic level judge, and the LLM judge against a real local OpenAI-compatible server."""

from __future__ import annotations

import itertools
import json

import pytest
from chat_server import ChatServer
from conftest import run_s2i
from s2i_plugins.judges.levels import LevelsJudge
from s2i_plugins.judges.llm import LlmJudge, LlmJudgeConfig, parse_verdict

from s2i_core.bench import justification
from s2i_core.bench.judging import JudgeError, extract_levels, rouge_l
from s2i_core.llm import LlmError

REFERENCE = ("Sharpness (fine detail is crisp and in focus) is good; noise is poor. The colour cast is fair. "
             "The technical quality is therefore fair, the aesthetic quality is good.\n"
             "Overall, the quality of this video is fair.")
ITEM = {"id": "s2i-0000", "video": "a.mp4", "dimension": "overall", "question": "What is the overall quality?",
        "reference": REFERENCE}


def test_extract_levels_reads_dimensions_groups_and_overall():
    got = extract_levels(REFERENCE)
    assert got == {"sharpness": "good", "noise": "poor", "color_cast": "fair", "technical": "fair",
                   "aesthetic": "good", "overall": "fair"}
    # One level for two names; definitions count as names.
    assert extract_levels("Noise and motion blur are both excellent.") == {"noise": "excellent",
                                                                          "motion_blur": "excellent"}
    # A passing mention loses to the statement that rates the thing.
    text = ("On the technical side (capture, compression and transmission): sharpness is bad. "
            "Compression comes out good.")
    assert extract_levels(text) == {"technical": "bad", "sharpness": "bad", "compression": "good"}
    assert extract_levels("the camera is steady, free of shake and jitter: bad") == {"stability": "bad"}
    assert extract_levels("A lovely clip with no ratings.") == {}


@pytest.mark.parametrize("template", ["hierarchical", "flat"])
def test_extract_levels_reads_back_what_the_cot_templates_write(template):
    """The judge must read the generator's own justifications: every level, for many random level sets."""
    import random

    from s2i_core.dimensions import DIMENSIONS, LEVELS
    from s2i_core.registry import load_registry

    writer = load_registry().build("cot_template", template)
    rng = random.Random(0)
    for trial in range(30):
        dims = {d.name: {"score": 0.5, "level": rng.choice(LEVELS), "raw": 0.0, "group": d.group}
                for d in DIMENSIONS}
        groups = {g: {"score": 0.5, "level": rng.choice(LEVELS)} for g in ("technical", "aesthetic")}
        record = {"video": f"v{trial}.mp4", "dimensions": dims, "groups": groups,
                  "overall": {"score": 0.5, "level": rng.choice(LEVELS)}}
        text = writer.justify(record, random.Random(trial))
        truth = {d: v["level"] for d, v in dims.items()} | {"overall": record["overall"]["level"]}
        if template == "hierarchical":
            truth |= {g: v["level"] for g, v in groups.items()}
        got = extract_levels(text)
        assert {k: got.get(k) for k in truth} == truth, text


def test_levels_judge_rewards_agreement_and_overlap():
    judge = LevelsJudge(None)
    perfect = judge.judge(ITEM, REFERENCE)
    assert perfect == {"level_accuracy": 1.0, "level_closeness": 1.0, "overlap": pytest.approx(1.0)}
    off_by_one = judge.judge(ITEM, REFERENCE.replace("is poor", "is fair"))
    assert off_by_one["level_accuracy"] == pytest.approx(5 / 6)
    assert off_by_one["level_closeness"] == pytest.approx(1 - 0.25 / 6)
    silent = judge.judge(ITEM, "")
    assert silent == {"level_accuracy": 0.0, "level_closeness": 0.0, "overlap": 0.0}
    # Explicit reference levels take precedence over reading the reference text.
    explicit = judge.judge({**ITEM, "levels": {"overall": "bad"}}, "Overall the quality is bad.")
    assert explicit["level_accuracy"] == 1.0


def test_rouge_l():
    assert rouge_l("the cat sat", "the cat sat") == 1.0
    assert rouge_l("a b c d", "a x c y") == pytest.approx(0.5)
    assert rouge_l("", "x") == 0.0


def judge_server(fail_first: int = 0, status: int = 500, reply: str | None = None) -> ChatServer:
    """A chat server that answers the first `fail_first` requests with HTTP `status`, then with `reply`, or a
    verdict derived from the request: correctness 5 when the model answer says fair (else 1), detail 2 + seed % 2."""
    count = itertools.count(1)

    def respond(exchange) -> None:
        if exchange.path != "/v1/chat/completions":
            return exchange.json({"error": "not found"}, status=404)
        if next(count) <= fail_first:
            return exchange.json({"error": "busy"}, status=status)
        correct = 5 if "fair" in exchange.prompt.split("Model answer:")[1] else 1
        exchange.chat(reply or "Verdict: " + json.dumps(
            {"correctness": correct, "context": 4, "detail": 2 + exchange.body["seed"] % 2, "temporal": 5}))

    return ChatServer(respond)


@pytest.fixture
def server():
    with judge_server() as srv:
        yield srv


def test_llm_judge_sends_prompt_model_and_seed(server, monkeypatch):
    monkeypatch.setenv("S2I_TEST_KEY", "sekrit")
    judge = LlmJudge(LlmJudgeConfig(base_url=server.url, model="judge-7b", api_key_env="S2I_TEST_KEY"))
    scores = judge.judge(ITEM, "Overall it is fair.", seed=7)
    assert scores == {"correctness": 5.0, "context": 4.0, "detail": 3.0, "temporal": 5.0}
    body = server.requests[0].body
    assert body["model"] == "judge-7b" and body["seed"] == 7 and body["temperature"] == 0.0
    user = body["messages"][-1]["content"]
    assert ITEM["question"] in user and REFERENCE in user and "Overall it is fair." in user
    assert server.requests[0].headers["Authorization"] == "Bearer sekrit"
    described = judge.describe()
    assert described["model"] == "judge-7b" and "correctness" in described["prompt"]
    assert judge.judge(ITEM, "It is excellent.")["correctness"] == 1.0


def test_llm_judge_retries_server_errors_but_not_client_errors():
    srv = judge_server(fail_first=2, status=503)
    try:
        judge = LlmJudge(LlmJudgeConfig(base_url=srv.url, model="m", retries=2, backoff_s=0.01))
        assert judge.judge(ITEM, "fair")["context"] == 4.0
        assert len(srv.requests) == 3
    finally:
        srv.close()
    srv = judge_server(fail_first=5, status=400)
    try:
        with pytest.raises(LlmError, match="HTTP 400") as failure:
            LlmJudge(LlmJudgeConfig(base_url=srv.url, model="m", retries=3, backoff_s=0.01)).judge(ITEM, "fair")
        assert len(srv.requests) == 1 and failure.value.kind == "http_400"
    finally:
        srv.close()


def test_llm_judge_rejects_malformed_verdicts_and_missing_model():
    with pytest.raises(JudgeError, match="correctness, context, detail, temporal"):
        parse_verdict('{"correctness": 3}')
    with pytest.raises(JudgeError, match="non-numeric"):
        parse_verdict('{"correctness": "high", "context": 1, "detail": 1, "temporal": 1}')
    # a score off the 0-5 scale is refused, not clamped into a plausible one
    for bad in ("9", "-1", "NaN", "Infinity"):
        with pytest.raises(JudgeError, match="correctness outside 0-5"):
            parse_verdict(f'{{"correctness": {bad}, "context": 1, "detail": 1, "temporal": 1}}')
    with pytest.raises(JudgeError, match="non-numeric"):
        parse_verdict('{"correctness": true, "context": 1, "detail": 1, "temporal": 1}')
    with pytest.raises(JudgeError, match="judge.model"):
        LlmJudge(LlmJudgeConfig())
    srv = judge_server(reply="I think it is fine")
    try:
        with pytest.raises(JudgeError, match="not a JSON object"):
            LlmJudge(LlmJudgeConfig(base_url=srv.url, model="m")).judge(ITEM, "fair")
    finally:
        srv.close()


def test_repeated_judging_reports_mean_and_spread(server, tmp_path):
    items = [ITEM, {**ITEM, "id": "s2i-0001", "dimension": "noise"}]
    answers = {"s2i-0000": "Overall it is fair."}  # s2i-0001 unanswered: judged as empty, counted
    judge = LlmJudge(LlmJudgeConfig(base_url=server.url, model="m"))
    summary = justification.run(items, answers, judge, repeats=4, seed=0, out=tmp_path)
    assert summary["questions"] == 2 and summary["unanswered"] == 1 and summary["failed"] == 0
    assert summary["axes"]["correctness"]["mean"] == pytest.approx(3.0)  # (5 + 1) / 2
    assert summary["axes"]["correctness"]["std"] == 0.0
    assert summary["axes"]["detail"]["per_repeat"] == [2.0, 3.0, 2.0, 3.0]  # seeds 0..3 reach the judge
    assert summary["axes"]["detail"]["std"] == pytest.approx(0.5)
    assert summary["judge"]["model"] == "m"
    assert len((tmp_path / "judgements.jsonl").read_text().splitlines()) == 8
    assert sorted(r.body["seed"] for r in server.requests) == [0, 0, 1, 1, 2, 2, 3, 3]


def test_bench_justification_command_with_llm_judge(server, tmp_path):
    bench = tmp_path / "bench.jsonl"
    bench.write_text(json.dumps(ITEM) + "\n")
    answers = tmp_path / "answers.jsonl"
    answers.write_text(json.dumps({"id": "s2i-0000", "answer": "Overall the video is fair."}) + "\n")
    out = tmp_path / "out"
    proc = run_s2i("bench", "task=justification", f"bench_file={bench}", f"answers={answers}", "judge=llm",
                   "judge.model=tiny-judge", f"judge.base_url={server.url}", "repeats=2", f"output={out}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "justification.json").read_text())
    assert result["judge"]["model"] == "tiny-judge" and result["repeats"] == 2
    assert result["axes"]["correctness"]["mean"] == 5.0
    assert "correctness" in proc.stdout


def test_llm_judge_never_sends_the_key_to_another_server(monkeypatch):
    monkeypatch.setenv("S2I_TEST_KEY", "sekrit")
    with ChatServer(lambda ex: ex.chat('{"correctness": 5, "context": 5, "detail": 5, "temporal": 5}')) as other:
        with ChatServer(lambda ex: ex.redirect(other.url + "/chat/completions", status=302)) as first:
            judge = LlmJudge(LlmJudgeConfig(base_url=first.url, model="m", api_key_env="S2I_TEST_KEY"))
            with pytest.raises(LlmError) as failure:
                judge.judge(ITEM, "fair")
        assert failure.value.kind == "redirect" and other.requests == []
