"""Issue ↔ ledger row: the one place that says how each template field maps to the model.

Export formats every value as text the importer reads back to the same value, which is what
makes export → import → export give identical files.
"""

from __future__ import annotations

import datetime as dt
import re

import shapely

from webmap.ledger.io.template import COLUMNS
from webmap.ledger.vocabulary import RAG_LABELS, SAMPLE_MARK
from webmap.ledger.workflow import rag

COORD_DECIMALS = 6  # about 0.1 m: finer than any ledger position, stable through a round trip

# source text as officials write it -> the model's source type (other text is kept as written)
SOURCE_ALIASES = {
    "省督察回头看": "回头看",
    "省生态环境保护督察回头看": "回头看",
    "省环保督察回头看": "回头看",
    "自然保护地专项督察": "专项督察",
    "自然保护地生态环境保护专项督察": "专项督察",
    "中央环保督察": "中央督察",
    "中央生态环境保护督察": "中央督察",
    "中央环保督察回头看": "中央督察回头看",
    "中央生态环境保护督察回头看": "中央督察回头看",
    "省环保督察": "省督察",
    "省生态环境保护督察": "省督察",
    "长江经济带警示片": "长江警示片",
    "长江经济带生态环境警示片": "长江警示片",
    "警示片": "长江警示片",
    "省日常督察交办": "省日常交办",
    "省生态环境保护日常督察交办": "省日常交办",
    "市委市政府交办": "市交办",
    "市委、市政府交办": "市交办",
    "市交办问题": "市交办",
}


def normalise_source(text: str | None) -> str | None:
    """Map a source as written in a ledger to the model's source type (unknown text is kept)."""
    if text is None:
        return None
    key = re.sub(r"[\s“”\"]", "", text)
    return SOURCE_ALIASES.get(key, key)


def format_coord(value: float | None) -> str:
    """Write a coordinate with fixed decimals, or nothing."""
    return "" if value is None else f"{value:.{COORD_DECIMALS}f}"


def geometry_wkt(geom) -> str:
    """Return WKT for lines and polygons (points travel as 经度/纬度), rounded like coordinates."""
    if geom is None or geom.geom_type == "Point":
        return ""
    return shapely.to_wkt(geom, rounding_precision=COORD_DECIMALS, trim=True)


def issue_leaders(issue) -> list[str]:
    """Return the county leaders answering for an issue, in the order they were recorded."""
    return [r.name for r in issue.responsibilities if r.party_kind == "county_leader"]


def issue_values(issue, day: dt.date, amber_days: int) -> dict[str, object]:
    """Return the typed values of every template field for one issue (RAG judged on ``day``)."""
    rag_label = RAG_LABELS[rag(issue.status, issue.due_date, day, amber_days)]
    return {
        "number": issue.number,
        "source": issue.source_type,
        "batch": issue.batch,
        "original_number": issue.original_number,
        "title": issue.title,
        "description": issue.description,
        "category": issue.category,
        "location_text": issue.location_text,
        "lon": issue.lon,
        "lat": issue.lat,
        "datum": "WGS84" if issue.lon is not None else None,
        "declared_county": issue.declared_county,
        "lead_unit": issue.lead_unit,
        "partner_units": list(issue.partner_units or []),
        "leader": issue_leaders(issue),
        "target": issue.target,
        "measures": issue.measures,
        "due_date": issue.due_date,
        "deadline_class": issue.deadline_class,
        "progress_text": _latest_progress_text(issue),
        "status": issue.status,
        "progress_pct": issue.progress,
        "is_public": issue.public,
        "internal_notes": issue.internal_notes,
        "is_sample": issue.is_sample,
        "geometry_wkt": issue.geometry,
        "county_name": issue.county_name,
        "township_name": issue.township_name,
        "protected_area": issue.protected_area,
        "zone": issue.zone,
        "rag": rag_label,
    }


def _latest_progress_text(issue) -> str | None:
    """Return the text of the latest progress update (the ledger's 整改进展 cell)."""
    texts = [u.text for u in issue.updates if u.text]
    return texts[-1] if texts else None


def format_cell(field: str, value: object) -> str:
    """Format one typed value as the text the importer reads back to the same value."""
    if value is None:
        return ""
    if field in ("lon", "lat"):
        return format_coord(value)
    if field == "geometry_wkt":
        return geometry_wkt(value)
    if field == "is_sample":
        return SAMPLE_MARK if value else ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def issue_row(issue, day: dt.date, amber_days: int) -> list[str]:
    """Return one issue as ledger cells in template column order."""
    values = issue_values(issue, day, amber_days)
    return [format_cell(c.field, values.get(c.field)) for c in COLUMNS]


def headers() -> list[str]:
    """Return the export header row."""
    return [c.header for c in COLUMNS]
