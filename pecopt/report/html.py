"""The HTML page: one self-contained file with plotly.js embedded once and no network use.

plotly.js (4.8 MB) and the figures travel gzipped and base64-encoded (about 1.9 MB and a
fifth of their JSON): a small loader unpacks them with the browser's own
``DecompressionStream``, runs plotly.js and draws each figure with ``Plotly.newPlot``; a
figure inside a hidden section (another variant or point) is drawn when its section is
chosen. The shared plotly template is stored once. When every visible figure has drawn,
``window.pecoptReady`` resolves to their count.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

NA = '<p class="na">n/a</p>'

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
header { background: #24425e; color: #fff; padding: 14px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 1.5em; }
header p { margin: 2px 0; font-size: 0.92em; opacity: 0.9; }
main { padding: 8px 28px 40px 28px; max-width: 1400px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px; }
table { border-collapse: collapse; font-size: 0.92em; margin: 8px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.yes, b.yes { color: #1a7f37; font-weight: 600; }
td.no, b.no { color: #cf222e; font-weight: 600; }
.delta { color: #57606a; font-size: 0.88em; }
.note { color: #57606a; font-size: 0.9em; }
.na { color: #57606a; font-style: italic; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 8px; }
.pecopt-fig { width: 100%; min-height: 200px; }
.row { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
.row > div { max-width: 560px; }
.row > div.wide { flex: 1 1 360px; max-width: none; min-width: 360px; }
.row > div.headline { max-width: 900px; }
.headline table { font-size: 0.86em; } .headline td, .headline th { padding: 3px 7px; }
.headline td:first-child { min-width: 170px; max-width: 230px; }
.headline .delta { white-space: nowrap; font-size: 0.84em; }
.headline td.num, .headline td.yes { white-space: nowrap; }
ul.note { margin: 4px 0 0 0; padding-left: 18px; }
code.col { color: #57606a; font-size: 0.85em; }
details { margin: 16px 0; } details > summary { cursor: pointer; font-weight: 600; }
details table { font-size: 0.85em; }
.picker { margin: 16px 0; font-size: 1.05em; }
"""

_LOADER = """
(function () {
  function unpack(id) {
    var b = atob(document.getElementById(id).textContent.trim());
    var u = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { u[i] = b.charCodeAt(i); }
    var s = new Blob([u]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(s).text();
  }
  var figs = null, template = null;
  var config = {displaylogo: false, responsive: true, typesetMath: false};
  var loaded = Promise.all([unpack("pecopt-plotly"), unpack("pecopt-figures")]).then(
    function (texts) {
      var s = document.createElement("script");
      s.text = texts[0];
      document.head.appendChild(s);
      figs = JSON.parse(texts[1]);
      template = figs["_template"];
    });
  function draw(root) {
    var jobs = [];
    root.querySelectorAll("div.pecopt-fig").forEach(function (div) {
      if (div.dataset.drawn || div.closest("[hidden]")) { return; }
      var f = figs[div.dataset.fig];
      f.layout.template = template;
      div.dataset.drawn = "1";
      jobs.push(Plotly.newPlot(div, f.data, f.layout, config));
    });
    return Promise.all(jobs);
  }
  var picker = document.getElementById("pecopt-member");
  if (picker) {
    picker.addEventListener("change", function () {
      document.querySelectorAll("section.pecopt-member").forEach(function (s) {
        s.hidden = s.dataset.member !== picker.value;
      });
      window.pecoptReady = loaded.then(function () { return draw(document); })
        .then(function (done) { return done.length; });
    });
  }
  window.pecoptReady = loaded.then(function () { return draw(document); })
    .then(function (done) { return done.length; });
})();
"""


def esc(x: object) -> str:
    """Text escaped for HTML."""
    return html.escape(str(x), quote=True)


