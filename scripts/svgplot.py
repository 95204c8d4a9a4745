"""A small SVG line-chart writer for the model cards and the study (no matplotlib: one less
package to install, and the output is plain text that diffs well).

    svg = chart([panel, ...], width=720, height=300)
    panel = {"title": str, "xlabel": str, "ylabel": str,
             "xticks": [(x, label), ...]        # optional; default: "nice" numeric ticks
             "hline": y,                         # optional horizontal reference line (e.g. 0)
             "series": [{"label": str, "x": [...], "y": [...], "color": "#rrggbb",
                         "lo": [...], "hi": [...],   # optional error bars
                         "dash": bool, "marker": bool}]}
Panels sit side by side with the same height.
"""
import math
from xml.sax.saxutils import escape

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def nice_ticks(lo, hi, n=5):
    """About n round-numbered ticks covering [lo, hi]."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(v):
    return f"{v:g}" if abs(v) >= 1e-9 else "0"


def _panel(p, x0, y0, w, h):
    out = []
    left, right, top, bottom = 52, 10, 26, 42
    pw, ph = w - left - right, h - top - bottom
    xs = [x for s in p["series"] for x in s["x"]]
    ys = [y for s in p["series"] for y in s["y"]]
    ys += [v for s in p["series"] for v in s.get("lo", []) + s.get("hi", [])]
    if "hline" in p:
        ys.append(p["hline"])
    yt = nice_ticks(min(ys), max(ys))
    ylo, yhi = yt[0], yt[-1]
    if p.get("xticks"):
        xt = p["xticks"]
        xlo, xhi = min(x for x, _ in xt) - 0.5, max(x for x, _ in xt) + 0.5
    else:
        ticks = nice_ticks(min(xs), max(xs))
        xt = [(t, _fmt(t)) for t in ticks]
        xlo, xhi = ticks[0], ticks[-1]

    def X(v):
        return x0 + left + (v - xlo) / (xhi - xlo) * pw

    def Y(v):
        return y0 + top + (1 - (v - ylo) / (yhi - ylo)) * ph

    out.append(f'<text x="{x0 + left + pw / 2:.1f}" y="{y0 + 16}" text-anchor="middle" '
               f'font-weight="bold">{escape(p.get("title", ""))}</text>')
    for t in yt:
        out.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" '
                   f'stroke="#e5e5e5"/>')
        out.append(f'<text x="{x0 + left - 5}" y="{Y(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for v, label in xt:
        out.append(f'<line x1="{X(v):.1f}" x2="{X(v):.1f}" y1="{y0 + top + ph}" '
                   f'y2="{y0 + top + ph + 4}" stroke="#333"/>')
        out.append(f'<text x="{X(v):.1f}" y="{y0 + top + ph + 17}" text-anchor="middle">'
                   f'{escape(str(label))}</text>')
    out.append(f'<rect x="{x0 + left}" y="{y0 + top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#333"/>')
    if "hline" in p:
        out.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{Y(p["hline"]):.1f}" '
                   f'y2="{Y(p["hline"]):.1f}" stroke="#777" stroke-dasharray="2,3"/>')
    out.append(f'<text x="{x0 + left + pw / 2:.1f}" y="{y0 + h - 6}" text-anchor="middle">'
               f'{escape(p.get("xlabel", ""))}</text>')
    out.append(f'<text transform="translate({x0 + 13},{y0 + top + ph / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(p.get("ylabel", ""))}</text>')
    for k, s in enumerate(p["series"]):
        color = s.get("color", PALETTE[k % len(PALETTE)])
        pts = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in zip(s["x"], s["y"]))
        dash = ' stroke-dasharray="5,3"' if s.get("dash") else ""
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        for i, (x, y) in enumerate(zip(s["x"], s["y"])):
            if "lo" in s:
                lo, hi = Y(s["lo"][i]), Y(s["hi"][i])
                out.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{lo:.1f}" y2="{hi:.1f}" '
                           f'stroke="{color}"/>')
                for yy in (lo, hi):
                    out.append(f'<line x1="{X(x) - 4:.1f}" x2="{X(x) + 4:.1f}" y1="{yy:.1f}" '
                               f'y2="{yy:.1f}" stroke="{color}"/>')
            if s.get("marker", True):
                out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{color}"/>')
        # legend, top right, one line per series
        ly = y0 + top + 14 + 16 * k
        lx = x0 + left + pw - 150
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
                   f'stroke-width="2"{dash}/>')
        out.append(f'<text x="{lx + 23}" y="{ly}">{escape(s["label"])}</text>')
    return out


def chart(panels, width=720, height=300):
    w = width / len(panels)
    body = []
    for i, p in enumerate(panels):
        body += _panel(p, i * w, 0, w, height)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")
