"""Results handed over as files: a task writes its part next to the output, not back as data.

``PartFolder`` makes a folder next to the output; a task on a worker that sees it
(``sees_folder``: the same machine or a shared file system) writes its part there with
``write_part`` and returns the part's path, and the caller copies the parts in task order
(``take_part``). Results sent back as data cross two sockets (worker to scheduler to client)
and cost CPU in all three processes; a part is one write on the worker and one copy on the
caller. ``file_stamp`` and ``sees_file`` tell whether a worker sees the caller's input file
unchanged, so it can read its byte ranges itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

__all__ = ["TOKEN_NAME", "PartFolder", "file_stamp", "sees_file", "sees_folder", "take_part",
           "write_part"]

TOKEN_NAME = "token"  # the file in a part folder that tells a worker it sees this very folder


class PartFolder:
    """A folder next to an output file where tasks write their results as part files.

    ``spec`` (the folder and a random token written in it) travels with the tasks; a worker that
    reads the same token there sees this very folder (the same machine or a shared file system),
    not a namesake elsewhere, and writes its parts into it (``write_part``); any other worker
    returns its result as data. The folder and any part left in it are removed on leaving the
    ``with`` block, whether the run succeeded, failed or was interrupted.
    """

    def __init__(self, beside: str | os.PathLike) -> None:
        """Prepare a folder next to ``beside`` (absolute: workers may run in another directory)."""
        self.beside = Path(os.path.abspath(beside))
        self.path: Path | None = None
        self.token = uuid.uuid4().hex

    @property
    def spec(self) -> tuple[str, str]:
        """What a task needs to write parts here: (folder, token)."""
        return str(self.path), self.token

    def __enter__(self) -> PartFolder:
        """Create the folder (readable by this user only, as the parts are) and its token."""
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.beside.name}.parts-",
                                          dir=self.beside.parent))
        try:
            (self.path / TOKEN_NAME).write_text(self.token, encoding="ascii")
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        """Remove the folder with whatever is left in it."""
        self.remove()

    def remove(self, attempts: int = 50) -> None:
        """Remove the folder, even while a task still running elsewhere writes a part into it.

        A cancelled task cannot be stopped mid-way. The folder is renamed first, so no task
        creates a part under its name any more (at most one in the middle of doing so does,
        which the retries below sweep up), then removed with whatever it holds.
        """
        if self.path is None:
            return
        try:
            doomed = self.path.rename(self.path.with_name(f"{self.path.name}-removed"))
        except FileNotFoundError:
            return  # removed already
        except OSError:
            doomed = self.path  # cannot rename here: remove it in place
        for _ in range(attempts):
            shutil.rmtree(doomed, ignore_errors=True)
            if not doomed.exists():
                return
            time.sleep(0.1)
        shutil.rmtree(doomed)  # still there: let the error say why


_SEEN_FOLDERS: dict[tuple[str, str], bool] = {}  # per worker process: (folder, token) -> seen


def sees_folder(spec: tuple[str, str]) -> bool:
    """True when this process sees the part folder of ``spec`` (its token) and may write in it."""
    if spec not in _SEEN_FOLDERS:
        if len(_SEEN_FOLDERS) > 100:  # one entry per run: forget old runs
            _SEEN_FOLDERS.clear()
        folder, token = spec
        try:
            with open(os.path.join(folder, TOKEN_NAME), encoding="ascii") as fh:
                seen = fh.read() == token and os.access(folder, os.W_OK)
        except (OSError, ValueError):
            seen = False
        _SEEN_FOLDERS[spec] = seen
    return _SEEN_FOLDERS[spec]


def write_part(spec: tuple[str, str] | None, data: bytes) -> str | None:
    """Write ``data`` as a new part file in the folder of ``spec``; return its path.

    None (nothing written) when there is no folder or this process does not see it: the caller
    then returns the data itself.
    """
    if spec is None or not sees_folder(spec):
        return None
    fd, name = tempfile.mkstemp(dir=spec[0], suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        os.unlink(name)
        raise
    return name


def take_part(path: str) -> bytes:
    """Read a part written by a worker and remove it (the folder stays small during a run)."""
    with open(path, "rb") as fh:
        data = fh.read()
    os.unlink(path)
    return data


def file_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """(size, modification time in ns) of a file: what ``sees_file`` compares on a worker."""
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def sees_file(path: str, stamp: tuple[int, int]) -> bool:
    """True when ``path`` here is a file with this ``file_stamp`` (the client's file, unchanged)."""
    try:
        return file_stamp(path) == tuple(stamp)
    except OSError:
        return False
