"""Whole runs against a real local LLM server that fails in every way: `s2i generate rewriter=llm` and the
justification benchmark's `llm` judge finish, count each failure, and give identical files run after run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from chat_server import ChatServer
from conftest import S2I, make_video, run_s2i

from s2i_core.dimensions import LEVELS

ROTATE = dict(zip(LEVELS, LEVELS[1:] + LEVELS[:1]))


def faithful(text: str) -> str:
    return text.replace("this video", "this clip")


def every_rating_moved(text: str) -> str:
    for level in LEVELS:
        text = text.replace(f" {level}", f" {level.upper()}")
    for level in LEVELS:
        text = text.replace(f" {level.upper()}", f" {ROTATE[level]}")
    return text


def broken_server(answers: list, port: int = 0) -> ChatServer:
    """The n-th distinct prompt gets answers[n % len(answers)]; retries of one prompt see `attempt` grow. With
    one request at a time the order is the items' order, so a fresh server fails the same way every run."""
    order: dict[str, int] = {}

    def respond(ex):
        answers[order.setdefault(ex.prompt, len(order)) % len(answers)](ex)

    return ChatServer(respond, port)


REWRITER_ANSWERS = [
    lambda ex: ex.chat(faithful(ex.prompt.split("\n\n", 1)[1])),  # accepted
    lambda ex: (ex.json({"error": "busy"}, status=500) if ex.attempt == 0
                else ex.chat(faithful(ex.prompt.split("\n\n", 1)[1]))),  # accepted after one retry
    lambda ex: ex.json({"error": "down"}, status=500),  # failed: http_500
    lambda ex: ex.json([]),  # failed: bad_reply
    lambda ex: ex.chat(None),  # failed: bad_reply
    lambda ex: ex.raw(b'{"choices": [{"message": {"content": "\xff noise"}}]}'),  # failed: bad_reply
    lambda ex: ex.truncated(),  # failed: transport
    lambda ex: ex.trickle(interval_s=0.3),  # failed: timeout
    lambda ex: ex.huge(),  # failed: too_large
    lambda ex: ex.chat(every_rating_moved(ex.prompt.split("\n\n", 1)[1])),  # rejected
]
EXPECTED_REWRITES = {"accepted": 2, "rejected": 1, "failed": 7, "unchecked": 0,
                     "failed_by_kind": {"bad_reply": 3, "http_500": 1, "timeout": 1, "too_large": 1,
                                        "transport": 1}}
FILES = ("records.jsonl", "errors.jsonl", "instructions/stage1.jsonl", "instructions/stage2.jsonl", "report.html")


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for i in range(len(REWRITER_ANSWERS)):
        make_video(root / f"v{i}.mp4", source="testsrc2", size="128x96", rate=20, seconds=0.5,
                   vf=f"noise=alls={6 * i}:allf=t")
    return root


def generate(videos: Path, out: Path, url: str) -> subprocess.CompletedProcess:
    return run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[noise,sharpness]",
                   "executor.workers=0", "progress=false", "rewriter=llm", f"rewriter.endpoint={url}", "rewriter.concurrency=1",
                   "rewriter.timeout_s=2", "rewriter.retries=1", "rewriter.backoff_s=0.01",
                   "rewriter.max_reply_bytes=100000", timeout=300)


