"""Benchmark: concurrent signed-in users against ``yzmap serve`` (waitress), then a write audit.

Run: ``.venv/bin/python bench/load.py [--users 50] [--seconds 120] [--workers 2]
[--database-url postgresql+psycopg://...]``. A fresh instance (SQLite by default, or the given
empty PostgreSQL database) gets the sample ledger and one account per simulated user; the
server runs in a child process; each user logs in, then loops, waiting 0.5-1.5 s between
actions (locust's ``between(0.5, 1.5)``): 90 % reads (map page, issue API, public page, detail
page) and 10 % writes (progress reports, and stage sign-offs where the issue's status allows).
Prints requests, errors and p50/p95/p99 per kind, then checks that every acknowledged write is in
the database and in the audit log. Targets: 0 errors, p95 < 500 ms on reads, 0 lost writes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
YZMAP = str(Path(sys.executable).with_name("yzmap"))
PASSWORD = "bench-password-1"  # noqa: S105 - a throw-away account in a temporary instance
READS = (("map", 20), ("api", 30), ("public", 20), ("detail", 20))
WRITES = (("progress", 7), ("signoff", 3))
STAGE_MOVES = {"整改中": ("已完成待销号", None), "已完成待销号": ("初审", "整改完成材料"),
               "初审": ("公示", "公示链接")}  # fmt: skip
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Results:
    """Timings and outcomes of every request, and the writes the server acknowledged."""

    times: dict = field(default_factory=dict)  # kind -> [seconds]
    errors: dict = field(default_factory=dict)  # kind -> [message]
    refused: int = 0  # writes the workflow refused with a named reason (not errors)
    acked: list = field(default_factory=list)  # (kind, issue number, marker)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        """Record one request."""
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            if error:
                self.errors.setdefault(kind, []).append(error)


def _env(instance: Path, database_url: str | None) -> dict:
    """Return the environment of the benchmark's instance."""
    env = dict(os.environ, YZMAP_INSTANCE_PATH=str(instance), YZMAP_LOG_LEVEL="WARNING")
    if database_url:
        env["YZMAP_DATABASE_URL"] = database_url
    return env


