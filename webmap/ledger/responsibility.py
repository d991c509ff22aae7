"""Who answers for an issue, and why: county by attribution, units by rule, leaders by roster.

- County (属地): from a ``geo`` attribution (``geo.locate.locate_record`` on the issue's geometry,
  point or address when available, or an ``Attribution`` passed in); else the county already on
  the issue (declared in the ledger).
- Units: the rules table (category × county, ``*`` = any). The lead unit comes from the most
  specific matching rule that names one — (category, county) > (category, *) > (*, county) >
  (*, *); a rule with an empty lead only adds partners — and the partner units are the union over
  every matching rule (管行业必须管环保: the sector departments of the category join the county
  government that leads by 属地), without the lead.
- Leaders: the city leader supervising the county (市级领导包县) and the county leader owning the
  case (县级领导包案), from roster lines valid on the issue's date.
- A manual override (with reason and actor) replaces one kind of party and survives re-assignment.
- The rules table is edited through ``webmap.ledger.rules.set_rule``; the shipped default units
  and rules (``load_defaults``) are in ``webmap.ledger.responsibility_defaults``.
Every party is stored as a ``Responsibility`` row with its reason, so ``explain`` can say why.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from geo.boundaries import LayerSet
from geo.locate import locate_record
from geo.models import Attribution
from webmap.ledger.events import LedgerError, update_issue
from webmap.ledger.filters import COUNTIES, resolve_county
from webmap.ledger.models import ANY, Issue, LeaderAssignment, Responsibility, ResponsibilityRule
from webmap.ledger.vocabulary import PARTY_KIND_LABELS, PARTY_KINDS


@dataclass(frozen=True)
class Reason:
    """Why one party answers for an issue."""

    party_kind: str
    name: str
    source: str  # attribution | declared | rule | roster | override
    reason: str
    code: str | None = None
    overridden: bool = False
    actor: str | None = None

    @property
    def label(self) -> str:
        """Return the Chinese name of the party kind."""
        return PARTY_KIND_LABELS.get(self.party_kind, self.party_kind)


def attribute_issue(issue: Issue, layers: LayerSet) -> Attribution:
    """Attribute an issue with ``geo.locate.locate_record`` against the layers in use."""
    geom = (
        issue.geometry
        if issue.geometry is not None and issue.geometry.geom_type != "Point"
        else None
    )
    x, y = (issue.lon, issue.lat) if geom is None else (None, None)
    return locate_record(
        layers,
        x=x,
        y=y,
        geometry=geom,
        address=issue.location_text,
        declared_county=issue.declared_county,
    )


def _county_reason(issue: Issue, att: Attribution | None) -> Reason | None:
    """Choose the county: attribution first, then what the ledger declared."""
    if att is not None and att.county_code:
        why = "；".join(att.evidence) or f"位置落在{att.county_name}（{att.precision}）"
        return Reason(
            "county",
            att.county_name or COUNTIES.get(att.county_code, att.county_code),
            "attribution",
            why,
            code=att.county_code,
        )
    code = issue.county_code or (
        resolve_county(issue.declared_county) if issue.declared_county else None
    )
    if code:
        name = issue.county_name or COUNTIES.get(code, code)
        return Reason(
            "county", name, "declared", f"无法由位置确定，采用台账填报的县区“{name}”", code=code
        )
    return None


def matching_rules(session: Session, category: str | None, county_code: str | None) -> list:
    """Return the rules matching a category and county, most specific first."""
    stmt = select(ResponsibilityRule).where(
        ResponsibilityRule.category.in_([ANY] + ([category] if category else [])),
        ResponsibilityRule.county_code.in_([ANY] + ([county_code] if county_code else [])),
    )

    def rank(rule):
        """Sort key: exact category beats exact county beats wildcards."""
        return (rule.category == ANY, rule.county_code == ANY)

    return sorted(session.scalars(stmt), key=rank)


def _rule_reasons(rules: list) -> list[Reason]:
    """Turn matching rules into the lead-unit reason and partner-unit reasons."""
    leads = [r for r in rules if r.lead_unit]
    if not leads:
        return []
    lead = leads[0]
    where = "类别「{}」× 县区「{}」"
    out = [
        Reason(
            "lead_unit",
            lead.lead_unit,
            "rule",
            "规则 "
            + where.format(lead.category, COUNTIES.get(lead.county_code, lead.county_code))
            + " 指定牵头单位",
        )
    ]
    seen = {lead.lead_unit}
    for rule in rules:
        for unit in rule.partner_units or []:
            if unit not in seen:
                seen.add(unit)
                label = where.format(
                    rule.category, COUNTIES.get(rule.county_code, rule.county_code)
                )
                out.append(Reason("partner_unit", unit, "rule", f"规则 {label} 列为责任单位"))
    return out


def _roster_reasons(session: Session, issue: Issue, county_code: str | None, day: date) -> list:
    """Return the leaders whose roster lines cover the county or the case on ``day``."""
    valid = and_(
        LeaderAssignment.valid_from <= day,
        or_(LeaderAssignment.valid_to.is_(None), LeaderAssignment.valid_to >= day),
    )
    stmt = (
        select(LeaderAssignment)
        .where(
            valid,
            or_(
                and_(
                    LeaderAssignment.kind == "city_leader",
                    LeaderAssignment.county_code == county_code,
                ),
                and_(
                    LeaderAssignment.kind == "county_leader",
                    LeaderAssignment.issue_number == issue.number,
                ),
            ),
        )
        .order_by(LeaderAssignment.kind, LeaderAssignment.valid_from)
    )
    out = []
    for line in session.scalars(stmt):
        until = line.valid_to.isoformat() if line.valid_to else "至今"
        what = (
            f"包联{COUNTIES.get(line.county_code, line.county_code)}"
            if line.kind == "city_leader"
            else f"包案 {issue.number}"
        )
        out.append(
            Reason(
                line.kind,
                line.name,
                "roster",
                f"名册：{line.title or ''}{line.name}{what}（{line.valid_from}—{until}），"
                f"覆盖 {day}",
            )
        )
    return out


def _store(issue: Issue, reasons: list[Reason], actor: str) -> None:
    """Replace the issue's computed parties, keeping overrides and flagging what they replace."""
    overrides = [r for r in issue.responsibilities if r.source == "override"]
    overridden_kinds = {r.party_kind for r in overrides}
    issue.responsibilities = overrides + [
        Responsibility(
            party_kind=r.party_kind,
            name=r.name,
            code=r.code,
            reason=r.reason,
            source=r.source,
            actor=actor,
            overridden=r.party_kind in overridden_kinds,
        )
        for r in reasons
    ]


