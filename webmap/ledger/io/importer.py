"""Import a ledger file: read, validate, attribute through geo, then write all rows or none.

Everything that can be wrong with a file is found before the first write, and all of it is
reported. The writes then run in one transaction: new issues are inserted with an
``issue.imported`` event holding their snapshot, existing ones (same 编号) are updated through
``webmap.ledger.events.update_issue`` so each changed field is logged with before and after.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from geo.boundaries import LayerSet
from webmap.ledger.events import record_event, snapshot, update_issue
from webmap.ledger.io.attribute import attribute_rows, attribution_record
from webmap.ledger.io.reader import CellError, LedgerFileError, read_ledger
from webmap.ledger.io.rows import COORD_DECIMALS, normalise_source
from webmap.ledger.io.validate import COUNTIES, RowValues, validate_sheet
from webmap.ledger.models import Event, Issue, ProgressUpdate, Responsibility

# test hook: when set, the importer creates this file once every row is written but before the
# commit, then waits, so a test can kill the process inside the open transaction
PAUSE_ENV = "YZMAP_TEST_IMPORT_PAUSE_FILE"
CHUNK = 500  # numbers per IN (...) query


@dataclass
class ImportReport:
    """What an import did or would do."""

    path: str
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # number -> changed fields
    unchanged: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    public: int = 0  # rows that will show on the public page (是否公开 blank or 是)
    unlocated: list[str] = field(default_factory=list)  # "第N行 编号：placed at 县/乡镇 only"

    @property
    def ok(self) -> bool:
        """True when the file had no errors."""
        return not self.errors


def import_ledger(
    session: Session,
    path: str | Path,
    layers: LayerSet,
    *,
    actor: str,
    dry_run: bool = False,
    day: dt.date | None = None,
) -> ImportReport:
    """Import a ledger file in one transaction; on any error write nothing and report them all."""
    report = ImportReport(path=str(path), dry_run=dry_run)
    day = day or dt.date.today()
    try:
        sheet = read_ledger(path)
    except LedgerFileError as exc:
        report.errors = exc.errors
        return report
    rows, errors = validate_sheet(sheet)
    report.rows = len(rows)
    report.warnings += [f"忽略未识别的列：{h}" for h in sheet.ignored_headers]
    clean = [r for r in rows if not any(e.row == r.row for e in errors)]
    places, place_errors = attribute_rows(layers, clean, sheet.headers)
    report.errors = sorted(errors + place_errors, key=lambda e: e.row or 0)
    if report.errors:
        return report
    _note_disclosure_and_places(rows, places, report)
    try:
        _write_rows(session, rows, places, set(sheet.headers), actor, day, report)
        _pause_for_tests()
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _note_disclosure_and_places(rows: list[RowValues], places: dict, report: ImportReport) -> None:
    """Count the rows that become public and list those with no point on the map.

    A row with an address but no coordinates is placed in its county or township only: its
    detail page has no marker, which the importer says before the office publishes it.
    """
    for row in rows:
        v, att = row.values, places[row.row]
        if v.get("is_public") is not False:  # blank means 是: the plan asks to publish progress
            report.public += 1
        if not (att.precision == "coordinates" and att.lon is not None):
            where = att.township_name or att.county_name or "未定位"
            report.unlocated.append(f"第{row.row}行 {v.get('number')}：无坐标，仅定位到{where}")


def _pause_for_tests() -> None:
    """Signal and wait inside the open transaction when the test hook asks for it."""
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(120)


def issue_fields(row: RowValues, att, present: set[str]) -> dict:
    """Return the issue fields a row sets; columns absent from the file leave fields untouched."""
    v = row.values
    out: dict = {}
    simple = {
        "batch": "batch",
        "original_number": "original_number",
        "category": "category",
        "location_text": "location_text",
        "lead_unit": "lead_unit",
        "target": "target",
        "measures": "measures",
        "internal_notes": "internal_notes",
    }
    for src, dst in simple.items():
        if src in present:
            out[dst] = v.get(src)
    out["number"] = v["number"]
    if "source" in present:
        out["source_type"] = normalise_source(v.get("source"))
    out["title"] = v.get("title") or (v.get("description") or "")[:60]
    if "description" in present:
        out["description"] = v.get("description")
    if "partner_units" in present:
        out["partner_units"] = v.get("partner_units") or []
    if "declared_county" in present:
        code = v.get("declared_county")
        out["declared_county"] = COUNTIES[code] if code else None
    if "due_date" in present or "deadline_class" in present:
        out["due_date"], out["deadline_class"] = v.get("due_date"), v.get("deadline_class")
    if "status" in present and v.get("status"):
        out["status"] = v["status"]
    if "progress_pct" in present:
        out["progress"] = int(round(v.get("progress_pct") or 0))
    for src, dst, default in (("is_public", "public", True), ("is_sample", "is_sample", False)):
        if src in present:
            out[dst] = default if v.get(src) is None else v[src]
    out |= _place_fields(v, att)
    return out


def _place_fields(v: dict, att) -> dict:
    """Return geometry, display point and attributed county/township/zone for a row."""
    out = {
        "county_code": att.county_code,
        "county_name": att.county_name,
        "township_code": att.township_code,
        "township_name": att.township_name,
        "protected_area": att.protected_area,
        "zone": att.zone,
        "attribution": attribution_record(att),
    }
    if att.lon is not None and att.lat is not None and att.precision == "coordinates":
        # lon/lat before geometry: set_geometry keeps a display point that is already set
        out["lon"], out["lat"] = round(att.lon, COORD_DECIMALS), round(att.lat, COORD_DECIMALS)
        if v.get("geometry_wkt"):
            import shapely

            out["geometry"] = shapely.from_wkt(v["geometry_wkt"])
        else:
            out["geometry"] = Point(out["lon"], out["lat"])
    else:
        out["lon"] = out["lat"] = out["geometry"] = None
    return out


def _existing(session: Session, numbers: list[str]) -> tuple[dict[str, Issue], dict[str, dt.date]]:
    """Load the issues with these numbers and each number's latest event date."""
    issues: dict[str, Issue] = {}
    latest: dict[str, dt.date] = {}
    for i in range(0, len(numbers), CHUNK):
        part = numbers[i : i + CHUNK]
        stmt = (
            select(Issue)
            .where(Issue.number.in_(part))
            .options(selectinload(Issue.updates), selectinload(Issue.responsibilities))
        )
        issues |= {x.number: x for x in session.scalars(stmt)}
        stmt = (
            select(Event.issue_number, func.max(Event.effective_date))
            .where(Event.issue_number.in_(part))
            .group_by(Event.issue_number)
        )
        latest |= dict(session.execute(stmt).all())
    return issues, latest


