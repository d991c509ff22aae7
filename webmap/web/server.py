"""Serving the app with waitress: several worker processes, and a graceful stop on SIGTERM.

``serve(make_app, host, port, threads, workers)`` binds the listening socket once; with one
worker the current process serves, with more it forks that many workers that accept on the
shared socket (the kernel spreads connections, so reads scale with cores) and restarts a worker
that dies. On SIGTERM or SIGINT each worker stops accepting, lets the requests it has finish
(up to ``SHUTDOWN_GRACE_SECONDS``), then exits; the parent waits for them. Files are only ever
written through ``geo.files`` (temporary file, then rename) and database writes are
transactions, so a stop, even a kill -9, leaves no half-written file or row.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from waitress.channel import HTTPChannel
from waitress.server import create_server

log = logging.getLogger("webmap.server")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def bind_socket(host: str, port: int) -> socket.socket:
    """Return a listening TCP socket on ``host:port`` that forked workers can share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _busy(server) -> bool:
    """Say whether any connection still has a request in progress or bytes to send."""
    return any(isinstance(ch, HTTPChannel) and (ch.requests or ch.total_outbufs_len)
               for ch in list(server._map.values()))  # fmt: skip


def run_worker(app, sock: socket.socket, threads: int, grace: float) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM/SIGINT, then drain requests in flight and return."""
    server = create_server(app, sockets=[sock], threads=threads, ident="yzmap")
    stop = threading.Event()
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        server.asyncore.loop(timeout=0.5, map=server._map, use_poll=True, count=1)
    # stop accepting; connections already accepted keep going until their answers are sent
    server.accepting = False
    server.del_channel()
    sock.close()
    deadline = time.monotonic() + grace
    while _busy(server) and time.monotonic() < deadline:
        server.asyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)
    if _busy(server):
        log.warning("停止时仍有请求未完成（已等待 %s 秒）", grace)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(1.0, grace / 10))


def _spawn(make_app: Callable, sock, threads: int, grace: float, index: int) -> int:
    """Fork one worker process serving on ``sock``; return its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        run_worker(make_app(index), sock, threads, grace)
    except BaseException:  # noqa: BLE001 - a worker must never return into the parent's loop
        log.exception("工作进程 %s 异常退出", index)
        code = 1
    finally:
        os._exit(code)


def serve(make_app: Callable, host: str, port: int, *, threads: int = 8, workers: int = 1,
          grace: float = 30) -> None:  # fmt: skip
    """Serve the app from ``make_app(worker_index)`` until SIGTERM/SIGINT."""
    sock = bind_socket(host, port)
    if workers <= 1:
        run_worker(make_app(0), sock, threads, grace)
        return
    children = {_spawn(make_app, sock, threads, grace, i): i for i in range(workers)}
    stopping = threading.Event()

    def forward(signum, _frame):
        """Pass a stop signal on to every worker and stop restarting them."""
        stopping.set()
        for pid in children:
            _signal(pid, signal.SIGTERM)

    for signum in STOP_SIGNALS:
        signal.signal(signum, forward)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        index = children.pop(pid, None)
        if index is not None and not stopping.is_set():
            log.warning("工作进程 %s（pid %s）已退出（状态 %s），重新启动", index, pid, status)
            time.sleep(1)  # a worker that cannot start must not be re-forked in a tight loop
            children[_spawn(make_app, sock, threads, grace, index)] = index
    sock.close()


def _signal(pid: int, signum: int) -> None:
    """Send a signal to a worker that may already have exited."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
