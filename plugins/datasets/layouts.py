"""Benchmark dataset layouts: each reads its published label file and finds the videos in a local folder.

`root` is the folder holding the videos; `labels` is the label file (empty: the published file name inside
`root`). Nothing is downloaded: the datasets' licences require fetching them from their owners.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from s2i_core.bench.datasets import LabeledVideo, labels_path, locate, read_table, read_xlsx, to_float
from s2i_core.errors import ConfigError
from s2i_core.specs import DatasetSpec


@dataclass
class LayoutConfig:
    root: str = ""
    labels: str = ""


class Layout:
    """Shared plumbing; a layout overrides `rows()` to yield (key, video file name, MOS text)."""

    name = ""
    default_labels = ""

    def __init__(self, cfg):
        self.cfg = cfg

    @property
    def labels(self) -> Path:
        return labels_path(self.cfg.root, self.cfg.labels, self.default_labels, self.name)

    @property
    def root(self) -> Path:
        return Path(self.cfg.root) if self.cfg.root else self.labels.parent

    def rows(self, path: Path):
        raise NotImplementedError

    def declared_range(self) -> tuple[float | None, float | None]:
        return self.mos_range or (None, None)

    mos_range: tuple[float, float] | None = None  # the published MOS scale; a value outside is a broken label

    def items(self) -> list[LabeledVideo]:
        path = self.labels
        root = self.root.resolve()
        low, high = self.declared_range()
        out = []
        for key, video, mos in self.rows(path):
            value = to_float(mos, path, self.name, f"row {key!r}")
            outside = (low is not None and value < low) or (high is not None and value > high)
            if not math.isfinite(value) or outside:
                scale = (f" (the dataset's scale is {low} to {high})" if low is not None and high is not None
                         else f" (the scale starts at {low})" if low is not None
                         else f" (the scale ends at {high})" if high is not None else "")
                raise ConfigError(f"dataset {self.name!r}: {str(path)!r} row {key!r}: MOS {mos!r} is not a finite "
                                  f"score{scale}")
            where = locate(self.root, video)
            if not where.resolve().is_relative_to(root):
                raise ConfigError(f"dataset {self.name!r}: {str(path)!r} row {key!r}: video {video!r} lies "
                                  f"outside the dataset root {str(root)!r}")
            out.append(LabeledVideo(key, where, value))
        if not out:
            raise ConfigError(f"dataset {self.name!r}: no labelled videos in {str(path)!r}")
        return out


class KonvidLayout(Layout):
    """KoNViD-1k: KoNViD_1k_attributes.csv (flickr_id, MOS, ...) or KoNViD_1k_mos.csv; videos <flickr_id>.mp4."""

    mos_range = (1.0, 5.0)

    name, default_labels = "konvid_1k", "KoNViD_1k_attributes.csv"

    def rows(self, path):
        for row in read_table(path, {"id": ("flickr_id",), "mos": ("MOS",)}, self.name):
            yield row["id"], f"{row['id']}.mp4", row["mos"]


class LiveVqcLayout(Layout):
    """LIVE-VQC: data.mat (MATLAB) with cell array `video_list` (A001.mp4, ...) and column `mos`."""

    mos_range = (0.0, 100.0)

    name, default_labels = "live_vqc", "data.mat"

    def rows(self, path):
        import numpy as np
        from scipy.io import loadmat

        try:
            mat = loadmat(path)
        except (ValueError, NotImplementedError, OSError) as exc:
            raise ConfigError(f"dataset {self.name!r}: cannot read {str(path)!r} as a MAT file: {exc}") from exc
        if "video_list" not in mat or "mos" not in mat:
            raise ConfigError(f"dataset {self.name!r}: {str(path)!r} lacks 'video_list' or 'mos'")
        names = [str(np.asarray(v).ravel()[0]) for v in np.asarray(mat["video_list"], dtype=object).ravel()]
        for video, mos in zip(names, np.asarray(mat["mos"], dtype=float).ravel()):
            yield Path(video).stem, video, str(mos)


class LsvqLayout(Layout):
    """LSVQ: LSVQ_whole_test.csv / LSVQ_whole_test_1080p.csv (name, ..., mos, ...); videos <name>.mp4."""

    mos_range = (0.0, 100.0)

    name, default_labels = "lsvq_test", "LSVQ_whole_test.csv"

    def rows(self, path):
        for row in read_table(path, {"name": ("name",), "mos": ("mos",)}, self.name):
            yield row["name"], f"{row['name']}.mp4", row["mos"]


class Lsvq1080pLayout(LsvqLayout):
    name, default_labels = "lsvq_1080p", "LSVQ_whole_test_1080p.csv"


class YoutubeUgcLayout(Layout):
    """YouTube-UGC: original_videos_MOS_for_YouTube_UGC_dataset.xlsx, sheet MOS (vid, ..., MOS full).

    A CSV export of that sheet is read too. Videos are <vid>.mkv as published, or transcoded <vid>.mp4.
    """

    mos_range = (1.0, 5.0)

    name, default_labels = "youtube_ugc", "original_videos_MOS_for_YouTube_UGC_dataset.xlsx"
    columns = (("vid", ("vid",)), ("mos", ("MOS full", "MOSfull", "mos_full", "MOS")))  # accepted spellings

    def rows(self, path):
        if path.suffix.lower() == ".csv":
            table = read_table(path, dict(self.columns), self.name)
        else:
            cells = read_xlsx(path, "MOS")
            header = [c.strip().lower() for c in cells[0]] if cells else []
            idx = {}
            for ours, spellings in self.columns:
                hits = [header.index(s.lower()) for s in spellings if s.lower() in header]
                if not hits:
                    raise ConfigError(f"dataset {self.name!r}: {str(path)!r} has no column {spellings[0]!r}")
                idx[ours] = hits[0]
            table = [{k: row[i] for k, i in idx.items()} for row in cells[1:] if row and row[idx["vid"]]]
        for row in table:
            yield row["vid"], row["vid"], row["mos"]


class MaxwellLayout(Layout):
    """MaxWell (DIVIDE-MaxWell): test_labels.txt, one `<file>, -1, -1, <overall MOS>` line per video."""

    name, default_labels = "maxwell", "test_labels.txt"

    def rows(self, path):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 2:
                raise ConfigError(f"dataset {self.name!r}: {str(path)!r} line {n}: expected 'file, ..., mos'")
            yield Path(parts[0]).stem, parts[0], parts[-1]


@dataclass
class CsvConfig(LayoutConfig):
    path_column: str = "path"
    mos_column: str = "mos"
    mos_min: Optional[float] = None  # the scale of the MOS column: a label outside it is refused
    mos_max: Optional[float] = None


class CsvLayout(Layout):
    """Any dataset: a CSV with a video path column (relative to root, or absolute inside it) and a MOS column."""

    name, default_labels = "csv", "labels.csv"

    def declared_range(self):
        return self.cfg.mos_min, self.cfg.mos_max

    def rows(self, path):
        cols = {"path": (self.cfg.path_column,), "mos": (self.cfg.mos_column,)}
        for row in read_table(path, cols, self.name):
            yield row["path"], row["path"], row["mos"]


SPECS = (
    DatasetSpec("konvid_1k", KonvidLayout, LayoutConfig, "KoNViD-1k (1,200 Flickr videos)"),
    DatasetSpec("live_vqc", LiveVqcLayout, LayoutConfig, "LIVE-VQC (585 mobile captures)"),
    DatasetSpec("lsvq_test", LsvqLayout, LayoutConfig, "LSVQ test set (7.4K videos)"),
    DatasetSpec("lsvq_1080p", Lsvq1080pLayout, LayoutConfig, "LSVQ 1080p test set (3.6K videos)"),
    DatasetSpec("youtube_ugc", YoutubeUgcLayout, LayoutConfig, "YouTube-UGC (1.1K+ videos)"),
    DatasetSpec("maxwell", MaxwellLayout, LayoutConfig, "MaxWell / DIVIDE-MaxWell test split"),
    DatasetSpec("csv", CsvLayout, CsvConfig, "generic CSV: video path and MOS columns"),
)
