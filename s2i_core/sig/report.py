"""report.html and the terminal summary.

The page holds the run's counts and settings; per key (14 dimensions, two groups, overall) the level counts
beside a histogram of the scores; the mapping fidelity; every error with its reason; a table of every video
(thumbnail, overall, group and dimension levels colour-coded, sortable, filterable by level, paged) whose rows
open that video's justification and QA; example frames with their justifications. It is one self-contained,
deterministic file: inline SVG, base64 JPEG frames drawn at their own aspect ratio, the records as JSON.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from s2i_core.dimensions import DIMENSIONS, GROUPS, LEVELS
from s2i_core.sig.io import atomic_write_text
from s2i_core.sig.report_page import CSS, LEVEL_COLOURS, SCRIPT

KEYS = ["overall", *GROUPS, *(d.name for d in DIMENSIONS)]
# the config nodes that decide what a run writes (not where, nor how many workers: the same files either way)
SETTINGS = ("scorers", "level_mapper", "template", "expanders", "rewriter", "writers", "balance", "seed")


def nodes_of(record: dict) -> dict[str, dict]:
    return {"overall": record["overall"], **record["groups"], **record["dimensions"]}


def level_counts(records: list[dict]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for r in records:
        for key, node in nodes_of(r).items():
            counts.setdefault(key, [0] * 5)[LEVELS.index(node["level"])] += 1
    order = [d.name for d in DIMENSIONS] + list(GROUPS) + ["overall"]
    return {k: counts[k] for k in order if k in counts}


def _bars_svg(values: list[int], colours: list[str], labels: list[str], title: str) -> str:
    """A small bar chart, drawn by hand: no plotting library, the same data gives the same bytes."""
    width, height, top, bottom = 150, 100, 14, 16
    n, peak = len(values), max(values) or 1
    step = width / n
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img'>"
             f"<title>{html.escape(title)}</title>"
             f"<text x='0' y='10' font-size='9' fill='#555'>{html.escape(title)}</text>"]
    for i, (v, c) in enumerate(zip(values, colours)):
        h = (height - top - bottom) * v / peak
        y = height - bottom - h
        parts.append(f"<rect x='{i * step + 1:.1f}' y='{y:.1f}' width='{step - 2:.1f}' height='{h:.1f}' "
                     f"fill='{c}'>"
                     f"<title>{html.escape(labels[i])}: {v}</title></rect>")
        if v:
            parts.append(f"<text x='{(i + .5) * step:.1f}' y='{y - 2:.1f}' font-size='8' "
                         f"text-anchor='middle'>{v}</text>")
    for i, label in enumerate(labels):
        if label:
            parts.append(f"<text x='{(i + .5) * step:.1f}' y='{height - 4}' font-size='8' "
                         f"text-anchor='middle'>{html.escape(label)}</text>")
    return "".join(parts) + "</svg>"


def _distribution(key: str, records: list[dict], counts: list[int]) -> str:
    scores = [nodes_of(r)[key]["score"] for r in records if key in nodes_of(r)]
    bins = [0] * 10
    for s in scores:
        bins[min(9, max(0, int(float(s) * 10)))] += 1
    colours = [LEVEL_COLOURS[lv] for lv in LEVELS]
    levels = _bars_svg(counts, colours, [lv if len(lv) <= 4 else lv[:3] + "." for lv in LEVELS], "levels")
    histogram = _bars_svg(bins, ["#5b7db1"] * 10, ["0", "", "", "", "", ".5", "", "", "", "1"],
                          "scores (10 bins, 0-1)")
    return (f"<div class='dist' id='dist-{key}'><h3>{html.escape(key.replace('_', ' '))}</h3>{levels} "
            f"{histogram}</div>")


def _frame_jpeg(path: Path, side: int) -> tuple[str, int, int] | None:
    """The middle frame, its longer side at most `side` pixels, as base64 JPEG with its width and height."""
    try:
        import cv2

        from s2i_core.video import meta_of, open_decoder

        decoder = open_decoder(path)
        frame = decoder.get_frame_at(meta_of(decoder, str(path)).frames // 2).data.numpy()
        scale = side / max(frame.shape[:2])
        if scale < 1:
            size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
        return (base64.b64encode(data.tobytes()).decode(), frame.shape[1], frame.shape[0]) if ok else None
    except Exception:  # noqa: BLE001 - a missing frame must not fail the report
        return None


def _img(frame: tuple[str, int, int] | None, alt: str) -> str:
    if frame is None:
        return "<i>(no frame)</i>"
    data, w, h = frame
    return (f"<img class='frame' alt='{html.escape(alt)}' width='{w}' height='{h}' "
            f"src='data:image/jpeg;base64,{data}'>")


def _examples(records: list[dict], n: int) -> list[dict]:
    """Spread over the overall score, so the report shows good and bad videos."""
    ranked = sorted(records, key=lambda r: (r["overall"]["score"], r["video"]))
    if len(ranked) <= n:
        return ranked
    return [ranked[round(i * (len(ranked) - 1) / max(1, n - 1))] for i in range(n)]


def _settings(manifest: dict) -> str:
    config = manifest.get("config") or {}
    rows = [("input", manifest["input"])]
    for key in SETTINGS:
        if key in config:
            value = config[key]
            if isinstance(value, dict) and key in ("scorers", "writers", "expanders"):
                value = sorted(value)  # the selection; options are in manifest.json
            rows.append((key, json.dumps(value, sort_keys=True, ensure_ascii=False)))
    versions = manifest.get("versions") or {}
    if isinstance(versions, dict) and versions:
        rows.append(("versions", json.dumps(versions, sort_keys=True)[:400]))
    return ("<table class='kv' id='settings'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        + "</table><p>The full composed config is in <code>manifest.json</code>.</p>")


def _errors(errors: list[dict], limit: int = 2000) -> str:
    if not errors:
        return "<p>none</p>"
    rows = "".join(f"<tr><td>{html.escape(str(e.get('video', '')))}</td><td>{html.escape(str(e.get('error', '')))}"
                   f"</td><td>{html.escape(str(e.get('message', '')))}</td></tr>" for e in errors[:limit])
    more = f"<p>{len(errors) - limit} more in <code>errors.jsonl</code>.</p>" if len(errors) > limit else ""
    return ("<table class='errors' id='errors'><tr><th>video</th><th>kind</th><th>reason</th></tr>"
            f"{rows}</table>{more}")


def _table_data(records: list[dict], thumbs: dict[int, tuple[str, int, int]]) -> str:
    rows = []
    for i, r in enumerate(records):
        nodes = nodes_of(r)
        rows.append({"i": i, "video": r["video"],
                     "levels": {k: nodes[k]["level"] for k in KEYS if k in nodes},
                     "scores": {k: round(float(nodes[k]["score"]), 4) for k in KEYS if k in nodes},
                     "justification": r.get("justification", ""), "qa": r.get("qa", [])})
    payload = {"keys": KEYS, "levels": list(LEVELS), "rows": rows,
               "thumbs": {str(i): t for i, t in thumbs.items()}}
    # `</` cannot end the script element early once escaped
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")


def _video_table(records: list[dict]) -> str:
    heads = "".join(f"<th data-key='{k}' title='sort by {k} score'>{html.escape(k.replace('_', ' '))}</th>"
                    for k in KEYS)
    key_options = "".join(f"<option value='{k}'>{html.escape(k.replace('_', ' '))}</option>" for k in KEYS)
    level_options = "".join(f"<option value='{lv}'>{lv}</option>" for lv in LEVELS)
    return ("<div class='controls'><label>level of <select id='f-key'>" + key_options + "</select></label>"
            "<label>is <select id='f-level'><option value=''>any</option>" + level_options + "</select></label>"
            "<label>video contains <input id='f-text' type='search'></label>"
            "<button id='prev'>&larr; previous</button><button id='next'>next &rarr;</button>"
            "<span id='page-info'></span></div><div id='detail'></div>"
            "<table id='videos'><thead><tr><th>frame</th><th data-key='video'>video</th>" + heads +
            "</tr></thead><tbody></tbody></table>"
            "<p>Click a column to sort by its score (again to reverse); click a video for its justification and "
            "QA. Cells show the level; hover for the score.</p>")


def write_report(out: Path, root: Path, records: list[dict], manifest: dict, errors: list[dict] | None = None,
                 examples: int = 6, thumbnails: int = 500) -> None:
    """`thumbnails`: how many videos (the first, in records order) get a frame in the table: each is a decode."""
    e = html.escape
    c = manifest["counts"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>S2I generation report</title>"
             f"<style>{CSS}</style></head><body><h1>S2I generation report</h1>",
             f"<p>{c['videos']} videos, {c['records']} records, {c['errors']} errors, {c['qa']} QA pairs; "
             f"rewrites {e(str(manifest['rewrites']))}. Sections: <a href='#h-videos'>videos</a>, "
             "<a href='#h-levels'>levels and scores</a>, <a href='#h-errors'>errors</a>, "
             "<a href='#h-settings'>settings</a>, <a href='#h-fidelity'>mapping fidelity</a>, "
             "<a href='#h-examples'>examples</a>.</p>"]
    thumbs = {i: t for i, r in enumerate(records[:thumbnails]) if (t := _frame_jpeg(root / r["video"], 160))}
    parts.append(f"<h2 id='h-videos'>Videos ({len(records)})</h2>" + _video_table(records))
    counts = level_counts(records)
    if counts:
        parts.append("<h2 id='h-levels'>Levels and scores</h2><p>Per key: how many videos got each level, and "
                     "the histogram of the scores the levels were cut from.</p><div class='dists'>"
                     + "".join(_distribution(k, records, v) for k, v in counts.items()) + "</div>")
    parts.append(f"<h2 id='h-errors'>Errors ({c['errors']})</h2>" + _errors(errors or []))
    parts.append("<h2 id='h-settings'>Settings</h2>" + _settings(manifest))
    parts.append("<h2 id='h-fidelity'>Mapping fidelity (levels 1-5 vs scores)</h2><table id='fidelity'><tr>"
                 "<th>key</th><th>SRCC</th><th>PLCC</th><th>n</th>"
                 + "".join(f"<th>{lv}</th>" for lv in LEVELS) + "</tr>")
    for key, f in manifest["fidelity"].items():
        cells = "".join(f"<td>{v}</td>" for v in counts.get(key, [0] * 5))
        parts.append(f"<tr><th>{e(key)}</th><td>{_fmt(f['srcc'])}</td><td>{_fmt(f['plcc'])}</td>"
                     f"<td>{f['n']}</td>{cells}</tr>")
    parts.append("</table><h2 id='h-examples'>Examples</h2>")
    for r in _examples(records, examples):
        parts.append(f"<div class='ex'>{_img(_frame_jpeg(root / r['video'], 320), 'middle frame')}<div>"
                     f"<b>{e(r['video'])}</b> — overall {e(r['overall']['level'])} "
                     f"({r['overall']['score']:.3f})<p>{e(r['justification'])}</p></div></div>")
    parts.append(f"<script type='application/json' id='s2i-data'>{_table_data(records, thumbs)}</script>"
                 f"<script>{SCRIPT}</script></body></html>\n")
    atomic_write_text(out / "report.html", "\n".join(parts))


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_summary(manifest: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    c = manifest["counts"]
    table = Table(title="levels vs scores (SRCC, PLCC)", caption="n/a: all videos got one level")
    for col in ("key", "SRCC", "PLCC", "n"):
        table.add_column(col, justify="right")
    for key, f in manifest["fidelity"].items():
        table.add_row(key.replace("_", " "), _na(f["srcc"]), _na(f["plcc"]), str(f["n"]))
    console = Console()
    console.print(table)
    console.print(escape(f"s2i generate -> {manifest['output']}: {c['records']} records, {c['errors']} errors "
                         f"({manifest['errors_by_kind'] or 'none'}), {c['qa']} QA pairs, rewrites "
                         f"{manifest['rewrites']}; open {Path(manifest['output']) / 'report.html'}"))


def _na(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
