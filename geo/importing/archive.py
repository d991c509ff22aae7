"""Safe extraction of zip archives (zipped Shapefiles, KMZ) supplied by users.

Entries are checked before anything is written: no absolute paths, no ``..``, no more than
``max_files`` entries, and a cap on total uncompressed size and on the compression ratio (a zip
bomb's tell). Bytes are then streamed with a running count, so a header that lies about sizes
cannot get past the cap either.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from geo.errors import ImportFileError

MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200.0
MAX_FILES = 200
_CHUNK = 1 << 20


def _check_member_name(archive: Path, name: str) -> PurePosixPath:
    """Return the member path if it stays inside the archive, else raise naming it."""
    posix = PurePosixPath(name.replace("\\", "/"))
    # "C:/x" is absolute on Windows even though PurePosixPath does not think so
    drive = bool(posix.parts) and posix.parts[0].endswith(":")
    if posix.is_absolute() or drive:
        raise ImportFileError(f"{archive.name}: 压缩包条目 {name!r} 使用绝对路径，拒绝解压")
    if any(part == ".." for part in posix.parts):
        raise ImportFileError(
            f"{archive.name}: 压缩包条目 {name!r} 含有 “..”，会解压到目录之外，拒绝解压"
        )
    return posix


def _check_sizes(
    archive: Path, infos: list[zipfile.ZipInfo], max_total: int, max_ratio: float
) -> None:
    """Reject archives whose declared sizes or compression ratio look like a zip bomb."""
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > max_total:
        raise ImportFileError(
            f"{archive.name}: 解压后共 {total} 字节，超过上限 {max_total} 字节（疑似压缩炸弹）"
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise ImportFileError(
                f"{archive.name}: 条目 {info.filename!r} 压缩比 "
                f"{info.file_size / max(info.compress_size, 1):.0f}:1 "
                f"超过上限 {max_ratio:.0f}:1（疑似压缩炸弹）"
            )
    if total > 1024 * 1024 and total > max_ratio * max(packed, 1):
        raise ImportFileError(
            f"{archive.name}: 整体压缩比超过上限 {max_ratio:.0f}:1（疑似压缩炸弹）"
        )


def extract_archive(
    path: str | Path,
    dest: str | Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
    max_files: int = MAX_FILES,
) -> list[Path]:
    """Extract a zip archive into ``dest`` after safety checks; return the extracted file paths."""
    path, dest = Path(path), Path(dest)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError(f"{path.name}: 不是完整可读的 zip 压缩包（{exc}）") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_files:
            raise ImportFileError(
                f"{path.name}: 压缩包含 {len(infos)} 个文件，超过上限 {max_files}"
            )
        members = [(i, _check_member_name(path, i.filename)) for i in infos]
        _check_sizes(path, infos, max_total_bytes, max_ratio)
        written: list[Path] = []
        budget = max_total_bytes
        for info, rel in members:
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise ImportFileError(
                                f"{path.name}: 解压数据超过上限 {max_total_bytes} 字节"
                                "（文件头大小不实）"
                            )
                        out.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError) as exc:
                # truncated or corrupt entries surface here (CRC errors, early EOF, encryption)
                raise ImportFileError(
                    f"{path.name}: 条目 {info.filename!r} 损坏或不完整，无法解压（{exc}）"
                ) from exc
            written.append(target)
    return written
