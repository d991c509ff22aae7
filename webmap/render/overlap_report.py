"""The overlap report, written the same way by ``yzmap overlap`` and by the ``/overlap`` pages.

Rows are ``geo.constraints`` rows (one per site × constraint layer × place × zone, ``layer_kind``
naming the layer: protected areas, drinking-water source zones, red line, farmland), rounded to
centimetres and
1e-6 of a share (beyond the boundaries' own accuracy). A report is CSV (UTF-8 with BOM, so Excel
reads the Chinese), XLSX (the table plus a 说明 sheet naming the boundary version, whether it is
illustrative, the constraint layers not imported, the sites' source, the method and the rule
source) or GeoJSON (each row with its
site's geometry). Relations read in Chinese through ``relation_label``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.constraints import OverlapJob
from geo.files import atomic_path
from geo.overlap import COLUMNS
from geo.tables import XLSX_MAX_ROWS, TableWriter
from webmap.ledger.vocabulary import CONSTRAINT_TITLES, ILLUSTRATIVE_MARK, RELATION_GROUPS

FORMATS = ("csv", "xlsx", "geojson")
STREAM_FORMATS = ("csv", "parquet", "gpkg")  # written chunk by chunk (bulk inputs)
TOUCHED_SHOWN = 100  # touched zones a bulk run lists on the terminal; the rest are counted
ROUNDING = {"overlap_m2": 2, "overlap_length_m": 2, "distance_m": 2, "boundary_distance_m": 2,
            "overlap_share": 6}  # fmt: skip
EXPORT_COLUMNS = [c for c in COLUMNS if c != "site_index"]
METHOD = ("在 EPSG:4546（CGCS2000 3 度带高斯-克吕格，中央经线 111°E）中计算，按投影长度比改正到"
          "椭球面；面积单位 m²，距离单位 m")  # fmt: skip
RULE_SOURCE = "data/boundaries/zone_rules.csv（摘要，非条文原文；以现行有效文本为准）"
MIMETYPES = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def round_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Round areas and distances to centimetres and shares to 1e-6."""
    return rows.round(ROUNDING)


def relation_group(relation: str | None) -> str:
    """Return inside / partly / buffer / outside for a ``geo.overlap`` relation string.

    >>> relation_group("within buffer 500 m"), relation_group(None)
    ('buffer', 'outside')
    """
    if relation == "inside":
        return "inside"
    if relation == "partly inside":
        return "partly"
    if relation and relation.startswith("within buffer"):
        return "buffer"
    return "outside"


def relation_label(relation: str | None) -> str:
    """Return the Chinese label of a relation.

    >>> relation_label("within buffer 500 m"), relation_label("partly inside")
    ('缓冲 500 m 内', '部分在内')
    """
    group = relation_group(relation)
    if group == "buffer":
        return f"缓冲 {relation.removeprefix('within buffer').strip()} 内"
    return RELATION_GROUPS[group]


def site_provenance(report: Mapping, uploaded_at: str | None = None) -> dict[str, str]:
    """Describe a site file (the importer's report as a dict) for pages, sheets and reports."""
    out = {
        "站点文件": f"{report['source_file']}（{report['format']}，{report['features']} 个要素）",
        "站点坐标系": f"{report['crs']}，{report['crs_method']}",
        "站点文件 SHA-256": report["sha256"][:16] + "…",
    }
    if uploaded_at:
        out["上传时间"] = uploaded_at
    return out


def layer_notes(layers) -> list[tuple[str, str]]:
    """Return one line per constraint layer: its version, nature and vintage, or "not imported"."""
    lines = []
    for kind, layer in layers.constraint_layers().items():
        title = CONSTRAINT_TITLES[kind]
        if layer is None:
            lines.append((f"{title}边界", "未导入，未检查（yzmap boundaries import --layer "
                                        f"{kind.replace('_', '-')}）"))  # fmt: skip
            continue
        info = layer.info
        nature = "权威" if info.authoritative else f"{ILLUSTRATIVE_MARK}（非权威边界，仅供演示）"
        lines.append((f"{title}边界版本", f"{info.version}（{nature}，有效日期 {info.vintage}）"))
    return lines


def illustrative_layers(layers) -> bool:
    """Say whether a constraint layer in use is a shipped stand-in (示意)."""
    return any(layer is not None and not layer.info.authoritative
               for layer in layers.constraint_layers().values())  # fmt: skip


def version_notes(layers, provenance: Mapping) -> list[tuple[str, str]]:
    """Return the data-version lines every overlap page, sheet and report carries."""
    return [
        *layer_notes(layers),
        *provenance.items(),
        ("计算方法", METHOD),
        ("规则来源", RULE_SOURCE),
    ]