def prepare(instance: Path, database_url: str | None, users: int) -> None:
    """Create the database with the sample ledger and the users' accounts."""
    env = _env(instance, database_url)
    subprocess.run([YZMAP, "init", "--sample"], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    code = ("from webmap.commands import open_ledger\n"
            "from webmap.ledger.db import transaction\n"
            "from webmap.ledger.models import User\n"
            "from webmap.web.auth import hash_password\n"
            f"with open_ledger() as l, transaction(l.session):\n"
            f"    h = hash_password({PASSWORD!r})\n"
            f"    l.session.add_all(User(username=f'bench{{i}}', role='admin', password_hash=h)"
            f" for i in range({users}))\n")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def start_server(instance: Path, database_url: str | None, port: int, workers: int,
                 threads: int) -> subprocess.Popen:  # fmt: skip
    """Start ``yzmap serve`` and wait until ``/readyz`` answers 200."""
    proc = subprocess.Popen([YZMAP, "serve", "--port", str(port), "--workers", str(workers),
                             "--threads", str(threads)], env=_env(instance, database_url),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not become ready: " + proc.stderr.read().decode()[-2000:])


def stop_server(proc: subprocess.Popen) -> str:
    """Stop the server with SIGTERM (graceful) and return what it wrote to stderr."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace")


def _login(base: str, username: str) -> requests.Session:
    """Return a signed-in HTTP session."""
    s = requests.Session()
    token = _CSRF.search(s.get(f"{base}/login", timeout=30).text).group(1)
    r = s.post(f"{base}/login", data={"username": username, "password": PASSWORD,
                                      "csrf_token": token}, allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise RuntimeError(f"login of {username} failed: {r.status_code}")
    # login starts a new session, with a new CSRF token: read it from a signed-in page
    s.csrf = _CSRF.search(s.get(f"{base}/inbox", timeout=30).text).group(1)
    return s


def _pick(rng: random.Random) -> str:
    """Choose the next action by its weight."""
    kinds = READS + WRITES
    return rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]


def _write(s, base: str, kind: str, number: str, rng: random.Random, res: Results):
    """Send one write; return (response, marker) or (None, None) when there is nothing to do."""
    marker = f"bench-{uuid.uuid4().hex}"
    data = {"csrf_token": s.csrf}
    if kind == "progress":
        data |= {"percent": str(rng.choice((100, 100, 80))), "text": marker}
        return s.post(f"{base}/issues/{number}/progress", data=data, allow_redirects=False,
                      timeout=60), marker  # fmt: skip
    status = s.get(f"{base}/api/issues/{number}", timeout=60).json()["properties"]["status"]
    move = STAGE_MOVES.get(status)
    if move is None:
        return None, None
    to_status, evidence = move
    data |= {"to_status": to_status, "note": marker}
    if evidence:
        data |= {"evidence_kind": evidence, "evidence_url": f"https://example.org/{marker}"}
    return s.post(f"{base}/issues/{number}/transition", data=data, allow_redirects=False,
                  timeout=60), marker  # fmt: skip


def _one(s, anon, base: str, kind: str, number: str, rng, res: Results) -> None:
    """Run one action and record its time and outcome."""
    urls = {"map": f"{base}/", "api": f"{base}/api/issues?limit=100",
            "public": f"{base}/public", "detail": f"{base}/issues/{number}"}  # fmt: skip
    start = time.perf_counter()
    try:
        if kind in urls:
            r = (anon if kind == "public" else s).get(urls[kind], timeout=60)
            marker = None
        else:
            r, marker = _write(s, base, kind, number, rng, res)
            if r is None:
                return
    except requests.RequestException as exc:
        res.add(kind, time.perf_counter() - start, f"{type(exc).__name__}")
        return
    elapsed = time.perf_counter() - start
    if kind in urls:
        res.add(kind, elapsed, None if r.status_code == 200 else f"HTTP {r.status_code}")
    elif r.status_code == 302:
        res.add(kind, elapsed)
        with res.lock:
            res.acked.append((kind, number, marker))
    elif r.status_code == 400 and "<form" in r.text:  # the form again, naming the refusal
        res.add(kind, elapsed)
        with res.lock:
            res.refused += 1
    else:
        res.add(kind, elapsed, f"HTTP {r.status_code}")


def user_loop(base: str, index: int, numbers: list, stop_at: float, res: Results,
              think: tuple[float, float]) -> None:  # fmt: skip
    """One simulated user: log in, then act and wait until the time is up."""
    rng = random.Random(index)
    try:
        s = _login(base, f"bench{index}")
    except Exception as exc:  # noqa: BLE001 - a failed login is an error of the run
        res.add("login", 0.0, str(exc))
        return
    anon = requests.Session()
    while time.monotonic() < stop_at:
        _one(s, anon, base, _pick(rng), rng.choice(numbers), rng, res)
        time.sleep(rng.uniform(*think))


def run_load(base: str, users: int, seconds: float, numbers: list,
             think: tuple[float, float] = (0.5, 1.5)) -> Results:  # fmt: skip
    """Run ``users`` simulated users against ``base`` for ``seconds``."""
    res = Results()
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=user_loop, args=(base, i, numbers, stop_at, res, think))
               for i in range(users)]  # fmt: skip
    for t in threads:
        t.start()
        time.sleep(0.1)  # users arrive over a few seconds, as an office does, not in one burst
    for t in threads:
        t.join()
    return res


def lost_writes(instance: Path, database_url: str | None, acked: list) -> list:
    """Return the acknowledged writes missing from the database or from the audit log."""
    code = ("import json, sys\n"
            "from sqlalchemy import Text, select\n"
            "from webmap.commands import open_ledger\n"
            "from webmap.ledger.models import Event, ProgressUpdate, SignOff\n"
            "acked = json.load(sys.stdin); lost = []\n"
            "with open_ledger() as l:\n"
            "    s = l.session\n"
            "    for kind, number, marker in acked:\n"
            "        col = ProgressUpdate.text if kind == 'progress' else None\n"
            "        row = s.scalar(select(ProgressUpdate.id).where(col == marker)) if col is not None else True\n"  # noqa: E501
            "        ev = s.scalar(select(Event.id).where(Event.issue_number == number,"
            " Event.after.cast(Text).contains(marker)).limit(1))\n"
            "        if not row or not ev: lost.append([kind, number, marker])\n"
            "print(json.dumps(lost))\n")  # fmt: skip
    import json

    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(acked), text=True,
                          capture_output=True, env=_env(instance, database_url),
                          check=True)  # fmt: skip
    return json.loads(done.stdout)


def issue_numbers(base: str) -> list[str]:
    """Return the numbers of the issues an admin sees."""
    s = _login(base, "bench0")
    feats = s.get(f"{base}/api/issues?limit=1000", timeout=60).json()["features"]
    return [f["properties"]["number"] for f in feats]


def percentile(values: list, q: float) -> float:
    """Return the q-th percentile of values, in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000 if len(
        values) > 1 else (values[0] * 1000 if values else 0.0)


def report(res: Results, seconds: float, lost: list) -> dict:
    """Print the table of figures and return the totals."""
    print(f"{'kind':<10}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    rows = {k: res.times[k] for k, _ in READS + WRITES if k in res.times}
    rows["reads"] = [t for k, _ in READS for t in res.times.get(k, [])]
    rows["writes"] = [t for k, _ in WRITES for t in res.times.get(k, [])]
    for kind, times in rows.items():
        errors = (sum(len(res.errors.get(k, [])) for k, _ in READS) if kind == "reads" else
                  sum(len(res.errors.get(k, [])) for k, _ in WRITES) if kind == "writes" else
                  len(res.errors.get(kind, [])))  # fmt: skip
        print(f"{kind:<10}{len(times):>9}{errors:>8}{percentile(times, 50):>9.0f}"
              f"{percentile(times, 95):>9.0f}{percentile(times, 99):>9.0f}")
    total = sum(len(v) for v in res.times.values())
    errors = sum(len(v) for v in res.errors.values())
    print(f"total {total} requests in {seconds:.0f} s ({total / seconds:.1f}/s), {errors} errors,"
          f" {len(res.acked)} writes acknowledged, {res.refused} refused by the workflow,"
          f" {len(lost)} lost")  # fmt: skip
    for kind, messages in res.errors.items():
        print(f"  errors {kind}: {sorted(set(messages))[:5]}")
    return {"requests": total, "errors": errors, "acked": len(res.acked), "lost": len(lost),
            "read_p95": percentile(rows["reads"], 95)}  # fmt: skip


def main() -> int:
    """Prepare, serve, load, stop, audit, print; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--database-url", help="an empty PostgreSQL/PostGIS database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yzmap-load-") as tmp:
        instance = Path(tmp)
        prepare(instance, args.database_url, args.users)
        proc = start_server(instance, args.database_url, args.port, args.workers, args.threads)
        base = f"http://127.0.0.1:{args.port}"
        try:
            numbers = issue_numbers(base)
            res = run_load(base, args.users, args.seconds, numbers)
        finally:
            stderr = stop_server(proc)
        lost = lost_writes(instance, args.database_url, res.acked)
        backend = "postgis" if args.database_url else "sqlite"
        print(f"backend {backend}, {args.users} users, {args.seconds:.0f} s, "
              f"{args.workers} workers x {args.threads} threads")  # fmt: skip
        totals = report(res, args.seconds, lost)
        if "locked" in stderr or "Traceback" in stderr:
            print("server stderr:", stderr[-3000:])
    ok = totals["errors"] == 0 and totals["lost"] == 0 and totals["read_p95"] < 500
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
