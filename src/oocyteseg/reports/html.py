"""Self-contained HTML building blocks: tables, embedded images (data URIs), the page with inline CSS.

Nothing in the page points outside the file: no links, no fonts, no scripts from elsewhere. A tiny
inline script records whether every embedded image decoded (`<body data-images="ok n/n">`), which
the browser test reads back.
"""

from __future__ import annotations

import base64
import html
import math

import cv2
import numpy as np
import pandas as pd

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto;
       max-width: 1180px; color: #1c2430; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #dde3ea; padding-bottom: 4px;
margin-top: 1.8em; } h3 { margin-bottom: 0.4em; }
.meta { color: #5a6675; font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.88em; }
th, td { border: 1px solid #d5dbe2; padding: 3px 8px; text-align: right; }
th { background: #eef2f6; } td:first-child, th:first-child { text-align: left; }
tr.avg td { font-weight: 600; background: #f7f9fb; }
img.fig { max-width: 100%; border: 1px solid #e3e7ec; margin: 4px 0; }
.figs { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.thumbs { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; width: 244px; font-size: 0.78em; color: #3a4654; }
figure img { width: 240px; border: 2px solid #d9534f; }
pre { background: #f4f6f8; padding: 10px; overflow-x: auto; font-size: 0.82em; white-space: pre-wrap; }
.note { color: #5a6675; font-size: 0.88em; }
"""

CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (im) { return im.complete && im.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', (ok === imgs.length ? 'ok ' : 'broken ') + ok + '/' + imgs.length);
});
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt(value: object, decimals: int = 3) -> str:
    """A table cell: floats rounded, NaN/None empty, the rest as text."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else f"{float(value):.{decimals}f}"
    return esc(value)


def table_html(df: pd.DataFrame, decimals: int = 3, index: bool = True, avg_rows: tuple[str, ...] = ("AVG", "Average"),
               index_name: str = "") -> str:
    """An HTML table; two-level column headers (MultiIndex) become a grouped header row."""
    head = "<thead>"
    if isinstance(df.columns, pd.MultiIndex):
        groups: list[tuple[str, int]] = []
        for top, _ in df.columns:
            if groups and groups[-1][0] == top:
                groups[-1] = (top, groups[-1][1] + 1)
            else:
                groups.append((top, 1))
        head += "<tr>" + ("<th></th>" if index else "") + "".join(
            f'<th colspan="{n}">{esc(g)}</th>' for g, n in groups) + "</tr>"
        head += "<tr>" + (f"<th>{esc(index_name)}</th>" if index else "") + "".join(
            f"<th>{esc(sub)}</th>" for _, sub in df.columns) + "</tr>"
    else:
        head += "<tr>" + (f"<th>{esc(index_name)}</th>" if index else "") + "".join(
            f"<th>{esc(c)}</th>" for c in df.columns) + "</tr>"
    head += "</thead>"
    body = []
    for idx, row in df.iterrows():
        cls = ' class="avg"' if str(idx) in avg_rows else ""
        cells = (f"<td>{esc(idx)}</td>" if index else "") + "".join(f"<td>{fmt(v, decimals)}</td>" for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def png_img(data: bytes, alt: str, css_class: str = "fig") -> str:
    """An <img> with the PNG embedded as a base64 data URI."""
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img class="{css_class}" alt="{esc(alt)}" src="data:image/png;base64,{b64}">'


def jpeg_img(rgb: np.ndarray, alt: str, width: int = 240, quality: int = 82) -> str:
    """An <img> of an RGB array, downscaled to `width` px and embedded as a JPEG data URI."""
    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    b64 = base64.b64encode(buf.tobytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/jpeg;base64,{b64}">'


def page(title: str, body: str) -> str:
    """The whole document: inline CSS, the body, the image check script."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
            f"<body>\n{body}\n<script>{CHECK_SCRIPT}</script>\n</body></html>\n")
