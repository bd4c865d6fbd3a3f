"""Atomic writes: a reader sees a file as it was or as it is after, never half-written.

Each file is written to a hidden temporary beside it (`.<name>.<random>.tmp`), flushed to disk,
then renamed over the target. A process killed before the rename leaves the target as it was
and, at worst, that hidden temporary: no reader opens it (readers open files by their exact
names), and any `.*.tmp` file is safe to delete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _current_umask() -> int:
    """The process umask (read without changing it where Linux allows; else set and restore)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The permissions a plain `open(path, "w")` would give: those of the file being replaced,
    else 0o666 less the umask (mkstemp's own 0o600 would hide shared reports from their readers)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_current_umask()


def _write_temp(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _mode_for(path))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = _write_temp(path, data)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_many(files: dict[Path, str]) -> None:
    """Write every file to a temporary first; rename only once all are written, so a failure
    while writing leaves every file as it was."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, text in files.items():
            temps.append((_write_temp(path, text.encode("utf-8")), path))
    except BaseException:
        for tmp, _path in temps:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in temps:
        os.replace(tmp, path)
    for directory in {path.parent for path in files}:
        _fsync_dir(directory)


def file_lock(path: Path, timeout: float = 60.0):
    """An inter-process lock guarding `path` (a sibling `.<name>.lock` file): hold it around
    read-modify-write cycles so concurrent writers cannot lose each other's rows."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path.parent / f".{path.name}.lock"), timeout=timeout)
