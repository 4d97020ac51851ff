"""The justification benchmark: judge free-form answers to S2I-Bench questions, several times, report spread.

Bench file: JSON lines {id, video, dimension, question, reference, levels}. Answers: JSON lines {id, answer}.
A question without an answer is judged as an empty answer (it scores what saying nothing scores) and counted
as `unanswered`; an answer the judge could not score is counted as `failed` (by kind: `http_500`, `timeout`,
`bad_reply`, `bad_verdict`, ...) and left out of the means. A slow judge (`cached = True`, the LLM one) has each
verdict and each failure journaled in `<output>/.s2i/judgements.jsonl` as it comes, so a killed run resumes
where it stopped and a rerun asks nothing again (the judge's `retry_failed=true` asks again for failures).
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from pathlib import Path

from s2i_core.errors import ConfigError, S2IError
from s2i_core.sig.io import Journal, atomic_write_text, dumps, read_jsonl


def load_answers(path: str | Path) -> dict[str, str]:
    answers = {}
    for row in read_jsonl(path, "answers file"):
        if "id" not in row or "answer" not in row:
            raise ConfigError(f"answers file {str(path)!r}: every line needs 'id' and 'answer'; got {row!r}")
        answers[str(row["id"])] = str(row["answer"])
    return answers


def answer_with_model(items: list[dict], model: str, videos: str | None, path: Path, registry, *,
                      max_new_tokens: int = 256) -> dict[str, str]:
    """Answers of a tuned LMM (greedy decoding), written to `path` so the judged text can be inspected."""
    from rich.progress import track

    from s2i_core.lmm.inference import load_scorer

    if not videos:
        raise ConfigError("answering with model= needs videos=<folder the bench's video paths are relative to>")
    missing = sorted({i["video"] for i in items if not (Path(videos) / i["video"]).is_file()})
    if missing:
        raise ConfigError(f"{len(missing)} bench video(s) not under {videos!r}, e.g. {missing[0]!r}")
    scorer = load_scorer(model, registry)
    answers = {}
    for item in track(items, description="answering", transient=True):
        text = scorer.justify([str(Path(videos) / item["video"])], question=item["question"],
                              max_new_tokens=max_new_tokens)[0]
        answers[str(item["id"])] = text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": k, "answer": v}) + "\n" for k, v in answers.items()))
    return answers


def run(items: list[dict], answers: dict[str, str], judge, *, repeats: int = 1, seed: int = 0,
        out: Path | None = None) -> dict:
    from rich.progress import track

    if repeats < 1:
        raise ConfigError(f"repeats must be at least 1, got {repeats}")
    rows, failed = [], []
    per_repeat: list[dict[str, list[float]]] = [{} for _ in range(repeats)]
    journal = None
    if out is not None and getattr(judge, "cached", False):
        journal = Journal(out / ".s2i" / "judgements.jsonl", key="key")
    done = journal.read() if journal else {}
    if getattr(judge, "retry_failed", False):
        done = {key: row for key, row in done.items() if "scores" in row}
    salt = dumps(judge.describe())
    try:
        for r, item in track([(r, i) for r in range(repeats) for i in items], description="judging",
                             transient=True):
            answer = answers.get(str(item["id"]), "")
            key = hashlib.sha256(f"{salt}\n{dumps(item)}\n{seed + r}\n{answer}".encode()).hexdigest()[:32]
            row = done.get(key)
            if row is None:
                try:
                    row = {"key": key, "scores": judge.judge(item, answer, seed=seed + r)}
                except S2IError as exc:
                    row = {"key": key, "kind": getattr(exc, "kind", "bad_verdict"), "error": str(exc)}
                if journal is not None:
                    journal.append(row)
            if "scores" not in row:
                failed.append({"id": item["id"], "repeat": r, "kind": row["kind"], "error": row["error"]})
                continue
            rows.append({"id": item["id"], "dimension": item.get("dimension"), "repeat": r, **row["scores"]})
            for axis, value in row["scores"].items():
                per_repeat[r].setdefault(axis, []).append(value)
    finally:
        if journal is not None:
            journal.close()
    axes = list(getattr(judge, "axes", sorted({a for rep in per_repeat for a in rep})))
    summary = {"judge": judge.describe(), "questions": len(items),
               "unanswered": sum(str(i["id"]) not in answers for i in items), "failed": len(failed),
               "failed_by_kind": dict(sorted(Counter(f["kind"] for f in failed).items())),
               "repeats": repeats, "seed": seed, "axes": {}, "by_dimension": {}}
    for axis in axes:
        means = [statistics.fmean(rep[axis]) for rep in per_repeat if rep.get(axis)]
        summary["axes"][axis] = {"mean": statistics.fmean(means) if means else float("nan"),
                                 "std": statistics.pstdev(means) if len(means) > 1 else 0.0,
                                 "per_repeat": means}
    for dim in sorted({str(r["dimension"]) for r in rows}):
        mine = [r for r in rows if str(r["dimension"]) == dim]
        summary["by_dimension"][dim] = {a: statistics.fmean(r[a] for r in mine) for a in axes}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        # sorted keys: a verdict read back from the journal writes the same bytes as a fresh one
        atomic_write_text(out / "judgements.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        atomic_write_text(out / "judge_failures.jsonl", "".join(json.dumps(f, sort_keys=True) + "\n"
                                                                for f in failed))
        atomic_write_text(out / "justification.json", json.dumps(summary, indent=2, sort_keys=True))
    return summary


def print_summary(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    judge = summary["judge"]
    title = f"justification: judge {judge['judge']}" + (f" ({judge['model']})" if judge.get("model") else "")
    table = Table(title=title, caption=f"{summary['questions']} questions, {summary['unanswered']} unanswered, "
                                       f"{summary['failed']} failed, {summary['repeats']} repeats")
    table.add_column("axis")
    table.add_column("mean", justify="right")
    table.add_column("std over repeats", justify="right")
    for axis, v in summary["axes"].items():
        table.add_row(axis, f"{v['mean']:.3f}", f"{v['std']:.3f}")
    Console().print(table)
