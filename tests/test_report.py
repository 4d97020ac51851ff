"""report.html in a real browser: headless Chromium (Debian's `chromium`, installed by scripts/test.sh where
apt can) lays the page out; a probe script appended to a copy measures every drawn frame and pages through the
video table. Skipped with a message where Chromium is absent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import make_video, run_s2i

from s2i_core.sig.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                    "(apt-get install chromium; scripts/test.sh does it where it can)")

PROBE = """
window.addEventListener('load', () => {
  const out = {frames: [], videos: [], filtered: {}};
  document.querySelectorAll('img.frame').forEach((img) => {
    const box = img.getBoundingClientRect();
    out.frames.push({w: box.width, h: box.height, src: img.src.length});
  });
  const next = document.getElementById('next');
  const listAll = () => {
    const seen = [];
    for (let guard = 0; guard < 100000; guard++) {
      document.querySelectorAll('#videos tbody tr').forEach((tr) => seen.push(tr.dataset.video));
      if (next.disabled) break;
      next.click();
    }
    return seen;
  };
  const t0 = performance.now();
  out.videos = listAll();
  out.list_ms = performance.now() - t0;
  for (const level of LEVELS) {
    document.getElementById('f-key').value = 'overall';
    const select = document.getElementById('f-level');
    select.value = level;
    select.dispatchEvent(new Event('change'));
    out.filtered[level] = listAll().length;
  }
  document.getElementById('f-level').value = '';
  document.getElementById('f-level').dispatchEvent(new Event('change'));
  document.querySelector('#videos tbody tr a').click();  // opens that video's justification and QA
  setTimeout(() => {
    out.detail = {video: document.querySelector('#videos tbody tr').dataset.video,
                  text: document.getElementById('detail').innerText,
                  qa: document.querySelectorAll('#detail dt').length};
    const pre = document.createElement('pre');
    pre.id = 'probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 200);
});
""".replace("LEVELS", json.dumps(["bad", "poor", "fair", "good", "excellent"]))


def probe(report: Path, tmp_path: Path) -> dict:
    page = tmp_path / "probed.html"
    page.write_text(report.read_text().replace("</body>", f"<script>{PROBE}</script></body>"))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000",
                           "--virtual-time-budget=60000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=300)
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"the page did not finish loading in Chromium: {proc.stderr[-2000:]}"
    import html

    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    videos = root / "videos"
    make_video(videos / "wide.mp4", size="320x136")  # the 2.35:1 clip that used to be drawn 3x too tall
    make_video(videos / "portrait.mp4", size="120x160", vf="noise=alls=30:allf=t")
    make_video(videos / "square.mp4", source="mandelbrot", size="128x128")
    (videos / "broken.mp4").write_bytes(b"not a video")
    out = root / "out"
    proc = run_s2i("generate", f"input={videos}", f"output={out}", "scorers=[exposure,noise,sharpness]",
                   "progress=false")
    assert proc.returncode == 1, proc.stderr  # one input failed
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    return out, records


def test_report_is_one_self_contained_file(run):
    out, records = run
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)  # nothing fetched from a network
    data = json.loads(re.search(r"id='s2i-data'>(.*?)</script>", page, re.S).group(1).replace("<\\/", "</"))
    assert [row["video"] for row in data["rows"]] == [r["video"] for r in records]
    assert [row["justification"] for row in data["rows"]] == [r["justification"] for r in records]
    assert [row["qa"] for row in data["rows"]] == [r["qa"] for r in records]
    assert "broken.mp4" in page and "not_a_video" in page  # errors with their reasons
    assert "exposure" in page and "level_mapper" in page  # the run's settings
    dimensions = {k for r in records for k in r["dimensions"]}
    assert page.count("id='dist-") == len(dimensions) + 2  # + technical, overall


@needs_chromium
def test_browser_draws_frames_at_their_aspect_ratio_and_lists_every_record(run, tmp_path):
    out, records = run
    seen = probe(out / "report.html", tmp_path)
    ratios = sorted(round(r["meta"]["width"] / r["meta"]["height"], 2) for r in records)
    drawn = [f["w"] / f["h"] for f in seen["frames"]]
    assert len(drawn) >= 2 * len(records)  # a thumbnail per row and the examples
    for ratio in drawn:
        assert min(abs(ratio - r) / r for r in ratios) < 0.04, (ratio, ratios)
    wide = max(ratios)
    assert any(abs(d - wide) / wide < 0.04 for d in drawn)  # the 320x136 clip is drawn wide, not stretched
    assert sorted(seen["videos"]) == sorted(r["video"] for r in records)
    by_level = {lv: sum(r["overall"]["level"] == lv for r in records) for lv in seen["filtered"]}
    assert seen["filtered"] == by_level
    opened = next(r for r in records if r["video"] == seen["detail"]["video"])
    assert opened["justification"].split("\n")[0] in seen["detail"]["text"]
    assert seen["detail"]["qa"] == len(opened["qa"]) > 0


@needs_chromium
def test_ten_thousand_records_write_and_page_quickly(run, tmp_path):
    out, records = run
    manifest = json.loads((out / "manifest.json").read_text())
    many = [dict(records[i % len(records)], video=f"clip{i:05d}/{records[i % len(records)]['video']}")
            for i in range(10_000)]
    manifest["counts"] = dict(manifest["counts"], records=len(many), videos=len(many))
    start = time.perf_counter()
    write_report(tmp_path, out.parent / "videos", many, manifest, [], thumbnails=0)
    written = time.perf_counter() - start
    size = (tmp_path / "report.html").stat().st_size
    start = time.perf_counter()
    seen = probe(tmp_path / "report.html", tmp_path)
    opened = time.perf_counter() - start
    print(f"10,000 records: written in {written:.1f} s, {size / 1e6:.1f} MB, opened and paged through in "
          f"{opened:.1f} s ({seen['list_ms']:.0f} ms in the page)")
    assert len(seen["videos"]) == len(set(seen["videos"])) == 10_000
    assert written < 60 and opened < 120
