"""``yzmap backup`` then ``yzmap restore`` into an empty database: same counts, same export."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import text

from webmap.ledger.db import make_engine

YZMAP = str(Path(sys.executable).with_name("yzmap"))


def _yzmap(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run the yzmap command with an instance's environment."""
    return subprocess.run([YZMAP, *args], capture_output=True, text=True,
                          env=dict(os.environ) | env, timeout=600)  # fmt: skip


def _fresh_postgres(url: str, name: str) -> str:
    """Create an empty PostGIS database ``name`` beside the test one; return its URL."""
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    new = url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(new)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return new


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def two_stores(request, tmp_path):
    """Return the environments of a source instance and an empty target instance."""
    src = {"YZMAP_INSTANCE_PATH": str(tmp_path / "src")}
    dst = {"YZMAP_INSTANCE_PATH": str(tmp_path / "dst")}
    if request.param == "postgis":
        base = os.environ.get("YZMAP_TEST_POSTGRES_URL")
        if not base:
            pytest.skip("YZMAP_TEST_POSTGRES_URL not set")
        src["YZMAP_DATABASE_URL"] = _fresh_postgres(base, "yzmap_backup_src")
        dst["YZMAP_DATABASE_URL"] = _fresh_postgres(base, "yzmap_backup_dst")
    return src, dst


def test_backup_and_restore_give_identical_counts_and_export(two_stores, tmp_path):
    """Counts of issues, events, users and layers match, and export-ledger is byte-identical."""
    src, dst = two_stores
    assert _yzmap(src, "init", "--sample").returncode == 0
    done = _yzmap(src, "users", "add", "admin", "--role", "admin", "--password", "pw-12345678")
    assert done.returncode == 0, done.stderr
    uploads = Path(src["YZMAP_INSTANCE_PATH"]) / "uploads" / "X-1"
    uploads.mkdir(parents=True)
    (uploads / "photo.jpg").write_bytes(b"\xff\xd8 not really a photo")
    archive = tmp_path / "yzmap.tar.gz"
    done = _yzmap(src, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert "问题 64" in done.stdout and "上传文件 1 个" in done.stdout
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "uploads/X-1/photo.jpg" in names

    done = _yzmap(dst, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "核对行数一致" in done.stdout and "问题 64" in done.stdout and "用户 1" in done.stdout
    restored = Path(dst["YZMAP_INSTANCE_PATH"]) / "uploads" / "X-1" / "photo.jpg"
    assert restored.read_bytes() == b"\xff\xd8 not really a photo"
    exports = []
    for env, name in ((src, "a.csv"), (dst, "b.csv")):
        assert _yzmap(env, "export-ledger", "--format", "csv", "--out",
                      str(tmp_path / name)).returncode == 0  # fmt: skip
        exports.append((tmp_path / name).read_bytes())
    assert exports[0] == exports[1]

    # a second restore over the now non-empty database is refused, naming why
    again = _yzmap(dst, "restore", str(archive))
    assert again.returncode == 1 and "不是空的" in again.stderr and "Traceback" not in again.stderr


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    """A random file or a tar without a manifest: a named error, nothing written."""
    env = {"YZMAP_INSTANCE_PATH": str(tmp_path / "dst")}
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    done = _yzmap(env, "restore", str(junk))
    assert done.returncode == 1 and "无法读取备份文件" in done.stderr

    evil = tmp_path / "evil.tar"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w") as tar:
        tar.addfile(tarfile.TarInfo("manifest.json"), None)
    done = _yzmap(env, "restore", str(evil))
    assert done.returncode == 1 and "不是 yzmap 备份文件" in done.stderr
    assert not (tmp_path / "dst" / "uploads").exists()


def test_safe_member_rejects_traversal():
    """``../`` and absolute member names never leave the extraction folder."""
    from webmap.ledger.backup import BackupError, _safe_member

    for name in ("../etc/passwd", "/etc/passwd", "uploads/../../x"):
        with pytest.raises(BackupError, match="不安全"):
            _safe_member(name)
    assert str(_safe_member("uploads/a/b.jpg")) == "uploads/a/b.jpg"
