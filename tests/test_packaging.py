"""The distribution: explicit package list complete, and a non-editable install works from any directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest

from conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
INSTALLED_AS = {"s2i_core": "s2i_core", "plugins": "s2i_plugins", "conf": "s2i_conf"}


def test_package_list_covers_every_python_and_data_folder():
    declared = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = set()
    for folder, name in INSTALLED_AS.items():
        for path in (REPO / folder).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            rel = path.parent.relative_to(REPO / folder).parts
            on_disk.add(".".join((name, *rel)))
    assert on_disk == declared, f"missing: {sorted(on_disk - declared)}; stale: {sorted(declared - on_disk)}"


def test_building_the_package_prints_no_packaging_warnings(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--disable-pip-version-check", "--no-deps",
                           "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
                          capture_output=True, text=True, check=True)
    ours = [line.strip() for line in (proc.stdout + proc.stderr).splitlines()
            if any(w in line for w in ("BuildBackendWarning", "SetuptoolsDeprecationWarning", "absent from the"))]
    assert not ours, "\n".join(ours[:5])
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith((".mp4", ".yaml", ".json"))
               and ".dist-info/" not in n}
    data = [p for f in ("s2i_core/samples", "conf") for p in (REPO / f).rglob("*")
            if p.suffix in (".mp4", ".yaml", ".json")]
    assert len(shipped) == len(data), sorted(shipped)


def test_editable_build_prints_only_what_setup_filters(tmp_path):
    """The editable install of scripts/setup.sh: setuptools' own 'Editable installation' notice is the one
    message setup.sh filters (it prints its own line instead); nothing else may appear."""
    code = ("import sys; from setuptools import build_meta; "
            "build_meta.build_editable(sys.argv[1])")
    proc = subprocess.run([sys.executable, "-W", "ignore:Editable installation", "-c", code, str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, check=True)
    warnings = [line.strip() for line in proc.stderr.splitlines() if "Warning" in line]
    assert not warnings, "\n".join(warnings[:5])
    assert list(tmp_path.glob("*.whl"))


@pytest.mark.slow
def test_non_editable_install_runs_from_another_directory(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", "install", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(REPO)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import s2i_core, s2i_plugins, s2i_conf; print(json.dumps([m.__file__ for m in (s2i_core, s2i_plugins, s2i_conf)]))"
    files = json.loads(subprocess.run([sys.executable, "-c", f"import json; {code}"], cwd=elsewhere, env=env,
                                      capture_output=True, text=True, check=True).stdout)
    assert all(f.startswith(str(target)) for f in files), files
    s2i = [sys.executable, "-c", "import sys; from s2i_core.cli import main; sys.exit(main())"]
    proc = subprocess.run([*s2i, "generate", "output=demo", "scorers=[exposure]"], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    records = (elsewhere / "demo" / "records.jsonl").read_text().splitlines()
    assert len(records) >= 10  # the built-in samples shipped as package data


def _lock() -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in (REPO / "constraints/lock.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints/lock.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def test_the_cpu_install_cannot_pull_a_decoder_build_that_does_not_load():
    from packaging.requirements import Requirement

    (torchcodec,) = [Requirement(r) for r in PYPROJECT["project"]["dependencies"] if r.startswith("torchcodec")]
    assert "0.13.0" in torchcodec.specifier and "0.14.0" not in torchcodec.specifier
    assert _lock()["torchcodec"].startswith("0.13.")


def test_the_lock_pins_every_dependency_and_the_documented_install_resolves_to_it():
    import importlib.metadata as md

    pins = _lock()
    assert "score2instruct" not in pins and len(pins) >= 50
    for name, version in pins.items():  # the lock is the environment the tests (and BENCHMARKS.md) ran in
        assert md.version(name) == version, f"{name}: installed {md.version(name)}, locked {version}"
    setup_sh = (REPO / "scripts/setup.sh").read_text()
    installs = [line for line in setup_sh.splitlines() if "$PIP install" in line and "--upgrade pip" not in line]
    assert installs and all("$LOCK" in line for line in installs) and 'LOCK="-c constraints/lock.txt"' in setup_sh
    # pip resolves the package and its test extra with the lock and nothing but what is installed: every
    # requirement (the torchcodec bound included) is satisfied by exactly the locked versions.
    report = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--dry-run",
                             "--no-index", "--no-build-isolation", "-c", str(REPO / "constraints/lock.txt"),
                             "--report", "-", "-q", "-e", f"{REPO}[test]"],
                            capture_output=True, text=True, check=True, cwd=REPO)
    plan = json.loads(report.stdout)
    assert [item["metadata"]["name"] for item in plan["install"]] == ["score2instruct"]