def test_generate_with_a_broken_rewriter_server_finishes_counts_and_reruns_identically(videos, tmp_path):
    runs, port = [], 0
    for name in ("first", "second"):  # two fresh runs, each against a fresh server that fails the same way
        with broken_server(REWRITER_ANSWERS, port) as server:
            port = server.port  # one URL for every server of this test: the URL is part of what was asked
            start = time.monotonic()
            proc = generate(videos, tmp_path / name, server.url)
            elapsed = time.monotonic() - start
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["rewrites"] == EXPECTED_REWRITES
        assert len(server.requests) == 2 + 2 + 1 + 1 + 1 + 2 + 2 + 1 + 1 + 1  # 5xx, truncated, timeout retried
        assert elapsed < 120  # the trickle was cut at its 2 s deadline, twice, not held for minutes
        runs.append(tmp_path / name)
    for name in FILES:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    records = [json.loads(line) for line in (runs[0] / "records.jsonl").read_text().splitlines()]
    assert sum("this clip" in r["justification"] for r in records) == 2
    assert max(len(r["justification"]) for r in records) < 5000  # the 20 MB reply went nowhere

    # a rerun in the same folder, now against a healthy server: every reply and failure was journaled,
    # so nothing is asked again and the files stay byte-identical
    before = {name: (runs[0] / name).read_bytes() for name in FILES}
    with ChatServer(lambda ex: ex.chat(faithful(ex.prompt.split("\n\n", 1)[1])), port) as healthy:
        proc = generate(videos, runs[0], healthy.url)
        assert proc.returncode == 0, proc.stderr
        assert healthy.requests == []
    assert {name: (runs[0] / name).read_bytes() for name in FILES} == before

    # asked to, a rerun retries what failed (only that) and now gets it
    with ChatServer(lambda ex: ex.chat(faithful(ex.prompt.split("\n\n", 1)[1])), port) as healthy:
        proc = run_s2i("generate", f"input={videos}", f"output={runs[0]}", "scorers=[noise,sharpness]",
                       "executor.workers=0", "progress=false", "rewriter=llm", f"rewriter.endpoint={healthy.url}",
                       "rewriter.concurrency=1", "rewriter.retry_failed=true", timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert len(healthy.requests) == EXPECTED_REWRITES["failed"]
    rewrites = json.loads((runs[0] / "manifest.json").read_text())["rewrites"]
    assert rewrites["accepted"] == 2 + 7 and rewrites["failed"] == 0 and rewrites["rejected"] == 1


# --- the justification benchmark's LLM judge ---

def verdict(score: int) -> str:
    return json.dumps({"correctness": score, "context": 4, "detail": 3, "temporal": 2})


JUDGE_ANSWERS = [
    lambda ex: ex.chat(verdict(5)),
    lambda ex: ex.json({"error": "busy"}, status=503) if ex.attempt == 0 else ex.chat(verdict(4)),
    lambda ex: ex.json({"error": "down"}, status=500),
    lambda ex: ex.json([]),
    lambda ex: ex.chat(None),
    lambda ex: ex.truncated(),
    lambda ex: ex.trickle(interval_s=0.3),
    lambda ex: ex.huge(),
    lambda ex: ex.chat("I would say it is decent."),  # no verdict
    lambda ex: ex.chat(verdict(9)),  # off the scale: refused, not clamped
]


def bench_files(tmp_path: Path, n: int) -> tuple[Path, Path]:
    items = [{"id": f"q{i}", "video": f"v{i}.mp4", "dimension": "overall", "question": f"How good is video {i}?",
              "reference": f"Overall, the quality of video {i} is fair."} for i in range(n)]
    bench, answers = tmp_path / "bench.jsonl", tmp_path / "answers.jsonl"
    bench.write_text("".join(json.dumps(i) + "\n" for i in items))
    answers.write_text("".join(json.dumps({"id": i["id"], "answer": f"It is fair ({i['id']})."}) + "\n"
                               for i in items))
    return bench, answers


def judge_args(bench: Path, answers: Path, out: Path, url: str, timeout_s: float = 2) -> list[str]:
    return ["bench", "task=justification", f"bench_file={bench}", f"answers={answers}", "judge=llm",
            "judge.model=tiny-judge", f"judge.base_url={url}", f"judge.timeout_s={timeout_s}", "judge.retries=1",
            "judge.backoff_s=0.01", "judge.max_reply_bytes=100000", "repeats=1", f"output={out}"]


JUDGE_FILES = ("judgements.jsonl", "judge_failures.jsonl")


def test_llm_judge_against_a_broken_server_finishes_counts_and_reruns_identically(tmp_path):
    bench, answers = bench_files(tmp_path, len(JUDGE_ANSWERS))
    outs, port = [], 0
    for name in ("first", "second"):
        with broken_server(JUDGE_ANSWERS, port) as server:
            port = server.port
            proc = run_s2i(*judge_args(bench, answers, tmp_path / name, server.url))
        assert proc.returncode == 1, proc.stderr  # finished, some items failed
        assert "Traceback" not in proc.stderr
        summary = json.loads((tmp_path / name / "justification.json").read_text())
        assert summary["failed"] == 8
        assert summary["failed_by_kind"] == {"bad_reply": 2, "bad_verdict": 2, "http_500": 1, "timeout": 1,
                                             "too_large": 1, "transport": 1}
        assert summary["axes"]["correctness"]["mean"] == 4.5  # (5 + 4) / 2: the failures are left out
        outs.append(tmp_path / name)
    for name in (*JUDGE_FILES, "justification.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    with ChatServer(lambda ex: ex.chat(verdict(1)), port) as healthy:  # a rerun asks nothing: all was journaled
        proc = run_s2i(*judge_args(bench, answers, outs[0], healthy.url))
        assert proc.returncode == 1 and healthy.requests == []
    for name in (*JUDGE_FILES, "justification.json"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_a_killed_judge_run_resumes_where_it_stopped(tmp_path):
    n = 12
    bench, answers = bench_files(tmp_path, n)
    score = {f"How good is video {i}?": i % 6 for i in range(n)}

    def judged(ex):
        ex.chat(verdict(score[ex.prompt.split("\n\n")[0].removeprefix("Question about the video: ")]))

    with ChatServer(judged) as server:
        port = server.port
        ref = run_s2i(*judge_args(bench, answers, tmp_path / "ref", server.url))
        assert ref.returncode == 0, ref.stderr

    def stalls_after_five(ex):  # answers five questions, then hangs until the run is killed
        if len(server.requests) > 5:
            time.sleep(60)
        judged(ex)

    out = tmp_path / "killed"
    with ChatServer(stalls_after_five, port) as server:
        proc = subprocess.Popen([S2I, *judge_args(bench, answers, out, server.url, timeout_s=120)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        journal = out / ".s2i" / "judgements.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (journal.exists() and journal.read_bytes().count(b"\n") >= 5):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(journal.read_bytes().splitlines()) == 5  # each verdict was on disk as it came
    assert not (out / "judgements.jsonl").exists()
    with ChatServer(judged, port) as server:
        proc = run_s2i(*judge_args(bench, answers, out, server.url))
        assert proc.returncode == 0, proc.stderr
        assert len(server.requests) == n - 5  # only what the killed run had not finished
    for name in (*JUDGE_FILES, "justification.json"):
        assert (out / name).read_bytes() == (tmp_path / "ref" / name).read_bytes(), name