def number(v: float | None, unit: str = "") -> str:
    """A value for a table cell: thousands separators, ratios as percent, None as n/a."""
    if v is None or v != v:
        return "n/a"
    if unit == "%":
        return _no_minus_zero(f"{v:.1%}")
    if abs(v) >= 100:
        return _no_minus_zero(f"{v:,.0f}")
    return _no_minus_zero(f"{v:,.3g}")


def _no_minus_zero(text: str) -> str:
    """``-0``, ``-0.0 %``: a value that rounds to zero is shown without a sign."""
    return text[1:] if re.fullmatch(r"-0(\.0*)?%?", text) else text


def table(
    header: list[str], rows: list[list[str]], numeric_from: int = 1, wrap: bool = False
) -> str:
    """An HTML table; ``rows`` hold ready HTML; columns from ``numeric_from`` align right;
    ``wrap``: long header names may break after an underscore."""
    head = "".join(f"<th>{esc(h).replace('_', '_<wbr>') if wrap else esc(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            cls = ' class="num"' if i >= numeric_from else ""
            if c.startswith("<td"):
                cells.append(c)
            else:
                cells.append(f"<td{cls}>{c}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Figures:
    """Collects figures as JSON under unique ids; :meth:`div` gives the placeholder."""

    def __init__(self) -> None:
        self.json: dict[str, str] = {}
        self.template: str | None = None

    def div(self, fid: str, fig: go.Figure | None) -> str:
        """The figure's placeholder ``<div>``, or "n/a" for ``None``."""
        if fig is None:
            return NA
        if fid in self.json:
            raise ValueError(f"duplicate figure id {fid}")
        _readable(fig)
        d = fig.to_plotly_json()
        _single_precision(d["data"])
        tmpl = d["layout"].pop("template", None)
        if self.template is None and tmpl is not None:
            self.template = pio.json.to_json_plotly(tmpl)
        self.json[fid] = pio.json.to_json_plotly({"data": d["data"], "layout": d["layout"]})
        return f'<div class="pecopt-fig" id="fig-{esc(fid)}" data-fig="{esc(fid)}"></div>'


def _readable(fig: go.Figure) -> None:
    """Titles at the left (clear of plotly's toolbar at the right) and axes that make room
    for their tick labels and titles."""
    if fig.layout.title.text:
        fig.update_layout(title_x=0.0, title_xref="paper", title_xanchor="left")
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)


def _single_precision(traces: list[dict[str, object]]) -> None:
    """Float arrays of the traces as float32: 7 digits, more than a chart shows, in half
    the bytes of plotly's binary arrays."""
    for t in traces:
        for k, v in t.items():
            if isinstance(v, np.ndarray) and v.dtype == np.float64:
                t[k] = v.astype(np.float32)


def _packed(data: bytes) -> str:
    """``data`` gzipped (no time stamp: same input, same bytes) and base64-encoded."""
    return base64.b64encode(gzip.compress(data, compresslevel=9, mtime=0)).decode("ascii")


@functools.cache
def _plotly_packed() -> str:
    return _packed(get_plotlyjs().encode())


def page(title: str, header_html: str, body_html: str, figures: Figures) -> str:
    """The whole document: styles, the body, plotly.js and the figure data (both packed)
    and the loader."""
    payload = "{" + ",".join(_parts(figures)) + "}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n"
        f"<body><header>{header_html}</header><main>{body_html}</main>\n"
        '<script type="application/gzip;base64" id="pecopt-plotly">'
        f"{_plotly_packed()}</script>\n"
        '<script type="application/gzip;base64" id="pecopt-figures">'
        f"{_packed(payload.encode())}</script>\n"
        f"<script>{_LOADER}</script></body></html>\n"
    )


def _parts(figures: Figures) -> list[str]:
    parts = [f"{json.dumps(k)}:{v}" for k, v in figures.json.items()]
    parts.append(f'"_template":{figures.template or "{}"}')
    return parts


def cell(text: str, cls: str) -> str:
    """A ``<td>`` with a class (``yes``, ``no``, ``num``)."""
    return f'<td class="{cls}">{text}</td>'
