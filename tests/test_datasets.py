"""Each benchmark dataset layout reads a small label file written in that dataset's published format."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_video

from s2i_core.errors import ConfigError
from s2i_core.registry import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def build(registry, name, **cfg):
    return registry.build("dataset", {"impl": name, **{k: str(v) for k, v in cfg.items()}})


def test_every_layout_is_registered(registry):
    assert {"konvid_1k", "live_vqc", "lsvq_test", "lsvq_1080p", "youtube_ugc", "maxwell", "csv"} <= set(
        registry.names("dataset"))


def test_konvid_attributes_csv(registry, tmp_path):
    (tmp_path / "KoNViD_1k_attributes.csv").write_text(
        "flickr_id,MOS,SD,n,MOS_zscore,file_name\n"
        "3337642103,4.64,0.53,50,2.1,3337642103.mp4\n"
        "6850486032,1.22,0.46,51,-2.3,6850486032.mp4\n")
    make_video(tmp_path / "3337642103.mp4", seconds=0.2)
    items = build(registry, "konvid_1k", root=tmp_path).items()
    assert [(i.key, i.mos) for i in items] == [("3337642103", 4.64), ("6850486032", 1.22)]
    assert items[0].path.is_file() and not items[1].path.exists()  # missing videos stay, to be counted


def test_live_vqc_data_mat(registry, tmp_path):
    from scipy.io import savemat

    names = np.empty((3, 1), dtype=object)
    names[:, 0] = ["A001.mp4", "A002.mp4", "B105.mp4"]
    savemat(tmp_path / "data.mat", {"video_list": names, "mos": np.array([[80.23], [41.5], [62.0]])})
    items = build(registry, "live_vqc", root=tmp_path).items()
    assert [i.key for i in items] == ["A001", "A002", "B105"]
    assert [i.mos for i in items] == [80.23, 41.5, 62.0]
    assert items[2].path == tmp_path / "B105.mp4"


@pytest.mark.parametrize("name,file", [("lsvq_test", "LSVQ_whole_test.csv"),
                                       ("lsvq_1080p", "LSVQ_whole_test_1080p.csv")])
def test_lsvq_csv(registry, tmp_path, name, file):
    header = ("name,p1,p2,p3,height,width,mos_p1,mos_p2,mos_p3,mos,frame_number,fn_last_frame,"
              "left_p1,right_p1,top_p1,bottom_p1,start_p1,end_p1")
    (tmp_path / file).write_text(
        f"{header}\n"
        "ia-batch1/uid_1,p1,p2,p3,1080,1920,60.1,58.2,61.0,63.25,240,239,0,100,0,100,0,60\n"
        "yfcc-batch3/uid_2,p1,p2,p3,720,1280,40.0,41.0,39.0,35.5,150,149,0,100,0,100,0,60\n")
    items = build(registry, name, root=tmp_path).items()
    assert [(i.key, i.mos) for i in items] == [("ia-batch1/uid_1", 63.25), ("yfcc-batch3/uid_2", 35.5)]
    assert items[0].path == tmp_path / "ia-batch1" / "uid_1.mp4"


def test_youtube_ugc_xlsx_sheet(registry, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "diff"  # the MOS sheet is not the first one in the published workbook
    sheet = book.create_sheet("MOS")
    sheet.append(["vid", "category", "resolution", "MOS full", "MOS chunk00"])
    sheet.append(["Animation_1080P-01b3", "Animation", "1080P", 4.215, 4.1])
    sheet.append(["Vlog_360P-2e9d", "Vlog", "360P", 2.87, 3.0])
    book.save(tmp_path / "original_videos_MOS_for_YouTube_UGC_dataset.xlsx")
    make_video(tmp_path / "Vlog_360P-2e9d.mkv", seconds=0.2)
    items = build(registry, "youtube_ugc", root=tmp_path).items()
    assert [(i.key, i.mos) for i in items] == [("Animation_1080P-01b3", 4.215), ("Vlog_360P-2e9d", 2.87)]
    assert items[1].path.name == "Vlog_360P-2e9d.mkv"  # found whatever the container


def test_maxwell_labels_txt(registry, tmp_path):
    (tmp_path / "test_labels.txt").write_text("0000.mp4, -1, -1, 1.187\n0012.mp4, -1, -1, 1.518\n\n")
    items = build(registry, "maxwell", root=tmp_path).items()
    assert [(i.key, i.mos, i.path.name) for i in items] == [("0000", 1.187, "0000.mp4"),
                                                             ("0012", 1.518, "0012.mp4")]


def test_generic_csv_with_custom_columns_and_labels_path(registry, tmp_path):
    labels = tmp_path / "meta" / "scores.csv"
    labels.parent.mkdir()
    labels.write_text("file,score\nsub/a.mp4,0.9\nb.mp4,0.1\n")
    items = build(registry, "csv", root=tmp_path, labels=labels, path_column="file", mos_column="score").items()
    assert [(i.path, i.mos) for i in items] == [(tmp_path / "sub/a.mp4", 0.9), (tmp_path / "b.mp4", 0.1)]


def test_errors_name_the_file_and_the_cause(registry, tmp_path):
    with pytest.raises(ConfigError, match="set dataset.root"):
        build(registry, "konvid_1k").items()
    with pytest.raises(ConfigError, match="KoNViD_1k_attributes.csv.*does not exist"):
        build(registry, "konvid_1k", root=tmp_path).items()
    (tmp_path / "labels.csv").write_text("path,quality\na.mp4,1\n")
    with pytest.raises(ConfigError, match="no column mos"):
        build(registry, "csv", root=tmp_path).items()
    (tmp_path / "labels.csv").write_text("path,mos\na.mp4,high\n")
    with pytest.raises(ConfigError, match="'high' is not a number"):
        build(registry, "csv", root=tmp_path).items()
