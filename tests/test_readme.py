"""The README is executable documentation: its set-up commands, plugin example and CLI examples are checked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, make_video, run_s2i

README = (REPO / "README.md").read_text()


def fenced_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def plugin_example_files() -> dict[str, str]:
    found = re.findall(r"<!-- plugin-example: (\S+) -->\n```\w+\n(.*?)```", README, flags=re.S)
    return dict(found)


def test_setup_is_two_commands_and_ci_runs_the_test_command():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = [block.strip() for block in fenced_blocks(setup, "bash")]
    assert len(commands) == 2, commands
    install_and_demo, tests = commands
    assert install_and_demo.startswith("bash scripts/setup.sh && .venv/bin/s2i generate")
    assert tests == "bash scripts/test.sh"
    assert "scripts/test.sh" in (REPO / ".ci/run").read_text()
    for script in ("scripts/setup.sh", "scripts/test.sh"):
        assert (REPO / script).is_file()
    setup_sh = (REPO / "scripts/setup.sh").read_text()
    # torch must be installed before anything that depends on it (or pip pulls CUDA wheels)
    assert setup_sh.index("torch torchcodec") < setup_sh.index('-e ".[test]"')


def test_plugin_example_is_about_thirty_lines():
    files = plugin_example_files()
    assert set(files) == {"s2i_letterbox.py", "pyproject.toml"}
    assert len(files["s2i_letterbox.py"].strip().splitlines()) <= 40


@pytest.mark.slow
def test_readme_plugin_installs_lists_and_runs(tmp_path):
    package = tmp_path / "s2i-letterbox"
    package.mkdir()
    for name, text in plugin_example_files().items():
        (package / name).write_text(text)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(package)], check=True)
    try:
        listing = json.loads(run_s2i("plugins", "--json", check=True).stdout)
        row = next(r for r in listing if r.get("distribution") == "s2i-letterbox")
        assert row["provides"] == {"scorer": ["letterbox"]}

        videos = tmp_path / "videos"
        # a 4:3 picture padded to 16:9 with black pillarbox bars, and a full-frame one
        make_video(videos / "pillarbox.mp4", size="120x90", vf="pad=160:90:20:0:black")
        make_video(videos / "full.mp4", size="160x90")
        out = tmp_path / "out"
        proc = run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[exposure,letterbox]")
        assert proc.returncode == 0, proc.stderr
        records = {r["video"]: r for r in map(json.loads, (out / "records.jsonl").read_text().splitlines())}
        boxed = records["pillarbox.mp4"]["dimensions"]["composition"]
        full = records["full.mp4"]["dimensions"]["composition"]
        assert boxed["raw"] == pytest.approx(0.25, abs=0.05)
        assert full["score"] > boxed["score"]
    finally:
        subprocess.run([*pip, "uninstall", "-y", "s2i-letterbox"], check=True)
    assert "s2i-letterbox" not in run_s2i("plugins", "--json", check=True).stdout


def cli_examples() -> list[list[str]]:
    """Every `s2i ...` command in the README's 'Command line' block, split into argv lists."""
    import shlex

    block = fenced_blocks(README.split("## Command line", 1)[1], "bash")[0]
    commands = []
    for line in block.splitlines():
        for part in line.split("#", 1)[0].split("&&"):
            argv = shlex.split(part)
            if argv and argv[0] == "s2i" and not any("..." in a for a in argv):
                commands.append(argv[1:])
    return commands


def single_jobs(args: list[str]) -> list[list[str]]:
    """A multirun command as the single jobs it launches (each sweep value once, others at their first)."""
    if "-m" not in args and "--multirun" not in args:
        return [args]
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args = [a for a in args if a not in ("-m", "--multirun")]
    plain = [a for a in args if "=" not in a]
    parsed = OverridesParser.create().parse_overrides([a for a in args if "=" in a])
    choices = [[o.input_line] if not o.is_sweep_override() else
               [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    jobs = []
    for i, options in enumerate(choices):
        for value in options:
            jobs.append(plain + [c[0] for c in choices[:i]] + [value] + [c[0] for c in choices[i + 1:]])
    return jobs


def test_readme_cli_examples_compose(tmp_path):
    examples = cli_examples()
    assert len(examples) >= 10
    for args in examples:
        if args[0] in ("plugins",):
            run_s2i(*args, cwd=tmp_path, check=True)
            continue
        for job in single_jobs(args):
            proc = run_s2i(*job, "--cfg", "job", cwd=tmp_path)
            assert proc.returncode == 0, f"README example `s2i {' '.join(args)}` does not compose:\n{proc.stderr}"
    assert not any(tmp_path.iterdir()), "composing must not run anything"


@pytest.mark.slow
def test_readme_main_job_runs_on_builtin_samples(tmp_path):
    demo = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    command = fenced_blocks(demo, "bash")[0].split("&&", 1)[1].split()
    assert command[0] == ".venv/bin/s2i"
    proc = run_s2i(*command[1:], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "runs" / "demo"
    for name in ("records.jsonl", "errors.jsonl", "manifest.json", "report.html",
                 "instructions/stage1.jsonl", "instructions/stage2.jsonl"):
        assert (out / name).is_file(), name
    assert len((out / "records.jsonl").read_text().splitlines()) == 10


def test_every_document_the_code_cites_exists_with_its_section():
    """Comments and messages that send a reader to docs/<page>.md#<section> must not point at nothing."""
    def slug(heading: str) -> str:  # GitHub's anchors: lower case, punctuation dropped, spaces to hyphens
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    cited = set()
    for folder in ("s2i_core", "plugins", "conf"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in (".py", ".yaml"):
                cited |= set(re.findall(r"\b(docs/[\w-]+\.md)(?:#([\w-]+))?", path.read_text()))
    assert ("docs/design.md", "contracts") in cited
    for page, section in sorted(cited):
        assert (REPO / page).is_file(), f"{page} is cited in the code but does not exist"
        if section:
            headings = re.findall(r"^#+ (.+)$", (REPO / page).read_text(), flags=re.M)
            assert section in {slug(h) for h in headings}, f"{page} has no section #{section}"
