"""The OpenAPI 3.0 document of the OGC API (what GDAL reads for paging, schemathesis tests)."""

from __future__ import annotations

from webmap.ledger.ogc.crs import SUPPORTED
from webmap.render.ogc.documents import GEOJSON, HTML, JSON

MAX_LIMIT = 10000
DEFAULT_LIMIT = 100


def _param(name: str, where: str, schema: dict, description: str, **extra) -> dict:
    """Return one parameter object."""
    return {"name": name, "in": where, "schema": schema, "description": description,
            "required": where == "path", **extra}  # fmt: skip


def _content(types: dict) -> dict:
    """Return a content map: media type -> schema reference or inline schema."""
    return {t: {"schema": s} for t, s in types.items()}


_EXCEPTION = {"$ref": "#/components/schemas/exception"}
_ERRORS = {code: {"description": text,
                  "content": _content({JSON: _EXCEPTION, HTML: {"type": "string"}})}
           for code, text in (("400", "参数无效"), ("401", "需要登录或访问令牌"),
                              ("404", "不存在"), ("429", "请求过于频繁"))}  # fmt: skip


def _get(summary: str, params: list, ok: dict, op_id: str) -> dict:
    """Return a GET operation with the shared error responses."""
    return {"get": {"summary": summary, "operationId": op_id, "parameters": params,
                    "responses": {"200": {"description": "成功", "content": _content(ok)},
                                  **_ERRORS}}}  # fmt: skip


def openapi(base: str, collection_ids: list[str]) -> dict:
    """Return the OpenAPI document; ``collection_ids`` are the collections the reader may see."""
    fmt = _param("f", "query", {"type": "string", "enum": ["json", "html"]}, "输出格式")
    cid = _param("collectionId", "path", {"type": "string", "enum": collection_ids}, "集合编号")
    fid = _param("featureId", "path", {"type": "string", "maxLength": 60}, "要素编号")
    crs = _param("crs", "query", {"type": "string", "enum": list(SUPPORTED)}, "输出坐标系")
    item_params = [
        cid, fmt, crs,
        _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                  "default": DEFAULT_LIMIT}, "每页要素数", style="form",
               explode=False),
        _param("offset", "query", {"type": "integer", "minimum": 0, "maximum": 10_000_000},
               "跳过的要素数"),
        _param("after", "query", {"type": "string", "maxLength": 40}, "续页游标（next 链接给出）"),
        _param("bbox", "query", {"type": "array", "minItems": 4, "maxItems": 4,
                                 "items": {"type": "number"}}, "范围 minx,miny,maxx,maxy",
               style="form", explode=False),
        _param("bbox-crs", "query", {"type": "string", "enum": list(SUPPORTED)}, "bbox 的坐标系"),
        _param("datetime", "query", {"type": "string"}, "问题最后变更时间（RFC 3339 时刻或区间）"),
        _param("filter", "query", {"type": "string"}, "CQL2 过滤表达式"),
        _param("filter-lang", "query", {"type": "string", "enum": ["cql2-text", "cql2-json"]},
               "过滤语言"),
        _param("filter-crs", "query", {"type": "string", "enum": list(SUPPORTED)},
               "过滤表达式中几何的坐标系"),
    ]  # fmt: skip
    paths = {
        "/": _get("首页", [fmt], {JSON: {"type": "object"}, HTML: {"type": "string"}}, "landing"),
        "/conformance": _get("符合的标准", [fmt], {JSON: {"$ref": "#/components/schemas/conf"},
                                                   HTML: {"type": "string"}}, "conformance"),
        "/openapi": _get("OpenAPI 文档", [fmt], {"application/vnd.oai.openapi+json;version=3.0":
                                                {"type": "object"}, JSON: {"type": "object"},
                                                HTML: {"type": "string"}}, "openapi"),
        "/collections": _get("数据集合", [fmt], {JSON: {"type": "object"},
                                                 HTML: {"type": "string"}}, "collections"),
        "/collections/{collectionId}": _get("集合说明", [cid, fmt], {
            JSON: {"type": "object"}, HTML: {"type": "string"}}, "collection"),
        "/collections/{collectionId}/queryables": _get("可查询属性", [cid, fmt], {
            "application/schema+json": {"type": "object"}, JSON: {"type": "object"},
            HTML: {"type": "string"}}, "queryables"),
        "/collections/{collectionId}/items": _get("要素", item_params, {
            GEOJSON: {"$ref": "#/components/schemas/featureCollection"},
            HTML: {"type": "string"}}, "items"),
        "/collections/{collectionId}/items/{featureId}": _get("单个要素", [cid, fid, fmt, crs], {
            GEOJSON: {"$ref": "#/components/schemas/feature"}, HTML: {"type": "string"}}, "item"),
    }  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "yzmap OGC API - Features", "version": "1.0.0",
                 "description": "永州市生态环境督察整改问题台账的 OGC API - Features 服务。"
                                "登录后的会话或个人访问令牌（Authorization: Bearer 令牌，或 HTTP "
                                "Basic：用户名 + 令牌作密码）可读取本账号范围内的问题。"},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "security": [{}, {"basic": []}, {"bearer": []}],
    }  # fmt: skip


def _schemas() -> dict:
    """Return the component schemas."""
    link = {"type": "object", "required": ["href"],
            "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                           "type": {"type": "string"}, "title": {"type": "string"}}}  # fmt: skip
    geometry = {"type": "object", "nullable": True, "required": ["type"],
                "properties": {"type": {"type": "string"}}}  # fmt: skip
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "id": {"type": "string"}, "geometry": geometry,
                              "properties": {"type": "object", "nullable": True},
                              "links": {"type": "array", "items": link}}}  # fmt: skip
    return {
        "link": link,
        "exception": {"type": "object", "required": ["code"],
                      "properties": {"code": {"type": "string"},
                                     "description": {"type": "string"}}},
        "conf": {"type": "object", "required": ["conformsTo"],
                 "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}},
        "feature": feature,
        "featureCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "features": {"type": "array", "items": feature},
                           "links": {"type": "array", "items": link},
                           "numberMatched": {"type": "integer", "minimum": 0},
                           "numberReturned": {"type": "integer", "minimum": 0},
                           "timeStamp": {"type": "string"}}},
    }  # fmt: skip
