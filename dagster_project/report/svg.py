"""Small inline SVG charts for the static report: no scripts, no fonts to fetch, readable in any browser offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 560, 180, 32


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[float, float | None]]]],
    y_min: float | None = None,
    y_max: float | None = None,
    reference: tuple[str, float] | None = None,
    y_format: str = "{:.0%}",
    title: str = "",
) -> str:
    """Lines over x in [min x, max x]; None values break a line. `reference` draws a dashed horizontal line."""
    points = [(x, y) for _name, values in series for x, y in values if y is not None]
    if not points:
        return (
            f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}">'
            f'<text x="{PAD}" y="{HEIGHT // 2}">no data yet</text></svg>'
        )
    xs = [x for x, _ in points]
    ys = [y for _, y in points] + ([reference[1]] if reference else [])
    lo = min(ys) if y_min is None else min(y_min, min(ys))
    hi = max(ys) if y_max is None else max(y_max, max(ys))
    if hi == lo:
        hi, lo = hi + 0.5, lo - 0.5
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def sx(x: float) -> float:
        return PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)

    def sy(y: float) -> float:
        return HEIGHT - PAD + (lo - y) / (hi - lo) * (HEIGHT - 2 * PAD)

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>',
        f'<text x="4" y="{sy(hi) + 4:.1f}" class="tick">{escape(y_format.format(hi))}</text>',
        f'<text x="4" y="{sy(lo) + 4:.1f}" class="tick">{escape(y_format.format(lo))}</text>',
    ]
    if reference is not None:
        label, value = reference
        parts.append(
            f'<line x1="{PAD}" y1="{sy(value):.1f}" x2="{WIDTH - PAD}" y2="{sy(value):.1f}" class="reference"/>'
            f'<text x="{WIDTH - PAD - 4}" y="{sy(value) - 4:.1f}" class="tick" text-anchor="end">'
            f"{escape(label)} {escape(y_format.format(value))}</text>"
        )
    for k, (name, values) in enumerate(series):
        segments: list[list[str]] = [[]]
        for x, y in values:
            if y is None:
                segments.append([])
            else:
                segments[-1].append(f"{sx(x):.1f},{sy(y):.1f}")
        for segment in segments:
            if segment:
                coords = " ".join(segment)
                line = f'<polyline class="line s{k % 6}" points="{coords}">'
                parts.append(f"{line}<title>{escape(name)}</title></polyline>")
    parts.append("</svg>")
    return "".join(parts)