def _write_rows(
    session: Session,
    rows: list[RowValues],
    places: dict,
    present: set[str],
    actor: str,
    day: dt.date,
    report: ImportReport,
) -> None:
    """Insert or update every row (the caller commits or rolls back)."""
    numbers = [r.values["number"] for r in rows]
    issues, latest = _existing(session, numbers)
    late = [n for n, d in latest.items() if d > day]
    if late:
        raise LedgerFileError(
            [
                CellError(None, "编号", n, f"已有 {latest[n]} 的记录，导入日期 {day} 不能早于它")
                for n in late
            ]
        )
    for k, row in enumerate(rows, start=1):
        values = issue_fields(row, places[row.row], present)
        issue = issues.get(values["number"])
        if issue is None:
            issue = _insert(session, values, actor, day)
            report.created.append(issue.number)
        else:
            changed = update_issue(
                session,
                issue,
                {k2: v for k2, v in values.items() if k2 != "number"},
                actor=actor,
                date=day,
                kind="issue.reimported",
            )
            if changed:
                report.updated[issue.number] = sorted(changed)
        extra = _sync_children(session, issue, row, present, actor, day)
        if extra and issue.number not in report.created:
            report.updated.setdefault(issue.number, []).extend(extra)
        if issue.number not in report.created and issue.number not in report.updated:
            report.unchanged.append(issue.number)
        if k % CHUNK == 0:
            session.flush()
    session.flush()


def _insert(session: Session, values: dict, actor: str, day: dt.date) -> Issue:
    """Add a new issue and its ``issue.imported`` event carrying the full snapshot."""
    if not values.get("source_type"):
        values["source_type"] = "未注明"
    issue = Issue(
        partner_units=[], progress=0, status="未启动", public=True, sensitive=False, is_sample=False
    )
    geometry = values.pop("geometry", None)
    for name, value in values.items():
        setattr(issue, name, value)
    issue.set_geometry(geometry)
    session.add(issue)
    session.add(
        Event(
            kind="issue.imported",
            actor=actor,
            effective_date=day,
            issue_number=issue.number,
            after=snapshot(issue),
        )
    )
    return issue


def _sync_children(
    session: Session, issue: Issue, row: RowValues, present: set[str], actor: str, day: dt.date
) -> list[str]:
    """Record a new 整改进展 text as a progress update and the 责任领导 as declared leaders."""
    v = row.values
    changed = []
    text = v.get("progress_text")
    if "progress_text" in present and text:
        texts = [u.text for u in issue.updates if u.text]
        if not texts or texts[-1] != text:
            issue.updates.append(
                ProgressUpdate(
                    date=day, percent=issue.progress or 0, text=text, author=None, actor=actor
                )
            )
            changed.append("progress_text")
    if "leader" in present:
        names = [n for n in (v.get("leader") or "").replace("，", "、").split("、") if n.strip()]
        current = [r for r in issue.responsibilities if r.party_kind == "county_leader"]
        if [r.name for r in current] != names:
            for r in current:
                issue.responsibilities.remove(r)
            for name in names:
                issue.responsibilities.append(
                    Responsibility(
                        party_kind="county_leader",
                        name=name.strip(),
                        reason="台账填报的责任领导",
                        source="declared",
                        actor=actor,
                    )
                )
            changed.append("leader")
    if changed and issue.id is not None:
        detail = {"ledger_import": changed}
        if "progress_text" in changed:
            detail["progress_text"] = text
        if "leader" in changed:
            detail["leaders"] = names
        session.flush()
        record_event(
            session,
            "issue.reimported",
            actor=actor,
            effective=day,
            issue_number=issue.number,
            before=None,
            after=detail,
        )
    return changed
