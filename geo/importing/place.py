"""Rough "where did this land" descriptions for files that reproject outside Yongzhou.

The table holds approximate centres (to ~0.1 degree) of provincial capitals and of the cities
around Yongzhou; it only has to tell a user "near 长沙市, 湖南省", not locate.
"""

from __future__ import annotations

import math

# (name, province, lon, lat)
REFERENCE_PLACES = (
    ("永州市", "湖南省", 111.61, 26.42),
    ("长沙市", "湖南省", 112.94, 28.23),
    ("衡阳市", "湖南省", 112.57, 26.89),
    ("郴州市", "湖南省", 113.01, 25.77),
    ("邵阳市", "湖南省", 111.47, 27.24),
    ("怀化市", "湖南省", 110.00, 27.57),
    ("株洲市", "湖南省", 113.13, 27.83),
    ("湘潭市", "湖南省", 112.94, 27.83),
    ("娄底市", "湖南省", 112.00, 27.70),
    ("常德市", "湖南省", 111.70, 29.03),
    ("岳阳市", "湖南省", 113.13, 29.36),
    ("张家界市", "湖南省", 110.48, 29.12),
    ("益阳市", "湖南省", 112.36, 28.55),
    ("吉首市", "湖南省", 109.70, 28.26),
    ("桂林市", "广西壮族自治区", 110.29, 25.27),
    ("贺州市", "广西壮族自治区", 111.57, 24.40),
    ("柳州市", "广西壮族自治区", 109.41, 24.33),
    ("南宁市", "广西壮族自治区", 108.37, 22.82),
    ("梧州市", "广西壮族自治区", 111.28, 23.48),
    ("清远市", "广东省", 113.06, 23.68),
    ("韶关市", "广东省", 113.60, 24.81),
    ("广州市", "广东省", 113.26, 23.13),
    ("赣州市", "江西省", 114.93, 25.83),
    ("南昌市", "江西省", 115.86, 28.68),
    ("武汉市", "湖北省", 114.31, 30.59),
    ("贵阳市", "贵州省", 106.63, 26.65),
    ("重庆市", "重庆市", 106.55, 29.56),
    ("成都市", "四川省", 104.07, 30.57),
    ("昆明市", "云南省", 102.83, 24.88),
    ("福州市", "福建省", 119.30, 26.08),
    ("杭州市", "浙江省", 120.16, 30.27),
    ("合肥市", "安徽省", 117.23, 31.82),
    ("南京市", "江苏省", 118.80, 32.06),
    ("上海市", "上海市", 121.47, 31.23),
    ("郑州市", "河南省", 113.63, 34.75),
    ("西安市", "陕西省", 108.94, 34.34),
    ("济南市", "山东省", 117.12, 36.65),
    ("北京市", "北京市", 116.40, 39.90),
    ("天津市", "天津市", 117.20, 39.13),
    ("石家庄市", "河北省", 114.51, 38.04),
    ("太原市", "山西省", 112.55, 37.87),
    ("呼和浩特市", "内蒙古自治区", 111.75, 40.84),
    ("沈阳市", "辽宁省", 123.43, 41.80),
    ("长春市", "吉林省", 125.32, 43.82),
    ("哈尔滨市", "黑龙江省", 126.53, 45.80),
    ("兰州市", "甘肃省", 103.83, 36.06),
    ("西宁市", "青海省", 101.78, 36.62),
    ("银川市", "宁夏回族自治区", 106.23, 38.49),
    ("乌鲁木齐市", "新疆维吾尔自治区", 87.62, 43.83),
    ("拉萨市", "西藏自治区", 91.11, 29.65),
    ("海口市", "海南省", 110.20, 20.04),
    ("台北市", "台湾省", 121.56, 25.04),
    ("香港", "香港特别行政区", 114.17, 22.32),
)
_EARTH_RADIUS_KM = 6371.0


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in km; a rough sphere is enough for "near which city"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def describe_location(bounds: tuple[float, float, float, float]) -> str:
    """Describe a lon/lat bbox in Chinese: the box and the nearest reference city with its distance.

    Examples
    --------
    >>> describe_location((112.9, 28.2, 113.0, 28.3))
    '经度 112.9000–113.0000、纬度 28.2000–28.3000，约在湖南省长沙市附近（中心距其约 2 km）'
    >>> describe_location((-74.1, 40.6, -73.9, 40.8)).endswith('不在中国境内')
    True
    """
    w, s, e, n = bounds
    box = f"经度 {w:.4f}–{e:.4f}、纬度 {s:.4f}–{n:.4f}"
    lon, lat = (w + e) / 2, (s + n) / 2
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"{box}，不是有效的经纬度"
    name, province, plon, plat = min(
        REFERENCE_PLACES, key=lambda p: _haversine_km(lon, lat, p[2], p[3])
    )
    dist = _haversine_km(lon, lat, plon, plat)
    if dist > 800:
        return f"{box}，不在中国境内"
    where = name if province == name else f"{province}{name}"
    return f"{box}，约在{where}附近（中心距其约 {dist:.0f} km）"
