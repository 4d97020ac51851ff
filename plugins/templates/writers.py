"""Writers: finished records -> training files. Every file is written whole and atomically (temp + rename).

`sharegpt` writes `instructions/stage1.jsonl` (one item per video x dimension, plus an overall item: the
"dimension -> level" items of progressive tuning stage I), `instructions/stage2.jsonl` (justification + QA
items, stage II) and `instructions/dataset_info.json` (LLaMA-Factory, sharegpt formatting, videos column).
Each line: {"id", "video" (relative to input, as in records.jsonl), "videos": [absolute path], "conversations":
[{"from": "human", "value": "<video>..."}, {"from": "gpt", "value": "..."}]}. `videos` is absolute so that
LLaMA-Factory, `datasets` and any other reader open the file from the dataset folder as written, whatever its
`media_dir` or working directory. The question follows `<video>` directly, as the Qwen-VL templates write a
video item (`<|vision_end|>How is ...`); `newline_after_video=true` writes `<video>\\n...` for the LLaVA and
InternVL templates, which put a newline there. `parquet` writes `records.parquet`, one flat row per record
(dimension scores/levels as columns, QA as JSON text).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from s2i_plugins.templates.phrases import name_of

from s2i_core.dimensions import BY_NAME, DIMENSIONS, GROUPS
from s2i_core.prompts import SCORE_QUESTION, score_answer
from s2i_core.sig.io import atomic_write_bytes, atomic_write_jsonl, atomic_write_text
from s2i_core.sig.records import META_KEYS, OVERALL, Record
from s2i_core.specs import NoConfig, WriterSpec

ASK_JUSTIFY = (
    "Assess the quality of this video and explain your rating.",
    "How good is the quality of this video? Explain your reasoning.",
    "Please evaluate this video's visual quality, aspect by aspect, and give an overall rating.",
    "Describe the quality of this video and justify your judgement.",
    "What do you think of the quality of this video? Give reasons.",
)


def stage1_question(key: str) -> str:
    if key == "overall":
        return SCORE_QUESTION
    return f"How is the {name_of(key)} of this video ({BY_NAME[key].definition})?"


def stage1_answer(key: str, level: str) -> str:
    """Ends on the level word: a Q-Align style scorer reads the level-token probabilities at that position."""
    if key == "overall":
        return score_answer(level)
    return f"The {name_of(key)} of this video is {level}."


@dataclass(frozen=True)
class Layout:
    """Where the items' videos live and how the question follows the video tag."""

    input: str  # absolute folder the records' `video` paths are relative to
    newline_after_video: bool = False

    def item(self, item_id: str, video: str, question: str, answer: str) -> dict:
        tag = "<video>\n" if self.newline_after_video else "<video>"
        return {"id": item_id, "video": video, "videos": [os.path.join(self.input, video)],
                "conversations": [{"from": "human", "value": tag + question}, {"from": "gpt", "value": answer}]}


def stage1_items(record: dict, layout: Layout) -> list[dict]:
    video = record["video"]
    keys = [d.name for d in DIMENSIONS if d.name in record["dimensions"]]
    items = [layout.item(f"{video}#s1:{k}", video, stage1_question(k),
                         stage1_answer(k, record["dimensions"][k]["level"])) for k in keys]
    items.append(layout.item(f"{video}#s1:overall", video, stage1_question("overall"),
                             stage1_answer("overall", record["overall"]["level"])))
    return items


def stage2_items(record: dict, seed: int, layout: Layout) -> list[dict]:
    video = record["video"]
    rng = random.Random(f"{seed}:{video}:ask")
    items = [layout.item(f"{video}#s2:justification", video, rng.choice(ASK_JUSTIFY), record["justification"])]
    items += [layout.item(f"{video}#s2:qa{i}", video, qa["question"], qa["answer"])
              for i, qa in enumerate(record["qa"])]
    return items


def dataset_info(prefix: str) -> dict:
    """No `media_dir` needed: the `videos` paths are absolute."""

    def entry(file_name: str) -> dict:
        return {"file_name": file_name, "formatting": "sharegpt",
                "columns": {"messages": "conversations", "videos": "videos"},
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}}

    return {f"{prefix}_stage1": entry("stage1.jsonl"), f"{prefix}_stage2": entry("stage2.jsonl")}


@dataclass
class ShareGptConfig:
    folder: str = "instructions"
    dataset_prefix: str = "s2i"  # LLaMA-Factory dataset names: <prefix>_stage1, <prefix>_stage2
    # false: `<video>How is ...` (Qwen2-VL, Qwen2.5-VL, Qwen3-VL templates); true: `<video>\nHow is ...`
    # (LLaVA-OneVision, LLaVA-NeXT-Video, InternVL templates). Our trainer reads either.
    newline_after_video: bool = False


class ShareGpt:
    def __init__(self, cfg: ShareGptConfig):
        self.cfg = cfg

    def write(self, records: list[dict], out: Path, context: dict) -> list[str]:
        folder = Path(out) / self.cfg.folder
        layout = Layout(str(Path(context["input"]).resolve()), self.cfg.newline_after_video)
        atomic_write_jsonl(folder / "stage1.jsonl", (i for r in records for i in stage1_items(r, layout)))
        atomic_write_jsonl(folder / "stage2.jsonl",
                           (i for r in records for i in stage2_items(r, context["seed"], layout)))
        info = dataset_info(self.cfg.dataset_prefix)
        atomic_write_text(folder / "dataset_info.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
        return [f"{self.cfg.folder}/{n}" for n in ("stage1.jsonl", "stage2.jsonl", "dataset_info.json")]


class Parquet:
    def __init__(self, cfg: NoConfig):
        self.cfg = cfg

    def write(self, records: list[dict], out: Path, context: dict) -> list[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        dims = [d.name for d in DIMENSIONS if any(d.name in r["dimensions"] for r in records)]
        rows = []
        for record in map(Record, records):
            row = {"video": record.video, **{k: record.meta[k] for k in META_KEYS}}
            for key in [*dims, *GROUPS, OVERALL]:  # a rating the record lacks is a null cell
                rating = record.rating(key)
                row[f"{key}_score"], row[f"{key}_level"] = (rating.score, rating.level) if rating else (None, None)
            row.update(justification=record.justification, qa=json.dumps(record.qa, sort_keys=True))
            rows.append(row)
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows), sink)
        atomic_write_bytes(Path(out) / "records.parquet", sink.getvalue().to_pybytes())
        return ["records.parquet"]


SPECS = (
    WriterSpec("sharegpt", ShareGpt, ShareGptConfig, "LLaVA/ShareGPT conversations: stage1 + stage2 + "
               "LLaMA-Factory dataset_info.json"),
    WriterSpec("parquet", Parquet, NoConfig, "records.parquet, one flat row per video"),
)
