"""A scorer registered in code (a module on sys.path, no installed distribution) is used by `generate` with the
local process pool and with Ray, by `assess` and by `validate`: the registry is passed along, and workers
rebuild it from the plugin modules the parent registered."""

from __future__ import annotations

import importlib
import json
import os
import textwrap

import pytest
from conftest import make_video

from s2i_core.hydra_bridge import compose_config
from s2i_core.errors import ConfigError
from s2i_core.registry import load_registry
from s2i_core.sig.io import read_jsonl

PLUGIN = textwrap.dedent('''
    """Scores composition from the mean brightness, low on purpose; `raw` is the id of the scoring process."""
    import os
    from dataclasses import dataclass

    from s2i_core import hookimpl
    from s2i_core.scoring import DimensionScore
    from s2i_core.specs import ScorerSpec


    @dataclass
    class InkyConfig:
        offset: float = 0.05


    class Inky:
        dimension = "composition"

        def __init__(self, cfg):
            self.cfg = cfg

        def __call__(self, clip):
            score = self.cfg.offset + 0.1 * float(clip.frames.mean()) / 255
            return DimensionScore(score=score, raw=float(os.getpid()), unit="process id")


    @hookimpl
    def s2i_scorers():
        yield ScorerSpec("inky", Inky, InkyConfig, "mean brightness, for the in-code plugin test",
                         dimension="composition", default=False)
''')


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The registry of a program that registers its own scorer module in code, and a folder of two videos."""
    root = tmp_path_factory.mktemp("in_code")
    (root / "s2i_inky_scorer.py").write_text(PLUGIN)
    videos = root / "videos"
    make_video(videos / "a.mp4", size="96x72", seconds=0.5)
    make_video(videos / "b.mp4", source="mandelbrot", size="96x72", seconds=0.5)
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(root))
        module = importlib.import_module("s2i_inky_scorer")
        yield load_registry(extra=[("inky_pkg", module)]), videos


def _expected(path) -> float:
    from s2i_core.video import decode_clip

    return 0.05 + 0.1 * float(decode_clip(path).frames.mean()) / 255


@pytest.mark.parametrize("executor", [["executor=local", "executor.workers=1"],
                                      ["executor=ray", "executor.local_cpus=1"]], ids=["local", "ray"])
def test_generate_scores_with_a_plugin_registered_in_code(plugin, executor, tmp_path):
    if "executor=ray" in executor:
        pytest.importorskip("ray")
    from s2i_core.pipelines.generate import generate

    registry, videos = plugin
    out = tmp_path / "out"
    cfg = compose_config("generate", [f"input={videos}", f"output={out}", "scorers=[inky]", "progress=false",
                                      *executor], registry)
    manifest = generate(cfg, registry, out)
    assert manifest["counts"] == {**manifest["counts"], "records": 2, "errors": 0}
    for record in read_jsonl(out / "records.jsonl"):
        node = record["dimensions"]["composition"]
        assert set(record["dimensions"]) == {"composition"}
        assert node["score"] == pytest.approx(_expected(videos / record["video"]), abs=1e-3)
        assert node["raw"] != os.getpid(), "scored in the parent: the executor's workers were not used"
        assert node["level"] == "bad"


def test_assess_and_validate_score_with_a_plugin_registered_in_code(plugin, tmp_path):
    from s2i_core.pipelines import validate
    from s2i_core.pipelines.assess import assess

    registry, videos = plugin
    cfg = compose_config("assess", [f"video={videos / 'a.mp4'}", "scorers=[inky]"], registry)
    record = assess(cfg, registry)
    assert record["dimensions"]["composition"]["score"] == pytest.approx(_expected(videos / "a.mp4"), abs=1e-3)
    assert record["dimensions"]["composition"]["raw"] == os.getpid()  # assess scores in this process

    out = tmp_path / "val"
    cfg = compose_config("validate", ["ladders=false", f"clean={videos}", f"output={out}", "scorers=[inky]",
                                      "workers=1"], registry)
    assert validate.run(cfg, registry) == 0
    alarms = json.loads((out / "validation.json").read_text())["content"]["list"]
    assert {(a["video"], a["dimension"]) for a in alarms} == {("a.mp4", "composition"), ("b.mp4", "composition")}
    for alarm in alarms:
        assert alarm["score"] == pytest.approx(_expected(videos / alarm["video"]), abs=1e-3)


def test_a_plugin_object_that_workers_cannot_import_is_refused_before_any_work(plugin, tmp_path):
    from s2i_core.pipelines.generate import generate

    registry, videos = plugin
    module = importlib.import_module("s2i_inky_scorer")

    class Holder:  # the hooks of the module, on an object: nothing another process could import by name
        s2i_scorers = staticmethod(module.s2i_scorers)

    objects = load_registry(load_entry_points=True, extra=[("inky_object", Holder())])
    out = tmp_path / "out"
    cfg = compose_config("generate", [f"input={videos}", f"output={out}", "scorers=[inky]"], objects)
    with pytest.raises(ConfigError, match="'inky_object' was registered in code as a Holder, not a module"):
        generate(cfg, objects, out)
    assert not out.exists()
