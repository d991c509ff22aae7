"""Backups of a whole yzmap store, and restoring one into an empty database.

A backup is one tar file (gzip-compressed when its name ends in ``.gz``) holding:

- ``manifest.json``: format, backend, schema revision, time, and the row counts of the tables
  a restore is checked against (issues, events, users, boundary versions, ...);
- ``database.sqlite`` (SQLite's online backup API: consistent while the server keeps writing) or
  ``database.dump`` (``pg_dump --format=custom`` for PostgreSQL/PostGIS); imported boundary
  versions live in the database, so they come along;
- ``uploads/...``: the evidence photos and files under ``UPLOAD_DIR``.

The archive is written beside its target and renamed into place (``geo.files``), so a
failed or killed backup leaves no half-written file. ``restore_backup`` refuses a database that
already holds a schema, restores, then compares the counts with the manifest.
"""

from __future__ import annotations

import glob
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import inspect, make_url, text

from geo.files import atomic_path
from webmap.config import upload_dir
from webmap.ledger.db import database_name, make_engine, schema_status

FORMAT = "yzmap-backup-1"
# the tables whose row counts a restore must reproduce exactly
COUNTED = ("issues", "events", "users", "boundary_versions", "boundary_features", "sites",
           "progress_updates", "signoffs", "attachments", "evidence_photos", "objections")


class BackupError(Exception):
    """A backup could not be written, read or restored (the message says why, in Chinese)."""


def table_counts(engine) -> dict[str, int]:
    """Return the row count of each counted table the database has."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {t: conn.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()  # noqa: S608
                for t in COUNTED if t in present}  # fmt: skip


def _upload_files(config) -> list[Path]:
    """Return every file under the upload folder (none when it does not exist)."""
    root = upload_dir(config)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


def _sqlite_path(url: str) -> Path:
    """Return the file of a SQLite URL."""
    return Path(make_url(url).database or "")


def _pg_tool(name: str) -> str:
    """Return the path of a PostgreSQL client program (PATH first, then Debian's folders)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)  # fmt: skip
    if not found:
        raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（postgresql-client）")
    return found


def _pg_args(url: str) -> tuple[list[str], dict]:
    """Return connection arguments and environment for pg_dump/pg_restore (password in env)."""
    u = make_url(url)
    args = ["--dbname", u.database or "postgres"]
    args += ["--host", u.host] if u.host else []
    args += ["--port", str(u.port)] if u.port else []
    args += ["--username", u.username] if u.username else []
    env = dict(os.environ) | ({"PGPASSWORD": u.password} if u.password else {})
    return args, env


def _run(cmd: list[str], env: dict) -> None:
    """Run a client program; raise BackupError with its message when it fails."""
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise BackupError(f"{Path(cmd[0]).name} 失败：{done.stderr.strip()[-500:]}")


def _dump_database(url: str, engine, target: Path) -> str:
    """Write a consistent copy of the database to ``target``; return its member name."""
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # online: readers and writers carry on meanwhile
        except sqlite3.Error as exc:  # a full disk or unwritable temp folder shows up here
            raise BackupError(f"无法写出数据库副本（磁盘已满或临时文件夹不可写）：{exc}") from exc
        finally:
            copy.close()
            source.close()
        return "database.sqlite"
    args, env = _pg_args(url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), *args],
         env)  # fmt: skip
    return "database.dump"


def create_backup(config, path: str | Path, progress: Callable | None = None) -> dict:
    """Write a backup of the configured store to ``path``; return its manifest."""
    url = config["DATABASE_URL"]
    engine = make_engine(url)
    step = progress or (lambda *_: None)
    try:
        current, head = schema_status(engine)
        if current is None:
            raise BackupError(f"数据库 {database_name(url)} 还没有表，没有可备份的内容")
        files = _upload_files(config)
        root = upload_dir(config)
        with tempfile.TemporaryDirectory() as work, atomic_path(path) as tmp:
            step("数据库", 0, len(files))
            dumped = Path(work) / "database"
            member = _dump_database(url, engine, dumped)
            manifest = {"format": FORMAT, "backend": engine.dialect.name, "revision": current,
                        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "counts": table_counts(engine), "files": len(files)}  # fmt: skip
            mode = "w:gz" if str(path).endswith(".gz") else "w"
            with tarfile.open(tmp, mode) as tar:
                data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
                tar.addfile(info, fileobj=io.BytesIO(data))
                tar.add(dumped, arcname=member)
                for i, f in enumerate(files, 1):
                    tar.add(f, arcname=f"uploads/{f.relative_to(root).as_posix()}")
                    step("上传文件", i, len(files))
        return manifest
    finally:
        engine.dispose()


