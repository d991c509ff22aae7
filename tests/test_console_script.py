"""The installed ``yzmap`` script: ``webmap.cli:run``, the group plus a quick exit.

``run`` freezes the garbage collector at exit (the last collection of a command's heap took
~0.1 s); a command run through the script must still leave its output whole.
"""

from __future__ import annotations

import atexit
import gc
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd

import webmap.cli


def test_console_script_is_run():
    """The installed entry point is ``webmap.cli:run``."""
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "yzmap"]
    assert script.value == "webmap.cli:run"


def test_run_freezes_the_collector_at_exit_only(monkeypatch):
    """``run`` registers ``gc.freeze`` with atexit, then runs the group; ``main`` does not."""
    registered, ran = [], []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(webmap.cli, "main", lambda: ran.append(True))
    webmap.cli.run()
    assert registered == [gc.freeze] and ran == [True]


def test_script_writes_whole_output(tmp_path):
    """``yzmap locate`` through the script: exit 0, every row written, the summary printed."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = ["经度,纬度"] + ["111.6035,26.2083", "112.7,28.2"] * 500
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    yzmap = Path(sys.executable).with_name("yzmap")
    done = subprocess.run([str(yzmap), "locate", str(src), "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "完成：共 1000 行" in done.stdout
    located = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert len(located) == 1000
    assert located["county_name"].iloc[0] == "零陵区" and located["county_name"].isna().iloc[1]
