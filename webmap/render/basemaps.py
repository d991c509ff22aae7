"""Online basemaps: which exist, their tile URLs and the source and 审图号 line each must carry.

Government networks are often cut off, so every map and picture works with no basemap at all
(the default); an online basemap is drawn only when the user picks one and it is reachable. The
web map (``webmap.render.maps``) and the printed snapshot (``webmap.render.snapshot.basemap``)
take their URLs and their stamp from here.
"""

from __future__ import annotations

from collections.abc import Mapping

BASEMAPS = {
    "none": {"label": "无底图（离线）"},
    "tianditu_vec": {"label": "天地图·矢量", "provider": "tianditu", "layers": ("vec_w", "cva_w")},
    "tianditu_img": {"label": "天地图·影像", "provider": "tianditu", "layers": ("img_w", "cia_w")},
    "amap": {"label": "高德地图（GCJ-02）", "provider": "amap"},
    "osm": {"label": "OpenStreetMap", "provider": "osm"},
}
TIANDITU_URL = "https://t{s}.tianditu.gov.cn/DataServer?T=%s&x={x}&y={y}&l={z}&tk=%s"
AMAP_URL = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}")  # fmt: skip
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
REVIEW_SETTINGS = {"tianditu": "TIANDITU_REVIEW_NO", "amap": "AMAP_REVIEW_NO"}
NO_REVIEW = "未配置（请在配置中填写服务商公布的审图号）"


def provider_of(key: str) -> str | None:
    """Return the tile provider of a basemap key (None for no basemap)."""
    return BASEMAPS[key].get("provider")


def basemap_note(key: str, settings: Mapping, *, shifted: bool = False) -> str | None:
    """Return the source and 审图号 line of a basemap (``shifted``: overlays drawn in GCJ-02).

    >>> basemap_note("tianditu_vec", {"TIANDITU_REVIEW_NO": "GS(2024)0568号"})
    '底图：国家地理信息公共服务平台（天地图） 审图号：GS(2024)0568号'
    """
    provider = provider_of(key)
    if provider is None:
        return None
    no = settings.get(REVIEW_SETTINGS.get(provider, "")) or NO_REVIEW
    if provider == "tianditu":
        return f"底图：国家地理信息公共服务平台（天地图） 审图号：{no}"
    if provider == "amap":
        shift = "（叠加图层已转换为 GCJ-02 显示）" if shifted else ""
        return f"底图：高德地图{shift} 审图号：{no}"
    return "底图：© OpenStreetMap 贡献者（未经审图，仅供内部参考）"
