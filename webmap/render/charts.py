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


def line_chart(days: Sequence, series: Sequence[tuple[str, str, Sequence[float | None]]], *,
               title: str, width: int = 560, height: int = 200, step: Sequence[bool] = (),
               unit: str = "") -> Markup:  # fmt: skip
    """Draw lines over dates: ``series`` gives (name, colour, values); ``step`` draws targets.

    A None value leaves a gap. The last value of each series is written at the line's end, so a
    trend can be read against the table beside it (the last point is the table's day).
    """
    left, right, top, bottom = 40, 70, 24, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, _, vals in series for v in vals if v is not None]
    high = max(values, default=0) or 1
    n = max(len(days) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        """Return the canvas position of point ``i`` with value ``v``."""
        return left + plot_w * i / n, top + plot_h * (1 - v / high)

    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="#999"/><text x="{left - 4}" y="{top + 4}" text-anchor="end">{high:g}</text>'
            f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']  # fmt: skip
    if days:
        body.append(f'<text x="{left}" y="{height - 6}">{escape(str(days[0]))}</text>'
                    f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end">'
                    f'{escape(str(days[-1]))}</text>')  # fmt: skip
    legend_x = left
    for k, (name, color, vals) in enumerate(series):
        stepped = k < len(step) and step[k]
        points = []
        for i, v in enumerate(vals):
            if v is None:
                continue
            x, y = xy(i, v)
            if stepped and points:
                points.append(f"{x:.1f},{points[-1].split(',')[1]}")
            points.append(f"{x:.1f},{y:.1f}")
        dash = ' stroke-dasharray="4 3"' if stepped else ""
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} '
                    f'points="{" ".join(points)}"><title>{escape(name)}</title></polyline>')
        last = next((v for v in reversed(vals) if v is not None), None)
        if last is not None:
            x, y = xy(len(vals) - 1, last)
            body.append(f'<text x="{x + 4:.1f}" y="{y + 4:.1f}" fill="{color}">'
                        f'{last:g}{escape(unit)}</text>')  # fmt: skip
        body.append(f'<rect x="{legend_x}" y="4" width="12" height="12" fill="{color}"/>'
                    f'<text x="{legend_x + 16}" y="14">{escape(name)}</text>')
        legend_x += 16 + 13 * len(name) + 12
    return _svg(width, height, body, title)
