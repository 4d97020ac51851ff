"""Content is not distortion: one test per false alarm the weight-free scorers used to raise on real footage.

Each case scores a clip that a person would call normal, good content of its kind (a warm-lit room, a night
street, a screen recording, a static shot, easy content at a low bitrate, heavily compressed QCIF, a film in
letterbox or pillarbox bars, a subject smeared as it crosses a still shot) and checks the scorer does not
read the content as a defect; its twin applies the real distortion to the same content and checks the scorer
still catches it, so a scorer that always answers "good" fails too.

Levels come from the equal-width mapper: bad < 0.2 <= poor < 0.4 <= fair < 0.6 <= good < 0.8 <= excellent.
"""

from __future__ import annotations

import math

import pytest
from clipmakers import (bitrate, crossing_subject, cut, encode, footage, have_font, night_street, psnr,
                        screen_page, sky_and_hills, warm_room)

from s2i_core.registry import load_registry
from s2i_core.scoring import sampling_for, score_clip
from s2i_core.video import decode_clip

REGISTRY = load_registry()
DEFAULT = [n for n, e in REGISTRY.entries("scorer").items() if e.spec.default]
LEVELS = REGISTRY.build("level_mapper", "equal_width")
LOW = ("bad", "poor")
CLEARLY = 0.2  # "clearly lower": a fifth of the scale, one level of the equal-width mapper

# distortions applied to a whole clip (recipes as in scripts/make_samples.py and the validation ladders)
WHITE_BALANCE_CAST = "colorchannelmixer=rr=1:gg=0.86:bb=0.66"  # daylight balance under tungsten: whites go orange
WARM_GRADE = "selectivecolor=correction_method=relative:reds='-0.4 0.05 0.3 0':yellows='-0.4 0.2 0.4 0'"
NIGHT_GRADE = "curves=all='0/0 0.25/0.02 0.5/0.08 0.75/0.35 1/1'"  # shadows and mids down, lights stay bright
CRUSHED = "eq=brightness=-0.3"
SODIUM = "colorchannelmixer=rr=1:gg=0.85:bb=0.6"  # the orange of sodium street lamps on everything they light
STUTTER = "framestep=3,fps={fps}"  # every frame shown three times
SHAKE = ("crop=iw*0.9:ih*0.9:'(iw-ow)/2+(iw-ow)/2*(0.6*sin(n*1.3)+0.4*sin(n*2.7+1))'"
         ":'(ih-oh)/2+(ih-oh)/2*(0.6*sin(n*1.1+2)+0.4*sin(n*3.1))',scale={w}:{h}:flags=bicubic")
FLICKER = "eq=brightness='0.12*(0.6*sin(n*1.7)+0.4*sin(n*2.9+1))':eval=frame"


@pytest.fixture(scope="module")
def scorers():
    return [REGISTRY.build("scorer", name) for name in DEFAULT]


@pytest.fixture(scope="module")
def scores(scorers):
    """Scores of a clip by path, each clip decoded and scored once per module."""
    cache = {}

    def get(path):
        if path not in cache:
            cache[path] = score_clip(scorers, decode_clip(path, sampling_for(scorers)))
        return cache[path]

    return get


def summary(result, dims) -> str:
    return ", ".join(f"{d}={result[d].score:.3f} ({LEVELS.level(d, result[d].score)}, raw {result[d].raw:.4g})"
                     for d in dims)


def assert_not_low(result, dims, what: str) -> None:
    low = [d for d in dims if LEVELS.level(d, result[d].score) in LOW]
    assert not low, f"{what} read as a defect on {low}: {summary(result, dims)}"


def assert_clearly_lower(clean, distorted, dim: str, what: str) -> None:
    assert distorted[dim].score < clean[dim].score - CLEARLY, (
        f"{what} not caught: {dim} clean {summary(clean, [dim])} vs distorted {summary(distorted, [dim])}")


# --- 1. a warm-lit scene whose neutral surfaces stay neutral is not a colour cast ------------------------

@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    d = tmp_path_factory.mktemp("warm")
    room = warm_room(d / "room.mkv")
    portrait = cut(d / "portrait.mkv", footage("carphone_pristine.mp4"), 0, 2.5, WARM_GRADE)
    return {name: {"clean": encode(d / f"{name}.mp4", master),
                   "cast": encode(d / f"{name}_cast.mp4", master, WHITE_BALANCE_CAST)}
            for name, master in (("room", room), ("portrait", portrait))}


