"""A table of mistaken invocations: each gets its documented exit status and one clear line, never a traceback."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import S2I, make_video, run_s2i

USAGE = 2


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    (root / "empty").mkdir()
    make_video(root / "videos" / "clip.mp4", size="128x96", seconds=0.5)
    (root / "nan.csv").write_text("path,mos\nclip.mp4,nan\n")
    (root / "outside.csv").write_text("path,mos\n../secret.mp4,3.0\n")
    (root / "range.csv").write_text("path,mos\nclip.mp4,7.5\n")
    return root


def bad_invocations(p: Path) -> list[tuple[list[str], str]]:
    """(arguments, a fragment the one-line error must contain); every one must exit 2."""
    gen = ["generate", f"input={p / 'videos'}", f"output={p / 'out'}", "progress=false"]
    bench = ["bench", "task=scoring", "source=scorer", "scorer=noise", f"dataset.root={p / 'videos'}",
             f"output={p / 'bench'}"]
    return [
        (["nosuchcommand"], "unknown command"),
        (["generate", "foo=1", f"output={p / 'out'}"], "foo"),
        ([*gen, "scorers.noise.bad=abc"], "scorers.noise.bad=abc"),
        ([*gen, "seed=abc"], "seed='abc'"),
        ([*gen, "limit=abc"], "limit='abc'"),
        ([*gen, "limit=-1"], "limit=-1"),
        ([*gen, "limit=0"], "limit=0"),
        ([*gen, "fraction=0"], "fraction=0"),
        ([*gen, "fraction=1.5"], "fraction=1.5"),
        ([*gen, "executor.workers=-3"], "executor.workers=-3"),
        ([*gen, "executor.threads_per_worker=0"], "executor.threads_per_worker=0"),
        ([*gen, "scorers.noise.good=-5"], "scorers.noise.good=-5"),
        ([*gen, "scorers.noise.bad=0.6", "scorers.noise.good=0.6"], "must differ"),
        ([*gen, "report=maybe"], "report='maybe'"),
        ([*gen, "progress=1"], "progress=1"),
        ([*gen, "balance.n=-2"], "balance.n=-2"),
        ([*gen, "balance.proxy=vmaf"], "balance.proxy"),
        ([*gen, "scorers=[nosie]"], "did you mean 'noise'"),
        (["generate", f"input={p / 'empty'}", f"output={p / 'out'}"], "holds no video files"),
        (["generate", f"input={p / 'missing'}", f"output={p / 'out'}"], "is not a folder"),
        (["assess"], "needs video="),
        (["assess", str(p / "missing.mp4")], "does not exist"),
        (["assess", str(p / "videos" / "clip.mp4"), "seed=x"], "seed='x'"),
        (["train"], "needs data="),
        (["train", f"data={p / 'empty'}", "batch_size=0"], "batch_size=0"),
        (["train", f"data={p / 'empty'}", "lmm.tiny=true"], "manifest.json is missing"),
        (["bench", "task=nope"], "unknown task"),
        ([*bench, "limit=-1"], "limit=-1"),
        ([*bench, "bootstrap=abc"], "bootstrap='abc'"),
        ([*bench, f"dataset.labels={p / 'nan.csv'}"], "not a finite score"),
        ([*bench, f"dataset.labels={p / 'outside.csv'}"], "outside the dataset root"),
        ([*bench, f"dataset.labels={p / 'range.csv'}", "dataset.mos_max=5"], "scale ends at 5"),
        (["bench", "task=build", f"records={p / 'empty'}", f"output={p / 'build'}"], "does not exist"),
    ]


def test_every_bad_invocation_exits_2_with_one_line_and_no_traceback(place):
    cases = bad_invocations(place)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda case: run_s2i(*case[0], timeout=300), cases))
    failures = []
    for (args, fragment), proc in zip(cases, results):
        text = " ".join(proc.stderr.split())
        problems = [what for what, bad in (
            (f"exit {proc.returncode}", proc.returncode != USAGE),
            ("a traceback", "Traceback" in proc.stderr + proc.stdout),
            (f"no {fragment!r}", fragment not in text),
            ("not one error line", sum(line.startswith("error:") for line in proc.stderr.splitlines()) != 1),
        ) if bad]
        if problems:
            failures.append(f"s2i {' '.join(args)}: {', '.join(problems)}\n{proc.stderr[-800:]}")
    assert not failures, "\n".join(failures)
    written = [p for p in (place / "out").rglob("*") if p.is_file()] if (place / "out").exists() else []
    assert not written, f"a refused generate wrote into its output folder: {written}"


def test_assess_json_into_a_closed_pipe_is_quiet(place):
    proc = subprocess.run(f"'{S2I}' assess '{place / 'videos' / 'clip.mp4'}' --json | head -c 10",
                          shell=True, capture_output=True, text=True, timeout=300)
    assert proc.stdout.startswith("{") and "Traceback" not in proc.stderr and "Error" not in proc.stderr
