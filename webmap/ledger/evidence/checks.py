"""The rules that judge an evidence photo: where, when, reused, and hints of tampering.

Pure functions over ``geo.photo.PhotoMeta`` and plain values, so they are tested without a
database or Flask. Each check returns a ``Check`` with a verdict from
``vocabulary.PHOTO_VERDICTS`` (``pass`` < ``unverified`` < ``warn`` < ``flag``), a Chinese
message and its figures; the photo's verdict is the worst of them. A photo is never refused
for its verdict: the editor may still submit, the verifier sees what was found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from geo.photo import CHINA_TIME, PhotoMeta, distance_to_site_m
from webmap.config import DEFAULTS
from webmap.ledger.vocabulary import PHOTO_VERDICTS

# Software tags that name an editing program (phones write their firmware there, which is fine)
EDITORS = ("photoshop", "gimp", "lightroom", "snapseed", "picsart", "meitu", "美图", "醒图",
           "黄油相机", "canva", "pixlr", "affinity", "paint.net", "acdsee", "fotor", "美颜",
           "polarr", "vsco", "faceu", "wps 图片")  # fmt: skip
CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead of the server's


@dataclass(frozen=True)
class EvidenceRules:
    """The settings the checks use (``PHOTO_*`` in ``webmap.config``)."""

    tolerance_m: float = float(DEFAULTS["PHOTO_TOLERANCE_M"])
    tolerance_by_category: Mapping[str, float] = field(default_factory=dict)
    reuse_max_bits: int = int(DEFAULTS["PHOTO_REUSE_MAX_BITS"])
    stale_days: int = int(DEFAULTS["PHOTO_STALE_DAYS"])
    max_bytes: int = int(DEFAULTS["PHOTO_MAX_BYTES"])

    @classmethod
    def from_settings(cls, settings: Mapping) -> EvidenceRules:
        """Build the rules from settings (an app's config or ``load_config``)."""
        return cls(
            tolerance_m=float(settings.get("PHOTO_TOLERANCE_M", DEFAULTS["PHOTO_TOLERANCE_M"])),
            tolerance_by_category=dict(settings.get("PHOTO_TOLERANCE_BY_CATEGORY") or {}),
            reuse_max_bits=int(
                settings.get("PHOTO_REUSE_MAX_BITS", DEFAULTS["PHOTO_REUSE_MAX_BITS"])
            ),
            stale_days=int(settings.get("PHOTO_STALE_DAYS", DEFAULTS["PHOTO_STALE_DAYS"])),
            max_bytes=int(settings.get("PHOTO_MAX_BYTES", DEFAULTS["PHOTO_MAX_BYTES"])),
        )

    def tolerance_for(self, category: str | None) -> float:
        """Return the location tolerance in metres for an issue category."""
        return float(self.tolerance_by_category.get(category or "", self.tolerance_m))


@dataclass(frozen=True)
class Check:
    """One check's verdict, its message (Chinese) and its figures."""

    verdict: str
    message: str
    figures: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PriorPhoto:
    """A photo already stored, as the reuse check needs it."""

    id: int
    issue_number: str
    sha256: str
    phash: str | None


def _distance_text(metres: float) -> str:
    """Return a distance for people: metres below 1 km, else kilometres to one decimal.

    >>> _distance_text(245.4), _distance_text(20312.0)
    ('245 米', '20.3 公里')
    """
    return f"{metres:.0f} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def check_location(
    meta: PhotoMeta | None,
    site,
    tolerance_m: float,
    *,
    device: tuple[float, float] | None = None,
) -> Check:
    """Compare the photo's geotag with the issue's geometry (WGS84): inside, near or how far.

    Without a geotag the photo cannot be placed; the device's location at upload, when given,
    is reported beside it but does not prove where the photo was taken.
    """
    if site is None:
        return Check("unverified", "问题没有坐标，无法核对拍摄位置")
    if meta is None or meta.lon is None:
        message = "照片没有 GPS 位置信息"
        figures = {}
        if device is not None:
            figures["device_m"] = round(distance_to_site_m(device[0], device[1], site), 1)
            message += f"；上传时设备距现场 {_distance_text(figures['device_m'])}"
        return Check("unverified", message, figures)
    metres = distance_to_site_m(meta.lon, meta.lat, site)
    figures = {"distance_m": round(metres, 1), "tolerance_m": tolerance_m,
               "lon": round(meta.lon, 7), "lat": round(meta.lat, 7)}  # fmt: skip
    if meta.gps_datum:
        figures["datum"] = meta.gps_datum
    if metres == 0:
        return Check("pass", "拍摄位置在问题范围内", figures)
    if metres <= tolerance_m:
        text = f"拍摄位置距现场 {_distance_text(metres)}（容差 {tolerance_m:.0f} 米）"
        return Check("pass", text, figures)
    text = f"拍摄位置距现场 {_distance_text(metres)}，超出容差 {tolerance_m:.0f} 米"
    return Check("flag", text, figures)


