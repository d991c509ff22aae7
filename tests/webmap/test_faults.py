"""Faults: kill -9 during a ledger import and during web writes, then restart; bad data folders.

A killed import leaves all or none of its rows (one transaction), the SQLite file passes
``PRAGMA integrity_check``, and every write the server acknowledged before the kill is there.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
YZMAP = str(Path(sys.executable).with_name("yzmap"))


def _bench(name: str):
    """Import a module of bench/ (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _count(db: Path, table: str) -> int:
    """Return the rows of a table of a SQLite file."""
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608


def _integrity(db: Path) -> str:
    """Return SQLite's verdict on a database file."""
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.mark.slow
def test_kill_9_during_import_leaves_all_or_none(tmp_path):
    """Killed mid-import, the store is intact with none of the rows; run again, all of them."""
    from geo.boundaries import load_shipped

    env = dict(os.environ, YZMAP_INSTANCE_PATH=str(tmp_path))
    subprocess.run([YZMAP, "init"], env=env, check=True, capture_output=True)
    db = tmp_path / "yzmap.sqlite"
    before = _count(db, "issues")
    ledger = tmp_path / "big.xlsx"
    _bench("ledger").write_ledger(ledger, 3000, load_shipped())
    proc = subprocess.Popen([YZMAP, "import-ledger", str(ledger)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(4)  # into the import: reading, geocoding or inserting
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _integrity(db) == "ok"
    assert _count(db, "issues") == before  # nothing half-imported
    done = subprocess.run([YZMAP, "import-ledger", str(ledger)], env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _integrity(db) == "ok" and _count(db, "issues") == before + 3000


@pytest.mark.slow
def test_kill_9_of_the_server_during_writes_loses_no_acknowledged_write(tmp_path):
    """A short load with writes, kill -9 mid-way, restart: every acknowledged write is there."""
    load = _bench("load")
    load.prepare(tmp_path, None, 6)
    proc = load.start_server(tmp_path, None, 5093, 2, 4)
    base = "http://127.0.0.1:5093"
    numbers = load.issue_numbers(base)
    res = load.Results()
    stop_at = time.monotonic() + 6
    import threading

    users = [threading.Thread(target=load.user_loop, args=(base, i, numbers, stop_at, res,
                                                            (0.0, 0.05))) for i in range(6)]
    for t in users:
        t.start()
    time.sleep(4)
    _kill_tree(proc.pid)
    proc.wait()
    proc.stderr.close()
    for t in users:
        t.join()
    db = tmp_path / "yzmap.sqlite"
    assert _integrity(db) == "ok"
    assert res.acked, "no write was acknowledged before the kill"
    assert load.lost_writes(tmp_path, None, res.acked) == []
    # and it serves again after the restart
    proc = load.start_server(tmp_path, None, 5093, 1, 4)
    load.stop_server(proc)


def _kill_tree(pid: int) -> None:
    """kill -9 the server and its forked workers."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    for child in [int(c) for c in children.split()] + [pid]:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _yzmap(*args, instance: Path, limit: int | None = None) -> subprocess.CompletedProcess:
    """Run ``yzmap`` on ``instance``; ``limit`` caps the bytes any file may grow to (full disk)."""

    def cap():
        """Make writes past ``limit`` fail with EFBIG instead of killing the child (SIGXFSZ)."""
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([YZMAP, *args], capture_output=True, text=True,
                          env=dict(os.environ, YZMAP_INSTANCE_PATH=str(instance)),
                          preexec_fn=cap if limit else None)  # fmt: skip


def _clear_failure(done: subprocess.CompletedProcess, *words: str) -> None:
    """Assert a command failed with a named Chinese error and no traceback."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("错误：")
    for word in words:
        assert word in done.stderr


def test_data_folder_under_a_file_is_a_clear_error(tmp_path):
    """A data folder that cannot be created (a file in the way): a Chinese message, even as root."""
    (tmp_path / "plain").write_text("not a folder")
    done = _yzmap("init", instance=tmp_path / "plain" / "i")
    _clear_failure(done, "路径中有一段是文件而不是文件夹", str(tmp_path / "plain"))


def test_read_only_data_folder_is_a_clear_error(tmp_path):
    """A data folder the process may not write (non-root only: root writes anywhere)."""
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere; the file-in-the-way case covers root")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        done = _yzmap("init", instance=ro / "i")
    finally:
        ro.chmod(0o700)
    _clear_failure(done, "没有权限")


def test_full_disk_during_backup_is_a_clear_error_and_leaves_no_file(tmp_path):
    """Writes that hit the size cap (a full disk) end the backup with a Chinese error, no file."""
    assert _yzmap("init", "--sample", instance=tmp_path / "i").returncode == 0
    target = tmp_path / "b.tar"
    done = _yzmap("backup", str(target), instance=tmp_path / "i", limit=64_000)
    _clear_failure(done, "备份失败")
    assert not target.exists()
    assert _yzmap("backup", str(target), instance=tmp_path / "i").returncode == 0
