"""What a dataset plugin returns, and the file readers its layouts share.

A dataset plugin (hook `s2i_datasets`) builds an object with `name` and `items() -> list[LabeledVideo]`.
Every labelled row becomes an item even when its video file is missing, so the scoring benchmark can count it
as failed: a benchmark that silently drops videos reports numbers on a different set than it claims.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from s2i_core.errors import ConfigError
from s2i_core.video import VIDEO_SUFFIXES


@dataclass(frozen=True)
class LabeledVideo:
    key: str  # the name the label file uses
    path: Path  # where the video should be (may not exist: then it is scored as failed)
    mos: float


def labels_path(root: str, labels: str, default_name: str, dataset: str) -> Path:
    """The label file: `labels` if given (absolute, or relative to `root`), else the published name in root."""
    if not root and not labels:
        raise ConfigError(f"dataset {dataset!r}: set dataset.root=<video folder> (and dataset.labels=<file> "
                          f"unless it is {default_name!r} inside root)")
    path = Path(labels) if labels else Path(root) / default_name
    if not path.is_absolute() and labels and root and not path.exists():
        path = Path(root) / labels
    if not path.is_file():
        raise ConfigError(f"dataset {dataset!r}: label file {str(path)!r} does not exist")
    return path


def locate(folder: Path, name: str) -> Path:
    """`folder/name`; when `name` has no video suffix, the first existing `folder/name.<suffix>`."""
    path = folder / name
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return path
    for suffix in sorted(VIDEO_SUFFIXES):  # sorted: the same file wins in every process
        if (candidate := folder / f"{name}{suffix}").exists():
            return candidate
    return folder / f"{name}.mp4"


def read_table(path: Path, columns: dict[str, tuple[str, ...]], dataset: str) -> list[dict[str, str]]:
    """Rows of a CSV with a header, keyed by our names; each of `columns` lists accepted header spellings."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise ConfigError(f"dataset {dataset!r}: label file {str(path)!r} is empty")
    header = [h.strip().lower() for h in rows[0]]
    index = {}
    for ours, spellings in columns.items():
        found = [header.index(s.lower()) for s in spellings if s.lower() in header]
        if not found:
            raise ConfigError(f"dataset {dataset!r}: {str(path)!r} has no column {' or '.join(spellings)} "
                              f"(header: {', '.join(rows[0])})")
        index[ours] = found[0]
    return [{ours: row[i].strip() for ours, i in index.items()} for row in rows[1:] if any(c.strip() for c in row)]


def to_float(value: str, path: Path, dataset: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"dataset {dataset!r}: {str(path)!r} {where}: MOS {value!r} is not a number") from None


def read_xlsx(path: Path, sheet: str = "") -> list[list[str]]:
    """Cell values of one worksheet of an .xlsx file (first sheet when `sheet` is empty or absent)."""
    try:
        import openpyxl
    except ImportError:
        raise ConfigError(f"reading {str(path)!r} needs openpyxl (pip install openpyxl), or export the sheet "
                          "to CSV and point dataset.labels at it") from None
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = book[sheet] if sheet and sheet in book.sheetnames else book.worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    book.close()
    return rows
