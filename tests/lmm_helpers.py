"""Helpers shared by the LMM tests and benches (test-only: not part of the installed package): instruction
files in the `s2i generate` format, and composed `train` configs for tiny models (no hub, no weights)."""

from __future__ import annotations

import json
import os

from s2i_core.dimensions import DIMENSIONS
from s2i_core.prompts import SCORE_QUESTION, score_answer


def write_instructions(folder: str, input_dir: str, videos: dict[str, str], *, dimensions: int = 4) -> str:
    """Write `instructions/stage{1,2}.jsonl` + `manifest.json` for `videos` ({relative path: overall level}),
    exactly as `s2i generate` lays them out. Returns `folder`."""
    os.makedirs(os.path.join(folder, "instructions"), exist_ok=True)
    stage1, stage2 = [], []
    for v_index, (video, level) in enumerate(sorted(videos.items())):
        for d in DIMENSIONS[:dimensions]:
            stage1.append(
                {
                    "id": f"{video}:{d.name}",
                    "video": video,
                    "conversations": [
                        {
                            "from": "human",
                            "value": f"<video>\nHow is the {d.name} of this video ({d.definition})?",
                        },
                        {"from": "gpt", "value": f"The {d.name} of this video is {level}."},
                    ],
                }
            )
        stage1.append(
            {
                "id": f"{video}:overall",
                "video": video,
                "conversations": [
                    {"from": "human", "value": f"<video>\n{SCORE_QUESTION}"},
                    {"from": "gpt", "value": score_answer(level)},
                ],
            }
        )
        text = (
            f"The {DIMENSIONS[0].name} is {level} and the {DIMENSIONS[1].name} is {level}, "
            f"so the overall quality of this video is {level}."
        )
        stage2.append(
            {
                "id": f"{video}:justification",
                "video": video,
                "conversations": [
                    {
                        "from": "human",
                        "value": "<video>\nAssess the quality of this video and explain your rating.",
                    },
                    {"from": "gpt", "value": text},
                ],
            }
        )
        stage2.append(
            {
                "id": f"{video}:qa",
                "video": video,
                "conversations": [
                    {"from": "human", "value": f"<video>\nIs the {DIMENSIONS[0].name} of this video {level}?"},
                    {"from": "gpt", "value": "Yes."},
                ],
            }
        )
    for name, rows in (("stage1", stage1), ("stage2", stage2)):
        with open(os.path.join(folder, "instructions", f"{name}.jsonl"), "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
    counts = {"stage1": len(stage1), "stage2": len(stage2)}
    record_files(folder, {"input": os.path.abspath(input_dir), "counts": counts})
    return folder


def record_files(folder: str, manifest: dict | None = None) -> None:
    """(Re)write `folder`'s manifest with the hashes of its instruction files, as `s2i generate` does."""
    from pathlib import Path

    from s2i_core.sig import manifest as dataset_manifest

    if manifest is None:
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    names = [f"instructions/stage{s}.jsonl" for s in (1, 2)
             if os.path.exists(os.path.join(folder, "instructions", f"stage{s}.jsonl"))]
    dataset_manifest.write(Path(folder), {k: v for k, v in manifest.items() if k != "files"}, names)


def tiny_overrides(lmm: str) -> list[str]:
    """Hydra overrides that make `lmm=<name>` a tiny random model on a CPU budget."""
    return [
        f"lmm={lmm}",
        "variant=tiny",  # conf/variant/tiny.yaml: the sizes of a tiny model from config, on the CPU
        "loader.workers=0",  # two shared CPU cores: decode in the training process (tests of workers set it)
    ]


def lmm_registry():
    """A registry holding only the built-in LMM adapters: tests of this area do not depend on other plugins."""
    import s2i_plugins.lmms

    from s2i_core.registry import load_registry

    return load_registry(load_entry_points=False, extra=[("lmms", s2i_plugins.lmms)])


def compose(command: str, overrides: list[str], registry=None):
    """The config `s2i <command> <overrides>` would run with, plugin groups from the built-in LMM adapters."""
    from s2i_core.hydra_bridge import compose_config

    return compose_config(command, overrides, registry or lmm_registry())