@pytest.mark.parametrize("name", ["room", "portrait"])
def test_warm_light_is_not_a_colour_cast(warm, scores, name):
    # room: wood panelling, orange sofa, lamp light, with a white mug and a grey frame that stay neutral;
    # portrait: carphone with skin, hair and bow tie graded golden, the white shirt and grey car untouched
    clean, cast = scores(warm[name]["clean"]), scores(warm[name]["cast"])
    assert_not_low(clean, ["color_cast"], f"warm {name}")
    assert clean["color_cast"].score >= 0.4
    if name == "portrait":
        assert_clearly_lower(clean, cast, "color_cast", f"white-balance cast over the warm {name}")
    else:
        # Known limit of a no-reference reading: once the cast has tinted the room's only neutral surfaces
        # (a mug and a frame, a few per cent of the picture), nothing in the picture is near grey any more,
        # exactly as in a portrait lit golden, so the reading is low-confidence and cannot lower the score.
        # It must still see the tint grow, say it is unsure, and never reward the cast.
        assert cast["color_cast"].raw > 2 * clean["color_cast"].raw, summary(cast, ["color_cast"])
        assert cast["color_cast"].confidence < 0.5
        assert cast["color_cast"].score <= clean["color_cast"].score


# --- 2. a well exposed night scene is not underexposed ---------------------------------------------------

@pytest.fixture(scope="module")
def night(tmp_path_factory):
    d = tmp_path_factory.mktemp("night")
    street = night_street(d / "street.mkv")
    traffic = cut(d / "traffic.mkv", footage("bikes.mp4"), 1.24, 1.76, NIGHT_GRADE)  # headlights in a queue
    out = {}
    for name, master in (("street", street), ("traffic", traffic)):
        out[name] = {"clean": encode(d / f"{name}.mp4", master),
                     "sodium": encode(d / f"{name}_sodium.mp4", master, SODIUM),
                     "crushed": encode(d / f"{name}_crushed.mp4", master, CRUSHED),
                     "noisy": encode(d / f"{name}_noisy.mp4", master, "noise=alls=20:allf=t", crf=14),
                     "blocky": encode(d / f"{name}_blocky.mp4", master, crf=47)}
    return out


@pytest.mark.parametrize("name", ["street", "traffic"])
def test_night_scene_with_bright_lights_is_well_exposed(night, scores, name):
    clean = scores(night[name]["clean"])
    # the lights of a night scene are coloured, and most of the picture is black, where no tint shows
    assert_not_low(clean, ["exposure", "lighting", "compression", "noise", "color_cast"], f"night {name}")


@pytest.mark.parametrize("name", ["street", "traffic"])
def test_night_scene_under_sodium_light_has_no_colour_cast(night, scores, name):
    # Under orange street lamps the few lit surfaces of a night scene are orange; most of the picture is
    # black, where no tint can be seen, so the scene shows too few grey surfaces to call the light a cast
    # (real night clips read "poor" here when the support was counted among the lit mid-tones only).
    sodium = scores(night[name]["sodium"])
    assert_not_low(sodium, ["color_cast", "exposure"], f"sodium-lit night {name}")
    assert sodium["color_cast"].confidence < 0.9, summary(sodium, ["color_cast"])


@pytest.mark.parametrize("name", ["street", "traffic"])
@pytest.mark.parametrize("variant,dim", [("crushed", "exposure"), ("noisy", "noise"), ("blocky", "compression")])
def test_night_scene_defects_are_still_caught(night, scores, name, variant, dim):
    clean, distorted = scores(night[name]["clean"]), scores(night[name][variant])
    assert_clearly_lower(clean, distorted, dim, f"{variant} night {name}")


# --- 3. screen content: a white page with black text --------------------------------------------------------

SCREEN_DIMS = ["exposure", "compression", "noise", "sharpness", "resolution", "flicker", "fluency"]
SCREEN_DEFECTS = {  # dimension: (filter, CRF) of the same recording with that defect
    "exposure": ("lutyuv=y=val*0.3", 18),  # a dim capture: white page turned dark grey
    "compression": ("null", 46),
    "noise": ("noise=alls=20:allf=t", 14),
    "sharpness": ("gblur=sigma=2.5", 18),  # text plainly out of focus
    "resolution": ("scale=212:120:flags=bicubic,scale=640:360:flags=bicubic", 18),
    "flicker": (FLICKER, 18),
    "fluency": (STUTTER.format(fps=25), 18),
}


