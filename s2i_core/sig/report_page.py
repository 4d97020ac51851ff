"""The static parts of report.html: its style sheet and the script that draws the per-video table.

The table is drawn from the JSON embedded in the page, one page of rows at a time, so a report of 10,000 videos
opens as fast as one of ten. No network: everything the page needs is in the file.
"""

LEVEL_COLOURS = {"bad": "#c0392b", "poor": "#e67e22", "fair": "#f1c40f", "good": "#7cb342", "excellent": "#2e7d32"}

CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;color:#222}"
    "h2{margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}"
    "th{background:#f4f4f4}.kv th{text-align:left}.kv td{text-align:left;font-family:monospace}"
    ".dists{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:.8em}"
    ".dist{border:1px solid #eee;padding:.4em}.dist h3{margin:0 0 .2em;font-size:.95em}"
    ".dist svg{display:inline-block;vertical-align:top}"
    # frames keep their own aspect ratio: never stretched by the row they sit in
    "img.frame{display:block;align-self:flex-start;flex:none;height:auto;object-fit:contain}"
    ".ex{display:flex;gap:1em;margin:1em 0;border-top:1px solid #ddd;padding-top:1em;align-items:flex-start}"
    ".ex p{white-space:pre-wrap;margin:.3em 0 0}"
    "#videos td{padding:2px 4px}#videos td.lv{color:#fff;font-size:.85em;text-align:center;min-width:2.6em}"
    "#videos{font-size:.85em}#videos td.name{text-align:left;min-width:13em;max-width:22em;overflow-wrap:anywhere}"
    "#videos th{cursor:pointer;font-size:.8em;white-space:nowrap}#videos th.sorted{background:#dde8f6}"
    "#videos td.thumb{padding:1px;width:84px}#videos img.frame{max-width:80px;max-height:60px;width:auto}"
    ".controls{margin:.5em 0;display:flex;gap:.8em;flex-wrap:wrap;align-items:center}"
    "#detail{border:2px solid #9ab;padding:.8em;margin:1em 0}#detail p{white-space:pre-wrap}"
    "#detail:empty{display:none}.qa dt{font-weight:600;margin-top:.4em}.qa dd{margin-left:1em}"
    ".errors td,.errors th{text-align:left}"
    + "".join(f".lv-{lv}{{background:{c}}}" for lv, c in LEVEL_COLOURS.items())
    + ".lv-fair{color:#222!important}"
)

# Reads the embedded JSON {keys, levels, rows, thumbs}; each row is {i, video, levels: {key: level}, scores:
# {key: score}, justification, qa}; thumbs maps a row's i to [base64 JPEG, width, height]. Sorting, filtering and paging work on an index array; only the visible page is drawn.
SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById('s2i-data').textContent);
  const LEVELS = data.levels, KEYS = data.keys, PAGE = 50;
  let order = data.rows.map((r, i) => i), page = 0, sortKey = null, sortDir = 1;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  const levelOf = (r, k) => r.levels[k] || '';
  function cell(level, score) {
    if (!level) return '<td class="lv">—</td>';
    return '<td class="lv lv-' + level + '" title="' + (score === null || score === undefined ? '' : score.toFixed(3)) +
      '" data-level="' + level + '">' + level + '</td>';
  }
  function thumb(r) {
    const t = data.thumbs[r.i];
    return t ? '<img class="frame" alt="frame" width="' + t[1] + '" height="' + t[2] + '" src="data:image/jpeg;base64,' + t[0] + '">' : '';
  }
  function apply() {
    const key = $('f-key').value, level = $('f-level').value, text = $('f-text').value.toLowerCase();
    order = [];
    data.rows.forEach((r, i) => {
      if (level && levelOf(r, key) !== level) return;
      if (text && !r.video.toLowerCase().includes(text)) return;
      order.push(i);
    });
    if (sortKey) {
      const value = (r) => sortKey === 'video' ? r.video : (r.scores[sortKey] === undefined ? -1 : r.scores[sortKey]);
      order.sort((a, b) => {
        const x = value(data.rows[a]), y = value(data.rows[b]);
        return (x < y ? -1 : x > y ? 1 : a - b) * sortDir;
      });
    }
    page = 0;
    draw();
  }
  function draw() {
    const pages = Math.max(1, Math.ceil(order.length / PAGE));
    page = Math.min(page, pages - 1);
    const rows = order.slice(page * PAGE, (page + 1) * PAGE).map((i) => {
      const r = data.rows[i];
      return '<tr data-video="' + esc(r.video) + '"><td class="thumb">' + thumb(r) + '</td><td class="name"><a href="#video-' + r.i +
        '">' + esc(r.video) + '</a></td>' + KEYS.map((k) => cell(levelOf(r, k), r.scores[k])).join('') + '</tr>';
    });
    $('videos').tBodies[0].innerHTML = rows.join('');
    $('page-info').textContent = order.length + ' of ' + data.rows.length + ' videos; page ' + (page + 1) + ' of ' + pages;
    $('prev').disabled = page === 0;
    $('next').disabled = page >= pages - 1;
  }
  function detail() {
    const m = /^#video-(\d+)$/.exec(location.hash), box = $('detail');
    if (!m || !data.rows[+m[1]]) { box.innerHTML = ''; return; }
    const r = data.rows[+m[1]];
    const levels = KEYS.map((k) => '<tr><th>' + esc(k.replace(/_/g, ' ')) + '</th>' + cell(levelOf(r, k), r.scores[k]) +
      '<td>' + (r.scores[k] === undefined ? '—' : r.scores[k].toFixed(3)) + '</td></tr>').join('');
    const qa = r.qa.map((q) => '<dt>' + esc(q.question) + ' <small>(' + esc(q.type) + ')</small></dt><dd>' + esc(q.answer) + '</dd>').join('');
    box.innerHTML = '<h3>' + esc(r.video) + '</h3><div class="ex">' + thumb(r) + '<table id="detail-levels">' + levels +
      '</table><div><b>Justification</b><p>' + esc(r.justification) + '</p></div></div><b>QA (' + r.qa.length +
      ')</b><dl class="qa">' + qa + '</dl>';
  }
  $('videos').tHead.addEventListener('click', (ev) => {
    const th = ev.target.closest('th');
    if (!th || !th.dataset.key) return;
    sortDir = sortKey === th.dataset.key ? -sortDir : (th.dataset.key === 'video' ? 1 : -1);
    sortKey = th.dataset.key;
    document.querySelectorAll('#videos th').forEach((h) => h.classList.toggle('sorted', h === th));
    apply();
  });
  ['f-key', 'f-level'].forEach((id) => $(id).addEventListener('change', apply));
  $('f-text').addEventListener('input', apply);
  $('prev').addEventListener('click', () => { page--; draw(); });
  $('next').addEventListener('click', () => { page++; draw(); });
  window.addEventListener('hashchange', detail);
  apply();
  detail();
})();
"""
