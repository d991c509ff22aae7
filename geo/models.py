"""Small value objects shared by the geo modules."""

from __future__ import annotations

from dataclasses import dataclass, field

# precision levels, from most to least precise
PRECISIONS = ("coordinates", "village", "township", "county", "city", "none")

# flag vocabulary written to the ``flags`` column of ``yzmap locate``
FLAGS = (
    "outside_city",
    "near_border",
    "ambiguous",
    "declared_mismatch",
    "datum_converted",
    "coordinates_swapped",
)


@dataclass(frozen=True)
class Area:
    """An administrative or protected area keyed by code, with its name as data."""

    code: str
    name: str
    level: str  # city | county | township | village | protected_area | zone
    parent_code: str | None = None
    vintage: str | None = None


@dataclass(frozen=True)
class LayerInfo:
    """Metadata of one boundary layer: what it is, where it came from, how far to trust it."""

    name: str  # layer id, e.g. "counties"
    kind: str  # city | county | township | protected_area
    vintage: str  # date or year the boundaries describe
    authoritative: bool  # False for illustrative (示意) layers
    source: str = ""
    licence: str = ""
    source_crs: str = "EPSG:4326"
    positional_accuracy_m: float = 0.0
    zone_scheme: str | None = None  # for protected areas: reserve3 | reform2 | wetland | mixed
    version: str = ""  # identifier reported with results, e.g. "shipped:2023-12"


@dataclass
class Share:
    """The part of a line or polygon falling in one area."""

    code: str
    name: str
    share: float  # 0..1 of the geometry's length or area


@dataclass
class Attribution:
    """Where a point, line or polygon lies and how sure we are."""

    lon: float | None = None
    lat: float | None = None
    county_code: str | None = None
    county_name: str | None = None
    township_code: str | None = None
    township_name: str | None = None
    village_name: str | None = None
    protected_area: str | None = None
    zone: str | None = None
    precision: str = "none"
    confidence: float = 0.0
    flags: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # candidate county names
    county_shares: list[Share] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # human-readable: how each part was found
    layer_versions: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def add_flag(self, flag: str) -> None:
        """Add a flag once, keeping the order in which flags were raised."""
        if flag not in self.flags:
            self.flags.append(flag)
