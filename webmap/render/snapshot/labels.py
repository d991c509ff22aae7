"""Map labels that do not overlap: county names, protected-area names and issue numbers placed
greedily, most important first, each at the first free spot around its anchor.

A label that finds no free spot beside its anchor moves further out and gets a leader line to
it. Sizes are measured with the packaged font (``webmap.render.pdf_tables.text_width``), so
the boxes are the ones drawn. adjustText would do this by iterating forces; a greedy pass is
enough for a few dozen labels, is deterministic and never moves a label off its anchor's side.
"""

from __future__ import annotations

from dataclasses import dataclass

from webmap.render.pdf_tables import em_height, text_width

LABEL_GID = "yzmap-label"  # set on each drawn label, so tests can find them
GAP = 1.0  # points kept free between two labels
# directions tried around a point anchor: the four corners first, then the four sides
AROUND = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]


@dataclass
class Label:
    """A label to place: its anchor (data coordinates), text, size and whether it is a point's."""

    x: float
    y: float
    text: str
    fontsize: float
    color: str = "#222222"
    point: bool = True  # beside a marker (issue number) or centred on an area (name)
    zorder: float = 7


@dataclass
class Placed:
    """Where a label went, as an offset in points from its anchor, and whether it needs a leader."""

    label: Label
    dx: float
    dy: float
    leader: bool = False


def _box(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    """Return (x0, y0, x1, y1) of a box centred on (cx, cy)."""
    return cx - w / 2 - GAP, cy - h / 2 - GAP, cx + w / 2 + GAP, cy + h / 2 + GAP


def _overlaps(a, b) -> bool:
    """Say whether two boxes overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(labels: list[Label], extent, size_pt: tuple[float, float],
                 marker_pt: float = 4.0, obstacles=()) -> list[Placed]:  # fmt: skip
    """Place labels in order without overlap inside an axes of ``size_pt`` showing ``extent``.

    ``extent`` is (minx, maxx, miny, maxy) in data units; labels whose anchor is outside are
    left out. Area names are tried centred, then nudged; point labels around the marker, then
    further out with a leader line; a label with no free spot at all is left out. Labels also
    keep off the markers at ``obstacles`` (data coordinates).
    """
    minx, maxx, miny, maxy = extent
    sx, sy = size_pt[0] / (maxx - minx), size_pt[1] / (maxy - miny)
    taken = [_box((x - minx) * sx, (y - miny) * sy, marker_pt * 1.6, marker_pt * 1.6)
             for x, y in obstacles]  # fmt: skip
    labels_taken: list[tuple[float, float, float, float]] = []
    out = []
    for lab in labels:
        ax_, ay_ = (lab.x - minx) * sx, (lab.y - miny) * sy
        if not (0 <= ax_ <= size_pt[0] and 0 <= ay_ <= size_pt[1]):
            continue
        w, h = text_width(lab.text, lab.fontsize), em_height() * lab.fontsize
        for dx, dy, leader in _candidates(lab, w, h, marker_pt):
            box = _box(ax_ + dx, ay_ + dy, w, h)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= size_pt[0] and box[3] <= size_pt[1]
            # area names sit under the markers (lower zorder); only issue numbers avoid them
            others = (*taken, *labels_taken) if lab.point else labels_taken
            if inside and not any(_overlaps(box, t) for t in others):
                labels_taken.append(box)
                out.append(Placed(lab, dx, dy, leader))
                break
    return out


def _candidates(lab: Label, w: float, h: float, marker: float):
    """Yield (dx, dy, leader) offsets in points to try, nearest first."""
    if not lab.point:
        yield 0.0, 0.0, False
        for step in (0.6, 1.2, 1.8):
            for ux, uy in ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1)):
                yield ux * step * w / 2, uy * step * h, False
        return
    for ring in range(4):
        # clear of the marker's own box (obstacles are 1.6 marker wide) on ring 0, then outwards
        pad = marker * 0.8 + 2 * GAP + 0.5 + ring * marker * 2
        for ux, uy in AROUND:
            dx = ux * (w / 2 + pad + ring * w / 2)
            dy = uy * (h / 2 + pad + ring * h)
            yield dx, dy, ring > 0
