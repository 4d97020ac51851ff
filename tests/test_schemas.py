"""The primary configs are typed by their schemas (s2i_core/schemas): a value of the wrong type is refused
before anything runs, and every default of a command's own options lives in one place."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files

import pytest
import yaml
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from conftest import run_s2i
from s2i_core.cli import EXIT_USAGE, hydra_commands
from s2i_core.hydra_bridge import register_configs, register_resolvers
from s2i_core.registry import load_registry
from s2i_core.schemas import SCHEMAS, structured
from s2i_core.specs import KINDS

REGISTRY = load_registry()
CONF = files("s2i_conf")
PLUGIN_GROUPS = {k.group for k in KINDS}

# (command, arguments, the option the one-line error must name); each must exit 2 and leave nothing behind
WRONG_TYPES = [
    ("generate", ["seed=abc"], "seed='abc'"),
    ("generate", ["fraction=x"], "fraction='x'"),
    ("generate", ["progress=1"], "progress=1"),
    ("generate", ["aggregation.exponent=steep"], "aggregation.exponent='steep'"),
    ("assess", ["video=clip.mp4", "json=maybe"], "json='maybe'"),
    ("validate", ["seconds=long"], "seconds='long'"),
    ("calibrate", ["labels=labels.csv", "folds=five"], "folds='five'"),
    ("train", ["data=nowhere", "stage1.lr=fast"], "stage1.lr='fast'"),
    ("train", ["data=nowhere", "loader.workers=many"], "loader.workers='many'"),
    ("bench", ["bootstrap=abc"], "bootstrap='abc'"),
    ("ablate", ["batch=2.5"], "batch=2.5"),
    ("reproduce", ["warmup.steps=lots"], "warmup.steps='lots'"),
    ("summary", ["input=somewhere", "title=[a,b]"], "title"),
]


def test_every_schema_is_the_first_default_of_its_primary_config():
    assert set(SCHEMAS) == set(hydra_commands())
    for command in SCHEMAS:
        defaults = yaml.safe_load((CONF / f"{command}.yaml").read_text())["defaults"]
        assert defaults[0] == f"{command}_schema", f"conf/{command}.yaml must list its schema first"


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_the_composed_config_is_typed_by_its_schema(command):
    register_resolvers()
    register_configs(REGISTRY)
    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="s2i_conf", version_base=None):
        cfg = compose(config_name=command)
        assert OmegaConf.get_type(cfg) is SCHEMAS[command]
        typed = next((f.name for f in dataclasses.fields(SCHEMAS[command])
                      if f.type in ("int", "float", "bool") and f.name not in PLUGIN_GROUPS), None)
        override = f"{typed}=not_a_number" if typed else "title=[a,b]"  # summary's options are all text
        with pytest.raises(Exception, match=typed or "title"):  # Hydra itself refuses, without the CLI's checks
            compose(config_name=command, overrides=[override])
    GlobalHydra.instance().clear()


def test_a_wrong_type_on_every_command_exits_2_with_one_line_naming_it(tmp_path):
    def invoke(case):
        command, args, _ = case
        output = [] if command == "assess" else [f"output={tmp_path / command}"]
        return run_s2i(command, *args, *output, cwd=tmp_path, timeout=300)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(invoke, WRONG_TYPES))
    failures = []
    for (command, args, fragment), proc in zip(WRONG_TYPES, results):
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        if proc.returncode != EXIT_USAGE or len(errors) != 1 or fragment not in errors[0] \
                or "Traceback" in proc.stderr:
            failures.append(f"s2i {command} {' '.join(args)}: exit {proc.returncode}\n{proc.stderr[-600:]}")
    assert not failures, "\n".join(failures)
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "a refused command wrote something"


def _leaves(node, prefix=""):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), node


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_no_yaml_value_repeats_a_schema_default(command):
    """Each default lives once: a primary YAML sets only what its schema does not already hold."""
    text = yaml.safe_load((CONF / f"{command}.yaml").read_text())
    schema = OmegaConf.to_container(OmegaConf.structured(SCHEMAS[command]), resolve=False)
    repeated = []
    for key, value in text.items():
        if key in ("defaults", "hydra"):
            continue
        assert key in schema, f"conf/{command}.yaml sets {key!r}, which {SCHEMAS[command].__name__} lacks"
        defaults = dict(_leaves(schema[key], f"{key}."))
        repeated += [name for name, leaf in _leaves(value, f"{key}.") if name in defaults
                     and defaults[name] == leaf]
    assert not repeated, f"conf/{command}.yaml repeats schema defaults: {repeated}"


def test_a_config_built_in_python_gets_its_defaults_and_types_from_the_schema():
    cfg = structured("bench", {"source": "sig", "aggregation": {"exponent": 2}})
    assert cfg.aggregation.exponent == 2.0 and isinstance(cfg.aggregation.exponent, float)
    assert cfg.aggregation.transparent == SCHEMAS["generate"]().aggregation.transparent
    with pytest.raises(Exception, match="bootstrap"):
        structured("bench", {"bootstrap": "many"})