@pytest.fixture(scope="module")
def screen(tmp_path_factory):
    font = have_font()
    if font is None:
        pytest.skip("no TrueType font for ffmpeg drawtext (install fonts-dejavu-core)")
    d = tmp_path_factory.mktemp("screen")
    master = screen_page(d / "page.mkv", font)
    out = {"clean": encode(d / "page.mp4", master)}
    for dim, (vf, crf) in SCREEN_DEFECTS.items():
        out[dim] = encode(d / f"page_{dim}.mp4", master, vf, crf=crf)
    return out


def test_screen_recording_is_not_read_as_defects(screen, scores):
    # a settings page: header bar, side menu, headings, paragraphs, buttons; scrolling 2 px a frame
    assert_not_low(scores(screen["clean"]), SCREEN_DIMS, "screen recording")


@pytest.mark.parametrize("dim", SCREEN_DIMS)
def test_screen_recording_defects_are_still_caught(screen, scores, dim):
    assert_clearly_lower(scores(screen["clean"]), scores(screen[dim]), dim, f"{dim} defect on the screen page")


# --- 4. a static shot with small motion is neither frozen nor shaky ----------------------------------------

@pytest.fixture(scope="module")
def static(tmp_path_factory):
    d = tmp_path_factory.mktemp("static")
    shots = {"talking_head": (cut(d / "talking_head.mkv", footage("carphone_pristine.mp4"), 0, 3), 30000 / 1001,
                              176, 144),
             "parked_bicycle": (cut(d / "parked_bicycle.mkv", footage("bikes.mp4"), 7.5, 2.1), 25, 640, 272)}
    return {name: {"clean": encode(d / f"{name}.mp4", master),
                   "stutter": encode(d / f"{name}_stutter.mp4", master, STUTTER.format(fps=f"{fps:.5f}")),
                   "shaky": encode(d / f"{name}_shaky.mp4", master, SHAKE.format(w=w, h=h))}
            for name, (master, fps, w, h) in shots.items()}


@pytest.mark.parametrize("name", ["talking_head", "parked_bicycle"])
def test_static_shot_is_fluent_and_steady(static, scores, name):
    # talking_head: carphone, a man talking to a camera fixed inside a car;
    # parked_bicycle: bikes, a fixed camera on a parked bicycle while a passer-by walks through
    assert_not_low(scores(static[name]["clean"]), ["fluency", "stability"], f"static shot {name}")


@pytest.mark.parametrize("name", ["talking_head", "parked_bicycle"])
@pytest.mark.parametrize("variant,dim", [("stutter", "fluency"), ("shaky", "stability")])
def test_static_shot_defects_are_still_caught(static, scores, name, variant, dim):
    assert_clearly_lower(scores(static[name]["clean"]), scores(static[name][variant]), dim, f"{variant} {name}")


# --- 5. easy content at a low bitrate that still looks clean is not "compressed" ---------------------------

@pytest.fixture(scope="module")
def easy(tmp_path_factory):
    d = tmp_path_factory.mktemp("easy")
    master = sky_and_hills(d / "sky.mkv")
    # 40 kb/s at 640x360, 25 fps is about 0.007 bits per pixel; the VBV makes x264 spend it rather than undershoot
    low_bitrate = encode(d / "sky_40k.mp4", master, crf=None, extra=("-b:v", "40k", "-maxrate", "40k",
                                                                      "-bufsize", "2M"))
    blocky = encode(d / "sky_blocky.mp4", master, crf=None, extra=("-qp", "51", "-x264-params", "no-deblock=1"))
    return {"master": master, "low_bitrate": low_bitrate, "blocky": blocky}


def test_easy_content_at_a_low_bitrate_is_not_compressed(easy, scores):
    rate, quality = bitrate(easy["low_bitrate"]), psnr(easy["master"], easy["low_bitrate"])
    assert rate < 60_000 and quality > 38, f"premise broken: {rate / 1000:.0f} kb/s at {quality:.1f} dB"
    assert_not_low(scores(easy["low_bitrate"]), ["compression"],
                   f"easy content at {rate / 1000:.0f} kb/s that looks clean ({quality:.1f} dB)")


