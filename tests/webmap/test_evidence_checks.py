"""The evidence rules on their own (no database, no Flask): location, time, reuse, integrity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from shapely import box

from geo.photo import read_photo_meta
from tests.photo_files import photo
from webmap.ledger.evidence.checks import (
    EvidenceRules,
    PriorPhoto,
    check_integrity,
    check_location,
    check_reuse,
    check_time,
    worst,
)
from webmap.ledger.evidence.images import prepare_photo

SITE = box(111.60, 26.40, 111.61, 26.41)
UPLOAD = datetime(2022, 6, 1, 2, 0, tzinfo=UTC)


def meta(seed=1, **exif):
    """Return the metadata of a fresh photo with this EXIF."""
    return read_photo_meta(photo(seed, **exif))


@pytest.mark.parametrize(("lat", "verdict", "words"), [
    (26.405, "pass", "在问题范围内"),
    (26.4125, "pass", "距现场 277 米（容差 300 米）"),
    (26.59, "flag", "距现场 19.9 公里，超出容差 300 米"),
])  # fmt: skip
def test_location_inside_near_far(lat, verdict, words):
    """Inside passes, within 300 m passes with the distance, 20 km is flagged with it."""
    found = check_location(meta(lon=111.605, lat=lat), SITE, 300)
    assert found.verdict == verdict and words in found.message


def test_tolerance_per_category_and_no_geotag():
    """A category may widen the tolerance; no geotag is unverifiable, the device is reported."""
    rules = EvidenceRules(tolerance_m=300, tolerance_by_category={"河道": 2000})
    assert rules.tolerance_for("河道") == 2000 and rules.tolerance_for("水污染") == 300
    far = meta(lon=111.605, lat=26.42)
    assert check_location(far, SITE, rules.tolerance_for("河道")).verdict == "pass"
    bare = check_location(meta(), SITE, 300, device=(111.605, 26.405))
    assert bare.verdict == "unverified" and "上传时设备距现场 0 米" in bare.message
    assert check_location(meta(lon=111.605, lat=26.405), None, 300).verdict == "unverified"


def test_time_rules():
    """Before assignment is flagged (except a 整改前 photo); stale stage photos are doubtful."""
    early = meta(taken=datetime(2021, 1, 5, 9, 0))
    args = {"assigned_on": date(2021, 3, 6), "reference_day": date(2021, 6, 1), "stale_days": 90}
    flagged = check_time(early, phase="整改后", **args)
    assert flagged.verdict == "flag" and "早于交办日期 2021-03-06（早 60 天）" in flagged.message
    assert check_time(early, phase="整改前", **args).verdict == "pass"
    stale = check_time(meta(taken=datetime(2021, 3, 10)), phase="整改后", **args)
    assert stale.verdict == "pass"  # 83 days before the report is within 90
    stale = check_time(meta(taken=datetime(2021, 3, 10)), phase="整改后",
                       **(args | {"stale_days": 30}))
    assert stale.verdict == "warn" and "早于本次填报 83 天" in stale.message
    assert check_time(meta(), phase="整改后", **args).verdict == "unverified"


def test_time_uses_the_written_offset():
    """23:30 at UTC-05:00 is the next day in China: the day compared is China's."""
    late = meta(taken=datetime(2021, 3, 5, 23, 30), offset="-05:00")
    args = {"assigned_on": date(2021, 3, 6), "reference_day": date(2021, 6, 1), "stale_days": 90}
    assert check_time(late, phase="整改后", **args).verdict == "pass"


def test_reuse_exact_near_and_different():
    """Same bytes and a re-saved copy are reuse; a different scene is not."""
    first = prepare_photo(photo(7, lon=111.6, lat=26.4))
    prior = [PriorPhoto(1, "HT-01", first.sha256, first.phash)]
    assert check_reuse(first.sha256, first.phash, prior, 6).figures["matches"][0]["exact"]
    from tests.photo_files import resave

    for quality in (40, 70, 95):
        copy = prepare_photo(resave(photo(7, lon=111.6, lat=26.4), quality))
        found = check_reuse(copy.sha256, copy.phash, prior, 6)
        assert found.verdict == "flag" and "HT-01" in found.message, quality
    other = prepare_photo(photo(8))
    assert check_reuse(other.sha256, other.phash, prior, 6).verdict == "pass"


def test_integrity_hints():
    """No EXIF, an editor in Software and a capture after the upload are each named."""
    bare = read_photo_meta(photo(9, fmt="PNG", with_exif=False))
    assert check_integrity(bare, UPLOAD).verdict == "unverified"
    edited = check_integrity(meta(software="Adobe Photoshop 24.0 (Windows)"), UPLOAD)
    assert edited.verdict == "warn" and "Photoshop" in edited.message
    assert check_integrity(meta(software="HDR+ 1.0.5"), UPLOAD).verdict == "pass"
    future = check_integrity(meta(taken=datetime(2022, 6, 2, 12, 0)), UPLOAD)
    assert future.verdict == "warn" and "晚于上传时间" in future.message


def test_worst_orders_verdicts():
    """flag > warn > unverified > pass."""
    assert worst(["pass", "flag", "warn"]) == "flag"
    assert worst(["pass", "unverified"]) == "unverified" and worst([]) == "pass"