def _china_day(moment: datetime) -> date:
    """Return the calendar day of an aware time in China."""
    return moment.astimezone(CHINA_TIME).date()


def check_time(
    meta: PhotoMeta | None,
    *,
    assigned_on: date,
    phase: str,
    reference_day: date,
    stale_days: int,
) -> Check:
    """Compare the capture time with the day the issue was assigned and the stage's date.

    A 整改前 (before) photo may predate the assignment; any other photo taken before it cannot
    show the rectification. A photo taken more than ``stale_days`` before its stage or report
    date (``reference_day``) is doubtful: verification wants current pictures.
    """
    if meta is None or meta.taken_at is None:
        return Check("unverified", "照片没有拍摄时间")
    day = _china_day(meta.taken_at)
    figures = {"taken_at": meta.taken_at.isoformat(), "assigned_on": assigned_on.isoformat(),
               "days_after_assigned": (day - assigned_on).days,
               "offset_given": meta.offset_given}  # fmt: skip
    stamp = meta.taken_at.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")
    if day < assigned_on and phase != "整改前":
        days = (assigned_on - day).days
        return Check("flag", f"拍摄于 {stamp}，早于交办日期 {assigned_on}（早 {days} 天）", figures)
    age = (reference_day - day).days
    figures["days_before_reference"] = age
    if phase != "整改前" and age > stale_days:
        return Check("warn", f"拍摄于 {stamp}，早于本次填报 {age} 天（超过 {stale_days} 天）",
                     figures)  # fmt: skip
    return Check("pass", f"拍摄于 {stamp}（北京时间）", figures)


def hamming(a: str, b: str) -> int:
    """Return how many bits differ between two hex hashes of the same length.

    >>> hamming("ff00", "ff01"), hamming("0000000000000000", "ffffffffffffffff")
    (1, 64)
    """
    return (int(a, 16) ^ int(b, 16)).bit_count()


def check_reuse(
    sha256: str, phash: str | None, prior: Sequence[PriorPhoto], max_bits: int
) -> Check:
    """Find the same file (content hash) or a near-identical picture (pHash) already stored."""
    matches = []
    for photo in prior:
        if photo.sha256 == sha256:
            matches.append({"photo": photo.id, "issue": photo.issue_number, "bits": 0,
                            "exact": True})  # fmt: skip
        elif phash and photo.phash and (bits := hamming(phash, photo.phash)) <= max_bits:
            matches.append({"photo": photo.id, "issue": photo.issue_number, "bits": bits,
                            "exact": False})  # fmt: skip
    if not matches:
        return Check("pass", "未发现重复使用")
    first = min(matches, key=lambda m: (m["bits"], m["photo"]))
    how = "完全相同" if first["exact"] else f"高度相似（感知哈希相差 {first['bits']}/64 位）"
    issues = sorted({m["issue"] for m in matches})
    return Check("flag", f"与问题 {'、'.join(issues)} 已有照片{how}", {"matches": matches})


def check_integrity(meta: PhotoMeta | None, uploaded_at: datetime) -> Check:
    """List hints of tampering: no EXIF, an editing program, a capture time after the upload."""
    if meta is None or not meta.has_exif:
        return Check("unverified", "照片没有 EXIF 信息（可能经过转存、截图或清除）")
    hints = list(meta.notes)
    software = (meta.software or "").lower()
    if any(name in software for name in EDITORS):
        hints.append(f"经编辑软件处理：{meta.software}")
    if meta.taken_at is not None and meta.taken_at > uploaded_at + CLOCK_SKEW:
        hints.append("拍摄时间晚于上传时间")
    if hints:
        return Check("warn", "；".join(hints), {"hints": hints})
    return Check("pass", "EXIF 完整，未见编辑痕迹", {"camera": meta.camera} if meta.camera else {})


def worst(verdicts) -> str:
    """Return the most serious of some verdicts (``pass`` when there are none).

    >>> worst(["pass", "warn", "unverified"])
    'warn'
    """
    return max(verdicts, key=PHOTO_VERDICTS.index, default="pass")


def as_record(checks: Mapping[str, Check]) -> dict:
    """Return the checks as the JSON stored with a photo."""
    return {name: asdict(check) for name, check in checks.items()}