def test_easy_content_with_visible_blocking_is_caught(easy, scores):
    clean, blocky = psnr(easy["master"], easy["low_bitrate"]), psnr(easy["master"], easy["blocky"])
    assert blocky < min(36.0, clean - 6), f"blocky encode not visibly worse ({blocky:.1f} vs {clean:.1f} dB)"
    assert_clearly_lower(scores(easy["low_bitrate"]), scores(easy["blocky"]), "compression",
                         "blocking on easy content")


# --- 6. heavy compression at QCIF is caught, and a clean QCIF clip is not called compressed ------------------

@pytest.fixture(scope="module")
def qcif(tmp_path_factory):
    d = tmp_path_factory.mktemp("qcif")
    masters = {"carphone": cut(d / "carphone.mkv", footage("carphone_pristine.mp4"), 0, 3),
               "cyclist": cut(d / "cyclist.mkv", footage("bikes.mp4"), 3.08, 2.3, "crop=362:272,scale=176:144")}
    return {name: {crf: encode(d / f"{name}_crf{crf}.mp4", master, crf=crf) for crf in (18, 45, 51)}
            for name, master in masters.items()}


@pytest.mark.parametrize("name", ["carphone", "cyclist"])
@pytest.mark.parametrize("crf", [45, 51])
def test_heavy_compression_at_qcif_is_caught(qcif, scores, name, crf):
    clean, heavy = scores(qcif[name][18]), scores(qcif[name][crf])
    assert LEVELS.level("compression", heavy["compression"].score) in LOW, (
        f"{name} QCIF at CRF {crf} (visible blocking) not called compressed: {summary(heavy, ['compression'])}")
    assert_clearly_lower(clean, heavy, "compression", f"CRF {crf} on QCIF {name}")


@pytest.mark.parametrize("name", ["carphone", "cyclist"])
def test_clean_qcif_is_not_compressed(qcif, scores, name):
    assert_not_low(scores(qcif[name][18]), ["compression"], f"{name} QCIF at CRF 18")


# --- 7. black letterbox / pillarbox bars frame the picture: they are not shadows, a vignette or edge weight ---

BARS = {"letterbox": "pad=iw:ih*1.5:0:(oh-ih)/2:black", "pillarbox": "pad=iw*1.6:ih:(ow-iw)/2:0:black"}
FRAMED = ["exposure", "contrast", "lighting", "composition"]


@pytest.fixture(scope="module")
def barred(tmp_path_factory):
    d = tmp_path_factory.mktemp("bars")
    master = cut(d / "street.mkv", footage("bikes.mp4"), 1.0, 2.0)
    out = {"plain": encode(d / "plain.mp4", master)}
    for name, pad in BARS.items():
        out[name] = encode(d / f"{name}.mp4", master, pad)
        out[f"{name}_vignette"] = encode(d / f"{name}_vignette.mp4", master, f"vignette=angle=PI/3.2,{pad}")
        out[f"{name}_dark"] = encode(d / f"{name}_dark.mp4", master, f"{CRUSHED},{pad}")
    return out


@pytest.mark.parametrize("bars", list(BARS))
def test_black_bars_are_not_read_as_a_defect(barred, scores, bars):
    plain, framed = scores(barred["plain"]), scores(barred[bars])
    assert_not_low(framed, FRAMED, f"footage in {bars} bars")
    for dim in FRAMED:  # the picture inside the bars is the same picture
        assert framed[dim].score == pytest.approx(plain[dim].score, abs=0.05), (
            f"{bars} bars moved {dim}: {summary(plain, [dim])} without, {summary(framed, [dim])} with")


@pytest.mark.parametrize("bars", list(BARS))
def test_defects_inside_black_bars_are_caught(barred, scores, bars):
    framed = scores(barred[bars])
    assert_clearly_lower(framed, scores(barred[f"{bars}_vignette"]), "lighting", f"a vignette inside {bars} bars")
    assert_clearly_lower(framed, scores(barred[f"{bars}_dark"]), "exposure", f"under-exposure inside {bars} bars")


# --- 8. framing: a shot without straight lines is not judged on its level; a rolled camera is caught ------

def roll(degrees: float, w: int, h: int) -> str:
    """Camera roll by `degrees`, cropped to the largest centred rectangle the rotated picture fills."""
    a = math.radians(degrees)
    keep = min(w / (w * math.cos(a) + h * math.sin(a)), h / (w * math.sin(a) + h * math.cos(a)))
    return f"rotate={a:.6f}:ow=iw:oh=ih,crop=iw*{keep:.4f}:ih*{keep:.4f},scale={w}:{h}:flags=bicubic"