def _effective_fields(issue: Issue) -> dict:
    """Return the issue fields implied by the parties that are in force."""
    live = [r for r in issue.responsibilities if not r.overridden]
    leads = [r.name for r in live if r.party_kind == "lead_unit"]
    partners = [r.name for r in live if r.party_kind == "partner_unit"]
    counties = [r for r in live if r.party_kind == "county"]
    out = {
        "lead_unit": leads[0] if leads else issue.lead_unit,
        "partner_units": partners if partners or leads else issue.partner_units,
    }
    if counties:
        out |= {"county_code": counties[0].code, "county_name": counties[0].name}
    return out


def _attribution_fields(att: Attribution | None) -> dict:
    """Return the issue fields an attribution fills (township, protected area, evidence)."""
    if att is None or not att.county_code:
        return {}
    return {
        "township_code": att.township_code,
        "township_name": att.township_name,
        "protected_area": att.protected_area,
        "zone": att.zone,
        "attribution": json_safe(dataclasses.asdict(att)),
    }


def json_safe(value):
    """Return ``value`` with tuples turned into lists, as JSON would store it."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def assign_responsibility(
    session: Session,
    issue: Issue,
    *,
    actor: str,
    date: date,
    attribution: Attribution | None = None,
    layers: LayerSet | None = None,
    locate: bool = True,
) -> list[Reason]:
    """Work out every party for an issue, store the reasons, update the issue, log the event.

    The county comes from ``attribution`` when given, else (``locate``) from locating the issue
    against ``layers``, the boundary layers in use; ``locate=False`` keeps the declared county.
    """
    if attribution is None and locate and layers is None:
        raise ValueError("assign_responsibility: pass the boundary layers in use to locate")
    att = attribution or (attribute_issue(issue, layers) if locate else None)
    county = _county_reason(issue, att)
    code = county.code if county else None
    reasons = ([county] if county else []) + _rule_reasons(
        matching_rules(session, issue.category, code)
    )
    reasons += _roster_reasons(session, issue, code, date)
    with session.begin_nested():
        _store(issue, reasons, actor)
        changes = _attribution_fields(att) | _effective_fields(issue)
        update_issue(
            session,
            issue,
            changes,
            actor=actor,
            date=date,
            kind="responsibility.assigned",
            detail={"parties": [dataclasses.asdict(r) for r in reasons]},
        )
    return explain(issue)


def override_responsibility(
    session: Session, issue: Issue, party_kind: str, names, *, reason: str, actor: str, date: date
) -> list[Reason]:
    """Set one kind of party by hand (reason required); computed parties of that kind yield."""
    if party_kind not in PARTY_KINDS:
        raise LedgerError(f"未知责任方类型：{party_kind}", "party_kind", party_kind)
    if not (reason or "").strip():
        raise LedgerError("人工指定责任方须说明理由", "reason", reason)
    names = [names] if isinstance(names, str) else list(names)
    if not names or not all(n.strip() for n in names):
        raise LedgerError("须给出责任方名称", "name", names)
    code = None
    if party_kind == "county":
        code = resolve_county(names[0])
        if code is None:
            raise LedgerError(f"未知县区：{names[0]}", "name", names[0])
        names = [COUNTIES.get(code, names[0])]
    with session.begin_nested():
        keep = [
            r
            for r in issue.responsibilities
            if not (r.party_kind == party_kind and r.source == "override")
        ]
        for r in keep:
            if r.party_kind == party_kind:
                r.overridden = True
        issue.responsibilities = keep + [
            Responsibility(
                party_kind=party_kind,
                name=n,
                code=code,
                reason=reason,
                source="override",
                actor=actor,
                overridden=False,
            )
            for n in names
        ]
        update_issue(
            session,
            issue,
            _effective_fields(issue),
            actor=actor,
            date=date,
            kind="responsibility.overridden",
            detail={"party_kind": party_kind, "names": names, "reason": reason},
        )
    return explain(issue)


def explain(issue: Issue) -> list[Reason]:
    """Return why each party answers for the issue, in party order, overridden ones flagged."""
    order = {k: i for i, k in enumerate(PARTY_KINDS)}
    rows = sorted(issue.responsibilities, key=lambda r: (order.get(r.party_kind, 99), r.overridden))
    return [
        Reason(
            r.party_kind,
            r.name,
            r.source,
            r.reason,
            code=r.code,
            overridden=r.overridden,
            actor=r.actor,
        )
        for r in rows
    ]
