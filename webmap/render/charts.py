"""Charts drawn on the server as inline SVG: no chart library, nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ROW_H = 22
LABEL_W = 130
BAR_W = 320
VALUE_W = 70


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    """Wrap SVG elements in an accessible ``<svg>`` root."""
    head = (f'<svg class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>')
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, color: str = "#2171b5",
              max_value: float | None = None, percent: bool = False) -> Markup:
    """Draw horizontal bars, one per (label, value) row."""
    top = max_value or max((v for _, v in rows), default=0) or 1
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * ROW_H
        w = BAR_W * (value / top) if value else 0
        text = f"{value:.0%}" if percent else f"{value:g}"
        body.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                    f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
                    f'fill="{color}"><title>{escape(label)}：{escape(text)}</title></rect>'
                    f'<text x="{LABEL_W + w + 4:.1f}" y="{y + 15}">{escape(text)}</text>')
    return _svg(LABEL_W + BAR_W + VALUE_W, max(len(rows), 1) * ROW_H, body, title)


def stacked_chart(rows: Sequence[tuple[str, Sequence[float]]], *, title: str,
                  series: Sequence[tuple[str, str]]) -> Markup:
    """Draw stacked horizontal bars; ``series`` gives (name, colour) for each stacked value."""
    top = max((sum(vals) for _, vals in rows), default=0) or 1
    body = []
    for i, (label, values) in enumerate(rows):
        y = i * ROW_H + 20
        x = float(LABEL_W)
        body.append(
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        for (name, color), value in zip(series, values, strict=True):
            w = BAR_W * value / top
            if w > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_H - 6}" '
                            f'fill="{color}"><title>{escape(label)} {escape(name)}：{value:g}'
                            f'</title></rect>')
            x += w
        body.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{sum(values):g}</text>')
    legend_x = LABEL_W
    for name, color in series:
        body.append(f'<rect x="{legend_x}" y="4" width="12" height="12" fill="{color}"/>'
                    f'<text x="{legend_x + 16}" y="14">{escape(name)}</text>')
        legend_x += 16 + 14 * len(name) + 12
    return _svg(LABEL_W + BAR_W + VALUE_W, max(len(rows), 1) * ROW_H + 24, body, title)