@pytest.fixture(scope="module")
def framing(tmp_path_factory):
    d = tmp_path_factory.mktemp("framing")
    street = cut(d / "street.mkv", footage("bikes.mp4"), 1.0, 2.0, "scale=640:-2")
    # clouds of soft blobs: detail everywhere, no straight line to tell level by (like foliage or water)
    blobs = cut(d / "blobs.mkv", footage("bikes.mp4"), 1.0, 2.0,
                "scale=640:-2,geq=lum='128+100*sin(X/23+sin(Y/31)*2)*cos(Y/19+sin(X/41)*2)':cb=128:cr=128")
    w, h = 640, 360
    return {"street": encode(d / "street.mp4", street), "street_rolled": encode(d / "sr.mp4", street, roll(8, w, h)),
            "blobs": encode(d / "blobs.mp4", blobs), "blobs_rolled": encode(d / "br.mp4", blobs, roll(8, w, h))}


def test_a_level_street_is_well_composed_and_a_rolled_one_is_caught(framing, scores):
    level, rolled = scores(framing["street"]), scores(framing["street_rolled"])
    assert_not_low(level, ["composition"], "a level street")
    assert level["composition"].confidence >= 0.5, summary(level, ["composition"])
    assert_clearly_lower(level, rolled, "composition", "an 8-degree camera roll")


def test_a_shot_without_straight_lines_is_not_judged_on_its_level(framing, scores):
    for name in ("blobs", "blobs_rolled"):
        result = scores(framing[name])
        assert_not_low(result, ["composition"], f"{name}: soft shapes without a line to level by")
        assert result["composition"].score >= 0.75, summary(result, ["composition"])


# --- 9. a smear does not hide the motion it smears: motion blur keeps its reading as the mix grows --------

@pytest.fixture(scope="module")
def smeared(tmp_path_factory):
    d = tmp_path_factory.mktemp("smear")
    street = cut(d / "street.mkv", footage("bikes.mp4"), 1.0, 2.0, "scale=640:-2")
    return {n: encode(d / f"mix{n}.mp4", street, f"tmix=frames={n}" if n > 1 else "null") for n in (1, 4, 10)}


def test_motion_blur_stays_readable_and_falls_as_the_smear_grows(smeared, scores):
    readings = [scores(smeared[n])["motion_blur"] for n in (1, 4, 10)]
    described = ", ".join(f"mix {n}: {r.score:.3f} (confidence {r.confidence})" for n, r in zip((1, 4, 10), readings))
    assert all(r.confidence >= 0.5 for r in readings), described  # the mix shrinks frame change, not travel
    assert readings[0].score > readings[1].score > readings[2].score, described
    assert readings[2].score < readings[0].score - CLEARLY, described


# --- 10. a subject crossing a still shot is not a motion-blurred video; a smeared camera move is ----------

@pytest.fixture(scope="module")
def crossing(tmp_path_factory):
    d = tmp_path_factory.mktemp("crossing")
    subject, pan = crossing_subject(d / "subject.mkv"), crossing_subject(d / "pan.mkv", pan=3.0, speed=0.0)
    return {"subject": encode(d / "subject.mp4", subject),
            "subject_smeared": encode(d / "subject3.mp4", subject, "tmix=frames=3"),
            "pan": encode(d / "pan.mp4", pan), "pan_smeared": encode(d / "pan10.mp4", pan, "tmix=frames=10")}


def test_a_smeared_subject_crossing_a_still_shot_is_not_a_motion_blurred_video(crossing, scores):
    # a twelfth of the picture smeared along its path (a long shutter on a fast subject) is the look of motion
    subject, smeared = scores(crossing["subject"]), scores(crossing["subject_smeared"])
    assert smeared["motion_blur"].confidence >= 0.5, summary(smeared, ["motion_blur"])
    assert_not_low(smeared, ["motion_blur"], "a smeared subject crossing a still shot")
    assert smeared["motion_blur"].score > subject["motion_blur"].score - CLEARLY, summary(smeared, ["motion_blur"])
    # the same smear over the whole picture (the camera moved) is caught
    pan, pan_smeared = scores(crossing["pan"]), scores(crossing["pan_smeared"])
    caught = LEVELS.level("motion_blur", pan_smeared["motion_blur"].score)
    assert caught in LOW, summary(pan_smeared, ["motion_blur"])
    assert_clearly_lower(pan, pan_smeared, "motion_blur", "a camera move smeared by a 10-frame shutter")