def read_manifest(tar: tarfile.TarFile) -> dict:
    """Return a backup's manifest, or raise BackupError when it is not a yzmap backup."""
    try:
        manifest = json.load(tar.extractfile("manifest.json"))
    except (KeyError, ValueError, AttributeError):
        raise BackupError("不是 yzmap 备份文件：缺少或无法读取 manifest.json") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"不支持的备份格式：“{manifest.get('format')}”")
    return manifest


def _safe_member(name: str) -> PurePosixPath:
    """Return a member path that stays inside the folder it is extracted to, or raise."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"备份文件中的路径不安全：“{name}”")
    return path


def _check_empty(engine, url: str, uploads: Path) -> None:
    """Refuse to restore over a database that has tables or an upload folder with files."""
    tables = set(inspect(engine).get_table_names()) - {"spatial_ref_sys"}  # PostGIS's own
    if tables:
        raise BackupError(f"目标数据库 {database_name(url)} 不是空的（已有 {len(tables)} 张表），"
                          "请恢复到新建的空数据库")  # fmt: skip
    if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
        raise BackupError(f"上传文件目录 {uploads} 不是空的，请先清空或改用新的实例目录")


def _restore_database(url: str, engine, dumped: Path, manifest: dict) -> None:
    """Put the dumped database into the configured (empty) one."""
    if manifest["backend"] != engine.dialect.name:
        raise BackupError(f"备份来自 {manifest['backend']}，目标是 {engine.dialect.name}："
                          "请恢复到同一种数据库")  # fmt: skip
    if engine.dialect.name == "sqlite":
        engine.dispose()
        target = _sqlite_path(url)
        for suffix in ("-wal", "-shm"):  # an empty database's leftovers must not be replayed
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(dumped, tmp)
        return
    args, env = _pg_args(url)
    _run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
          *args, str(dumped)], env)  # fmt: skip


def restore_backup(config, path: str | Path, progress: Callable | None = None) -> dict:
    """Restore a backup into the configured empty database; return expected and found counts.

    Raises BackupError when the target is not empty, the archive is not a backup, or the counts
    after the restore differ from the manifest.
    """
    url = config["DATABASE_URL"]
    step = progress or (lambda *_: None)
    uploads = upload_dir(config)
    try:
        tar = tarfile.open(path)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"无法读取备份文件 {path}：{exc}") from None
    engine = make_engine(url)
    try:
        with tar, tempfile.TemporaryDirectory() as work:
            manifest = read_manifest(tar)
            _check_empty(engine, url, uploads)
            members = [m for m in tar.getmembers() if m.isfile()]
            for m in members:
                _safe_member(m.name)
            db_member = next((m for m in members if m.name.startswith("database.")), None)
            if db_member is None:
                raise BackupError("备份文件中没有数据库")
            step("数据库", 0, manifest.get("files", 0))
            tar.extract(db_member, work, filter="data")
            _restore_database(url, engine, Path(work) / db_member.name, manifest)
            files = [m for m in members if m.name.startswith("uploads/")]
            for i, m in enumerate(files, 1):
                tar.extract(m, work, filter="data")
                target = uploads / PurePosixPath(m.name).relative_to("uploads")
                with atomic_path(target) as tmp:
                    shutil.copyfile(Path(work) / m.name, tmp)
                step("上传文件", i, len(files))
        engine.dispose()
        engine = make_engine(url)
        found = table_counts(engine)
    finally:
        engine.dispose()
    expected = manifest["counts"]
    if found != expected:
        differ = sorted(t for t in set(found) | set(expected) if found.get(t) != expected.get(t))
        diff = "，".join(f"{t} 应为 {expected.get(t)} 实为 {found.get(t)}" for t in differ)
        raise BackupError(f"恢复后的行数与备份不一致：{diff}")
    return {"expected": expected, "found": found, "files": len(files), "manifest": manifest}
