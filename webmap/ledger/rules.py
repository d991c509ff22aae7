"""The responsibility rules table (category × county -> lead and partner units), edited here.

Every change is logged in the event log with before and after. ``webmap.ledger.responsibility``
reads the table; ``webmap.ledger.responsibility_defaults`` fills it with the shipped defaults.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from webmap.ledger.events import LedgerError, record_event
from webmap.ledger.filters import COUNTIES, resolve_county
from webmap.ledger.models import ANY, ResponsibilityRule


def set_rule(
    session: Session,
    category: str,
    county_code: str,
    lead_unit: str,
    partner_units=(),
    *,
    actor: str,
    date: date,
    note: str | None = None,
) -> ResponsibilityRule:
    """Create or replace the rule for (category, county) and log the change (admin edit)."""
    if county_code != ANY and county_code not in COUNTIES:
        resolved = resolve_county(county_code)
        if resolved is None:
            raise LedgerError(f"未知县区：{county_code}", "county_code", county_code)
        county_code = resolved
    if not (lead_unit or "").strip() and not list(partner_units):
        raise LedgerError("规则须指定牵头单位或责任单位", "lead_unit", lead_unit)
    rule = session.scalars(
        select(ResponsibilityRule).where(
            ResponsibilityRule.category == category, ResponsibilityRule.county_code == county_code
        )
    ).first()
    before = (
        None if rule is None else {"lead_unit": rule.lead_unit, "partner_units": rule.partner_units}
    )
    with session.begin_nested():
        if rule is None:
            rule = ResponsibilityRule(category=category, county_code=county_code)
            session.add(rule)
        rule.lead_unit, rule.partner_units = (lead_unit or "").strip(), list(partner_units)
        rule.note, rule.updated_by = note, actor
        record_event(
            session,
            "rule.set",
            actor=actor,
            effective=date,
            before=before,
            after={
                "category": category,
                "county_code": county_code,
                "lead_unit": lead_unit,
                "partner_units": list(partner_units),
            },
        )
        session.flush()
    return rule