def write_report(rows: pd.DataFrame, sites, layers, provenance: Mapping, fmt: str, target) -> None:
    """Write the rows as CSV, XLSX (with its 说明 sheet) or GeoJSON to a path or binary file."""
    if fmt not in FORMATS:
        raise ValueError(f"报告格式只能是 {'、'.join(FORMATS)}，收到“{fmt}”")
    table = rows[EXPORT_COLUMNS]
    if fmt == "csv":
        data = table.to_csv(index=False).encode("utf-8-sig")  # BOM so Excel reads the Chinese
        _write_bytes(data, target)
    elif fmt == "xlsx":
        notes = version_notes(layers, provenance) + [("行数", str(len(table)))]
        with pd.ExcelWriter(target, engine="openpyxl") as writer:
            table.to_excel(writer, sheet_name="重叠分析", index=False)
            pd.DataFrame(notes, columns=["项目", "内容"]).to_excel(writer, sheet_name="说明",
                                                                index=False)  # fmt: skip
    else:
        geoms = sites.geometry.to_numpy()[rows["site_index"].to_numpy(dtype=int)]
        frame = gpd.GeoDataFrame(table.reset_index(drop=True), geometry=list(geoms), crs=sites.crs)
        _write_bytes(frame.to_json(na="null", ensure_ascii=False).encode("utf-8"), target)


def _write_bytes(data: bytes, target) -> None:
    """Write bytes to a path or a binary file object."""
    if isinstance(target, str | Path):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def save_report(rows, sites, layers, provenance: Mapping, path: str | Path) -> None:
    """Write a report file named by its suffix, atomically (the CLI's ``--out``)."""
    fmt = Path(path).suffix.lower().lstrip(".")
    with atomic_path(path) as tmp:
        write_report(rows, sites, layers, provenance, fmt, tmp)


def check_xlsx_rows(rows: pd.DataFrame) -> None:
    """Refuse a report that does not fit one Excel sheet, pointing to the streamed formats."""
    if len(rows) > XLSX_MAX_ROWS:
        raise ValueError(
            f"结果有 {len(rows):,} 行，XLSX 最多 {XLSX_MAX_ROWS:,} 行（Excel 的上限）；"
            "请改用 .csv、.parquet 或 .gpkg 输出"
        )


@dataclass(frozen=True)
class ReportJob:
    """A bulk overlap (``geo.constraints.OverlapJob``) and the report format its chunks feed."""

    job: OverlapJob
    fmt: str  # csv | parquet | gpkg


@dataclass
class ReportChunk:
    """One chunk's report rows, made where the chunk ran (a worker): counts and what to write."""

    rows: int
    relations: dict
    touched: pd.DataFrame  # its first TOUCHED_SHOWN rows of zones a site lies in or crosses
    touched_total: int
    table: pd.DataFrame  # the rows to write; for CSV only the header (the rows are ``csv``)
    csv: bytes | None = None


def report_chunk(task: tuple[int, gpd.GeoDataFrame], job: ReportJob) -> ReportChunk:
    """Check one chunk of sites and prepare its report rows (rounded; CSV already encoded).

    Run by ``geo.parallel.run_ordered`` on the workers, so the rounding and the CSV encoding
    are spread over them as the overlap is, and the writing process only appends.
    """
    from geo.constraints import overlap_chunk, touched

    rows = round_rows(overlap_chunk(task, job.job))
    hit = touched(rows)
    table = rows[EXPORT_COLUMNS]
    if job.fmt == "gpkg":
        table = gpd.GeoDataFrame(table, geometry=rows.geometry, crs=rows.crs)
    data = None
    if job.fmt == "csv":
        data, table = table.to_csv(index=False, header=False).encode("utf-8"), table.iloc[:0]
    counts = rows["relation"].value_counts().to_dict()
    return ReportChunk(len(rows), counts, pd.DataFrame(hit.iloc[:TOUCHED_SHOWN]), len(hit),
                       table, data)  # fmt: skip


@dataclass
class StreamTally:
    """What a streamed report held, gathered chunk by chunk: the rows are not kept."""

    rows: int = 0
    relations: Counter = field(default_factory=Counter)
    touched: list[pd.DataFrame] = field(default_factory=list)  # the first TOUCHED_SHOWN
    touched_total: int = 0

    def add(self, chunk: ReportChunk) -> None:
        """Count a chunk's rows and relations and keep its first touched rows for the terminal."""
        self.rows += chunk.rows
        self.relations.update(chunk.relations)
        room = TOUCHED_SHOWN - sum(len(t) for t in self.touched)
        if room > 0 and len(chunk.touched):
            self.touched.append(chunk.touched.iloc[:room])
        self.touched_total += chunk.touched_total


def stream_report(chunks: Iterable[ReportChunk], path: str | Path, on_chunk=None) -> StreamTally:
    """Append ``report_chunk`` results to a CSV, Parquet or GeoPackage report as they come.

    CSV bytes are those ``save_report`` writes for the same rows; GeoPackage rows carry their
    site's geometry. The file appears only once every chunk is written
    (``geo.tables.TableWriter``); ``on_chunk(tally)`` is called after each chunk.
    """
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in STREAM_FORMATS:
        raise ValueError(f"流式报告格式只能是 {'、'.join(STREAM_FORMATS)}，收到“{fmt}”")
    tally = StreamTally()
    with TableWriter(path, layer="overlap") as writer:
        for chunk in chunks:
            tally.add(chunk)
            writer.write(chunk.table)
            if chunk.csv:
                writer.write_bytes(chunk.csv)
            if on_chunk is not None:
                on_chunk(tally)
    return tally
