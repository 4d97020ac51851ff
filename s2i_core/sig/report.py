"""report.html (level distributions, mapping fidelity, errors, example frames with justifications) and the
terminal summary. The HTML is self-contained (inline SVG plots, base64 JPEG frames) and deterministic."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from s2i_core.dimensions import DIMENSIONS, GROUPS, LEVELS
from s2i_core.sig.io import atomic_write_text

CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
       "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}"
       ".ex{display:flex;gap:1em;margin:1em 0;border-top:1px solid #ddd;padding-top:1em}"
       ".ex img{max-width:320px;height:auto}.ex p{white-space:pre-wrap;margin:0}")


def level_counts(records: list[dict]) -> dict[str, list[int]]:
    keys = [d.name for d in DIMENSIONS] + list(GROUPS) + ["overall"]
    counts: dict[str, list[int]] = {}
    for r in records:
        nodes = {**r["dimensions"], **r["groups"], "overall": r["overall"]}
        for key in keys:
            if key in nodes:
                counts.setdefault(key, [0] * 5)[LEVELS.index(nodes[key]["level"])] += 1
    return {k: counts[k] for k in keys if k in counts}


def _plot(counts: dict[str, list[int]]) -> str:
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # Hydra's INFO logging would echo font scans
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "s2i"  # fixed element ids: the same data gives the same bytes
    n = len(counts)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, (key, values) in zip(axes.flat, counts.items()):
        ax.bar(range(5), values, color=["#c0392b", "#e67e22", "#f1c40f", "#7cb342", "#2e7d32"])
        ax.set_xticks(range(5), [lv if len(lv) <= 4 else lv[:3] + "." for lv in LEVELS], fontsize=8)
        ax.set_title(key.replace("_", " "), fontsize=10)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _frame_jpeg(path: Path) -> str | None:
    try:
        import cv2

        from s2i_core.video import meta_of, open_decoder

        decoder = open_decoder(path)
        frame = decoder.get_frame_at(meta_of(decoder, str(path)).frames // 2).data.numpy()
        scale = 320 / max(frame.shape[:2])
        if scale < 1:
            frame = cv2.resize(frame, (round(frame.shape[1] * scale), round(frame.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA)
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
        return base64.b64encode(data.tobytes()).decode() if ok else None
    except Exception:  # noqa: BLE001 - a missing example frame must not fail the report
        return None


def _examples(records: list[dict], n: int) -> list[dict]:
    """Spread over the overall score, so the report shows good and bad videos."""
    ranked = sorted(records, key=lambda r: (r["overall"]["score"], r["video"]))
    if len(ranked) <= n:
        return ranked
    return [ranked[round(i * (len(ranked) - 1) / max(1, n - 1))] for i in range(n)]


def write_report(out: Path, root: Path, records: list[dict], manifest: dict, examples: int = 6) -> None:
    e = html.escape
    parts = [(f"<!doctype html><html><head><meta charset='utf-8'><title>S2I generation report</title>"
              f"<style>{CSS}</style></head><body><h1>S2I generation report</h1>")]
    c = manifest["counts"]
    parts.append(f"<p>input <code>{e(manifest['input'])}</code>: {c['videos']} videos, {c['records']} records, "
                 f"{c['errors']} errors, {c['qa']} QA pairs; level mapper <b>{e(manifest['level_mapper']['impl'])}"
                 f"</b>; rewrites {e(str(manifest['rewrites']))}.</p>")
    counts = level_counts(records)
    if counts:
        parts.append("<h2>Level distributions</h2>" + _plot(counts))
    parts.append("<h2>Mapping fidelity (levels 1-5 vs scores)</h2><table><tr><th>key</th><th>SRCC</th>"
                 "<th>PLCC</th><th>n</th>" + "".join(f"<th>{lv}</th>" for lv in LEVELS) + "</tr>")
    for key, f in manifest["fidelity"].items():
        cells = "".join(f"<td>{v}</td>" for v in counts.get(key, [0] * 5))
        parts.append(f"<tr><th>{e(key)}</th><td>{_fmt(f['srcc'])}</td><td>{_fmt(f['plcc'])}</td>"
                     f"<td>{f['n']}</td>{cells}</tr>")
    parts.append("</table><h2>Errors</h2>")
    if manifest["errors_by_kind"]:
        parts.append("<table><tr><th>kind</th><th>videos</th></tr>" + "".join(
            f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in manifest["errors_by_kind"].items()) + "</table>"
            "<p>Details per video: <code>errors.jsonl</code>.</p>")
    else:
        parts.append("<p>none</p>")
    parts.append("<h2>Examples</h2>")
    for r in _examples(records, examples):
        jpeg = _frame_jpeg(root / r["video"])
        img = f"<img alt='middle frame' src='data:image/jpeg;base64,{jpeg}'>" if jpeg else "<i>(no frame)</i>"
        parts.append(f"<div class='ex'>{img}<div><b>{e(r['video'])}</b> — overall {e(r['overall']['level'])} "
                     f"({r['overall']['score']:.3f})<p>{e(r['justification'])}</p></div></div>")
    parts.append("</body></html>\n")
    atomic_write_text(out / "report.html", "\n".join(parts))


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def print_summary(manifest: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    c = manifest["counts"]
    table = Table(title=f"s2i generate -> {manifest['output']}")
    for col in ("key", "SRCC", "PLCC", "n"):
        table.add_column(col, justify="right")
    for key, f in manifest["fidelity"].items():
        table.add_row(key, _fmt(f["srcc"]), _fmt(f["plcc"]), str(f["n"]))
    console = Console()
    console.print(table)
    console.print(f"{c['records']} records, {c['errors']} errors ({manifest['errors_by_kind'] or 'none'}), "
                  f"{c['qa']} QA pairs, rewrites {manifest['rewrites']}")
