"""What a legend says: RAG colours and status shapes, the same on the web map and on paper."""

from __future__ import annotations

from webmap.ledger.vocabulary import (
    RAG_COLORS,
    RAG_LEGEND,
    RAGS,
    SHAPE_LABELS,
    STATUS_SHAPES,
    STATUSES,
)


def status_shape(status: str) -> str:
    """Return the marker shape of a status (circle for one the vocabulary does not know)."""
    return STATUS_SHAPES.get(status, "circle")


def legend_items() -> dict:
    """Return the legend: (colour, label) per RAG class and (symbol, statuses) per shape.

    >>> legend_items()["status"][3]
    ('◆', '初审、公示、申请、核查')
    """
    by_shape: dict[str, list[str]] = {}
    for status in STATUSES:
        by_shape.setdefault(status_shape(status), []).append(status)
    return {
        "rag": [(RAG_COLORS[k], RAG_LEGEND[k]) for k in RAGS],
        "status": [(SHAPE_LABELS[shape], "、".join(codes)) for shape, codes in by_shape.items()],
        "shapes": {s: status_shape(s) for s in STATUSES},
    }
