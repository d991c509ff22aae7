"""The OGC API - Features JSON documents: landing page, conformance, collections, features."""

from __future__ import annotations

import shapely.geometry

from webmap.ledger.ogc.crs import CRS84, SUPPORTED, from_storage

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
)
JSON, GEOJSON, HTML = "application/json", "application/geo+json", "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CITY_BBOX = (111.0, 24.6, 112.4, 26.9)  # Yongzhou's extent in CRS84
DECIMALS = {CRS84: 6, SUPPORTED[1]: 7, SUPPORTED[2]: 3}  # ~0.1 m, ~0.01 m, 1 mm


def link(href: str, rel: str, mtype: str, title: str) -> dict:
    """Return one link object."""
    return {"href": href, "rel": rel, "type": mtype, "title": title}


def landing(base: str) -> dict:
    """Return the landing page."""
    return {
        "title": "yzmap 永州市生态环境督察整改问题 OGC API",
        "description": "整改问题台账、县区与乡镇边界、自然保护地与重叠分析（OGC API - Features）",
        "links": [
            link(f"{base}?f=json", "self", JSON, "本页"),
            link(f"{base}?f=html", "alternate", HTML, "本页（网页）"),
            link(f"{base}/openapi?f=json", "service-desc", OPENAPI, "OpenAPI 文档"),
            link(f"{base}/openapi?f=html", "service-doc", HTML, "接口说明（网页）"),
            link(f"{base}/conformance?f=json", "conformance", JSON, "符合的标准"),
            link(f"{base}/collections?f=json", "data", JSON, "数据集合"),
        ],
    }


def conformance(base: str) -> dict:
    """Return the conformance declaration."""
    return {"conformsTo": list(CONFORMANCE),
            "links": [link(f"{base}/conformance?f=json", "self", JSON, "本页")]}  # fmt: skip


def collection(base: str, source) -> dict:
    """Return the description of one collection."""
    href = f"{base}/collections/{source.id}"
    doc = {
        "id": source.id,
        "title": source.title,
        "description": source.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [list(CITY_BBOX)], "crs": CRS84}},
        "crs": list(SUPPORTED),
        "storageCrs": CRS84,
        "links": [
            link(f"{href}?f=json", "self", JSON, source.title),
            link(f"{href}/items?f=json", "items", GEOJSON, "要素（GeoJSON）"),
            link(f"{href}/items?f=html", "items", HTML, "要素（网页）"),
            link(f"{href}/queryables?f=json", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                 "application/schema+json", "可查询属性"),
        ],
    }
    if source.extra:
        doc["yzmap:layer"] = {k: v for k, v in source.extra.items() if v is not None}
    return doc


def collections_doc(base: str, sources) -> dict:
    """Return the collections list."""
    return {"collections": [collection(base, s) for s in sources],
            "crs": list(SUPPORTED),
            "links": [link(f"{base}/collections?f=json", "self", JSON, "数据集合")]}  # fmt: skip


_TYPES = {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
          bool: {"type": "boolean"}}  # fmt: skip


def queryables(base: str, source, kinds: dict) -> dict:
    """Return the queryables of a collection as JSON Schema."""
    from datetime import date, datetime

    props = {"geometry": {"format": "geometry-any"}}
    for name, kind in kinds.items():
        props[name] = (_TYPES.get(kind) if kind in _TYPES
                       else {"type": "string", "format": "date" if kind is date else "date-time"}
                       if kind in (date, datetime) else {"type": "string"})  # fmt: skip
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"{base}/collections/{source.id}/queryables", "type": "object",
            "title": source.title, "properties": props}  # fmt: skip


def _rounded(obj, decimals: int):
    """Round every coordinate of a GeoJSON coordinates tree."""
    if isinstance(obj, list | tuple):
        return [_rounded(o, decimals) for o in obj]
    return round(float(obj), decimals)


def geometry(geom, crs: str) -> dict | None:
    """Return a WGS84 shapely geometry as GeoJSON in ``crs`` (that CRS's axis order)."""
    if geom is None:
        return None
    moved = from_storage(geom, crs)
    mapped = shapely.geometry.mapping(moved)
    if mapped["type"] == "GeometryCollection":
        return {"type": "GeometryCollection",
                "geometries": [{"type": g["type"],
                                "coordinates": _rounded(g["coordinates"], DECIMALS[crs])}
                               for g in mapped["geometries"]]}  # fmt: skip
    return {"type": mapped["type"], "coordinates": _rounded(mapped["coordinates"], DECIMALS[crs])}


def feature(item, crs: str, base: str, sid: str) -> dict:
    """Return one item as a GeoJSON feature with its links."""
    return {"type": "Feature", "id": item.number, "geometry": geometry(item.geometry, crs),
            "properties": item.properties,
            "links": [link(f"{base}/collections/{sid}/items/{item.number}?f=json", "self",
                           GEOJSON, item.number)]}  # fmt: skip

