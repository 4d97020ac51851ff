"""Decoding real ffmpeg-encoded videos with torchcodec into a Clip, and clear errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ffmpeg, make_video

from s2i_core.errors import S2IError, VideoError
from s2i_core.video import Sampling, decode_clip, sample_plan

SMALL = Sampling(spatial_frames=4, temporal_runs=2, run_length=6, temporal_max_side=96)


@pytest.mark.parametrize("name,codec,extra", [
    ("h264.mp4", "libx264", ()),
    ("vp9.webm", "libvpx-vp9", ("-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k")),
    ("mpeg4.avi", "mpeg4", ("-q:v", "4")),
])
def test_codecs_and_containers_decode_with_metadata(tmp_path, name, codec, extra):
    path = make_video(tmp_path / name, size="176x144", rate=25, seconds=1.2, codec=codec, extra=extra)
    clip = decode_clip(path, SMALL)
    assert (clip.meta.width, clip.meta.height) == (176, 144)
    assert clip.meta.frames == 30 and abs(clip.meta.fps - 25) < 0.01
    assert abs(clip.meta.duration_s - 1.2) < 0.05
    assert clip.frames.shape == (4, 144, 176, 3) and clip.frames.dtype == np.uint8
    assert np.all(np.diff(clip.times) > 0) and clip.times[-1] <= 1.2
    assert len(clip.runs) == 2 and clip.runs[0].shape == (6, 79, 96, 3)
    # a run is consecutive: timestamps one frame period apart
    assert np.allclose(np.diff(clip.run_times[1]), 1 / 25, atol=1e-3)
    # testsrc2 is colourful and moving: frames are real pictures, not blank buffers
    assert clip.frames.std() > 20 and np.abs(np.diff(clip.runs[0].astype(int), axis=0)).mean() > 0.5
    assert clip.meta.as_record() == {"width": 176, "height": 144, "fps": 25.0, "frames": 30,
                                     "duration_s": pytest.approx(1.2, abs=0.05)}


def test_odd_sizes_decode_at_native_resolution(tmp_path):
    path = make_video(tmp_path / "odd.mp4", size="160x120", vf="scale=161:121", seconds=0.4,
                      extra=("-pix_fmt", "yuv444p"))
    clip = decode_clip(path, SMALL)
    assert clip.frames.shape[1:] == (121, 161, 3)
    assert (clip.meta.width, clip.meta.height) == (161, 121)


def test_rotation_metadata_is_applied(tmp_path):
    plain = make_video(tmp_path / "plain.mp4", size="160x96", seconds=0.4)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-i", str(plain), "-c", "copy", "-metadata:s:v", "rotate=90", str(rotated))
    clip = decode_clip(rotated, SMALL)
    assert abs(clip.meta.rotation) == 90
    assert (clip.meta.width, clip.meta.height) == (96, 160)
    assert clip.frames.shape[1:3] == (160, 96)


def test_variable_frame_rate_counts_real_frames_and_times(tmp_path):
    path = tmp_path / "vfr.mp4"
    # 12 frames at 25 fps, then 12 at 5 fps: 24 frames over 0.48 + 2.4 s
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-frames:v", "24",
           "-vf", "setpts='if(lt(N,12),N/25,0.48+(N-12)/5)/TB'", "-fps_mode", "vfr", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(path))
    clip = decode_clip(path, Sampling(spatial_frames=24, temporal_runs=1, run_length=24))
    assert clip.meta.frames == 24
    steps = np.diff(clip.run_times[0])
    assert steps[:11] == pytest.approx(0.04, abs=2e-3)
    assert steps[12:].mean() == pytest.approx(0.2, abs=0.01) and steps[12:].min() > 0.1  # muxer rounding
    assert clip.meta.duration_s > 2.5


def test_one_frame_video(tmp_path):
    path = make_video(tmp_path / "one.mp4", size="96x64", extra=("-frames:v", "1"))
    clip = decode_clip(path, SMALL)
    assert clip.meta.frames == 1 and clip.frames.shape[0] == 1
    assert clip.runs == []  # a single frame has no consecutive pair


def test_video_with_audio_decodes_its_video_stream(tmp_path):
    path = tmp_path / "av.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", "0.8", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    clip = decode_clip(path, SMALL)
    assert clip.meta.frames == 20 and clip.frames.shape[1:] == (96, 128, 3)


def test_only_sampled_frames_are_kept(tmp_path):
    path = make_video(tmp_path / "long.mp4", size="128x96", seconds=4, extra=("-g", "25"))
    clip = decode_clip(path, Sampling(spatial_frames=3, temporal_runs=2, run_length=5))
    assert clip.frames.shape[0] == 3 and [len(r) for r in clip.runs] == [5, 5]
    assert clip.times[0] < 0.2 and clip.times[-1] > 3.5  # spread over the whole video


def test_sample_plan_moves_samples_onto_nearby_key_frames():
    keys = np.array([0, 50, 100, 150, 200])
    spatial, runs = sample_plan(250, Sampling(spatial_frames=3, temporal_runs=3, run_length=10), keys)
    # targets 0, 120, 240: a key frame within a quarter of the spacing takes the run, 240 has none
    assert [r.start for r in runs] == [0, 100, 240]
    assert all(len(r) == 10 and r.stop <= 250 for r in runs)
    # spatial targets 0, 124, 249: two after a key frame is a predicted frame that costs three decodes
    assert spatial == [2, 124, 249]
    # without a key-frame index the targets stand
    spatial, runs = sample_plan(250, Sampling(spatial_frames=3, temporal_runs=3, run_length=10), np.zeros(0, int))
    assert spatial == [0, 124, 249] and [r.start for r in runs] == [0, 120, 240]


@pytest.fixture
def bad_files(tmp_path):
    good = make_video(tmp_path / "good.mp4", size="320x240", seconds=2, extra=("-movflags", "+faststart"))
    files = {"empty": tmp_path / "zero.mp4", "text": tmp_path / "notes.mp4",
             "truncated_index": tmp_path / "cut_head.mp4", "truncated_data": tmp_path / "cut_tail.mp4",
             "audio_only": tmp_path / "sound.mp4"}
    files["empty"].write_bytes(b"")
    files["text"].write_text("this is not a video\n" * 20)
    raw = good.read_bytes()
    files["truncated_index"].write_bytes(raw[: len(raw) // 40])
    files["truncated_data"].write_bytes(raw[: len(raw) * 2 // 3])
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440", "-t", "0.5", "-c:a", "aac", str(files["audio_only"]))
    return files


@pytest.mark.parametrize("case,kinds,words", [
    ("empty", {"empty"}, "empty"),
    ("text", {"not_a_video"}, "cannot open"),
    ("truncated_index", {"not_a_video", "no_frames", "decode_failed"}, ""),
    ("truncated_data", {"decode_failed"}, "truncated"),
    ("audio_only", {"no_video_stream"}, "no video stream"),
])
def test_bad_input_raises_video_error_naming_file_and_cause(bad_files, case, kinds, words):
    path = bad_files[case]
    with pytest.raises(VideoError) as info:
        decode_clip(path, Sampling(spatial_frames=8, temporal_runs=3, run_length=12))
    err = info.value
    assert isinstance(err, S2IError) and err.kind in kinds
    assert str(path) in str(err) and words in str(err)


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match="does not exist") as info:
        decode_clip(tmp_path / "nope.mp4")
    assert info.value.kind == "missing"
