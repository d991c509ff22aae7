"""``LedgerContext``: what domain code needs to judge and place issues, passed in explicitly.

The day deadlines are judged on, the amber and 公示 periods, the boundary layers in use and the
settings they came from. The web app builds one per request (``webmap.web.context``), a command
once per run, a benchmark or worker from ``load_config`` — so the ledger gives the same answers
whichever door a question comes through, and never reads a Flask global.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from geo.boundaries import LayerSet
from webmap.config import DEFAULTS


def pinned_today(settings: Mapping) -> date:
    """Return ``TODAY`` from the settings (a date or ISO text) or the real date."""
    pinned = settings.get("TODAY")
    if isinstance(pinned, str) and pinned:
        return date.fromisoformat(pinned)
    return pinned if isinstance(pinned, date) else date.today()


@dataclass(frozen=True)
class LedgerContext:
    """The day, rule settings and boundary layers a ledger question is answered with.

    ``layers`` is loaded on first use through ``load_layers`` (most questions never need it).

    >>> ctx = LedgerContext.from_settings({"TODAY": "2022-06-01", "AMBER_DAYS": 14})
    >>> ctx.today, ctx.amber_days, ctx.publicity_days
    (datetime.date(2022, 6, 1), 14, 7)
    """

    today: date
    amber_days: int = int(DEFAULTS["AMBER_DAYS"])
    publicity_days: int = int(DEFAULTS["PUBLICITY_DAYS"])
    load_layers: Callable[[], LayerSet] | None = field(default=None, repr=False, compare=False)
    settings: Mapping = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_settings(
        cls, settings: Mapping, *, load_layers: Callable[[], LayerSet] | None = None
    ) -> LedgerContext:
        """Build a context from settings (``webmap.config.load_config`` or an app's config)."""
        return cls(
            today=pinned_today(settings),
            amber_days=int(settings.get("AMBER_DAYS", DEFAULTS["AMBER_DAYS"])),
            publicity_days=int(settings.get("PUBLICITY_DAYS", DEFAULTS["PUBLICITY_DAYS"])),
            load_layers=load_layers,
            settings=settings,
        )

    @cached_property
    def layers(self) -> LayerSet:
        """Return the boundary layers in use (loaded once per context)."""
        if self.load_layers is None:
            raise RuntimeError("this LedgerContext was made without boundary layers")
        return self.load_layers()
