"""Atomic writes: a reader sees a file as it was or as it is after, never half-written.

Each file is written to a hidden temporary beside it (`.<name>.<random>.tmp`), flushed to disk,
then renamed over the target. A process killed before the rename leaves the target as it was
and, at worst, that hidden temporary: no reader opens it (readers open files by their exact
names), and any `.*.tmp` file is safe to delete. A set of files that must change as one (the
report set; the json/html pairs of check, score and backtest) goes through `write_file_set`: a
generation directory and a manifest renamed last."""

from __future__ import annotations

import json
import os
import shutil
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


MANIFEST_SUFFIX = ".manifest.json"


def _write_new(path: Path, data: bytes, mode: int) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        os.fchmod(fh.fileno(), mode)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_file_set(directory: Path, files: dict[str, str], name: str) -> list[Path]:
    """Replace a set of files as one (the report set: report.md, report.html, report.json).

    Plain files at fixed paths cannot all change in one rename, so the set has a commit point:
    1. the files are written, complete and synced, into a new hidden generation directory
       (`<directory>/.<name>-generation-<random>/`);
    2. the manifest `<directory>/<name>.manifest.json` naming that generation is replaced
       atomically: this one rename is the moment the set changes;
    3. only then are the plain files `<directory>/<file>` replaced (hard links to the
       generation's files, each renamed into place); generations older than the previous one and
       the temporaries of killed writers are removed.
    A reader that needs the files of one generation reads through the manifest (`read_file_set`)
    and always gets one whole set: before step 2 the old one, after it the new one, whatever
    moment a writer dies at. A reader of the plain files gets each file old or new, and a plain
    set stays mixed at most until the next write. A lock serialises writers of one set, so a
    writer never removes another's generation before its commit."""
    manifest = directory / f"{name}{MANIFEST_SUFFIX}"
    prefix = f".{name}-generation-"
    with file_lock(manifest):
        previous = _manifest_generation(manifest)
        generation = Path(tempfile.mkdtemp(prefix=prefix, dir=directory))
        try:
            os.chmod(generation, 0o777 & ~_current_umask())
            for file_name, text in files.items():
                _write_new(generation / file_name, text.encode("utf-8"),
                           _mode_for(directory / file_name))
            _fsync_dir(generation)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        atomic_write_text(manifest, json.dumps({"generation": generation.name,
                                                "files": sorted(files)}) + "\n")
        for file_name in files:
            _publish_plain(generation / file_name, directory / file_name)
        _fsync_dir(directory)
        for stale in directory.glob(f"{prefix}*"):
            if stale.name not in (generation.name, previous):
                shutil.rmtree(stale, ignore_errors=True)
        for dead in (manifest.name, *files):    # temporaries of writers killed under the lock
            for stale in directory.glob(f".{dead}.*.tmp"):
                stale.unlink(missing_ok=True)
    return [directory / file_name for file_name in files]


def write_file_sets(files: dict[Path, str], name: str) -> list[Path]:
    """`write_file_set` for files spread over several directories (check, score and backtest
    each write a .json and an .html per scenario, and with `--all` a pooled pair): each
    directory's files change as one set named `name`."""
    by_directory: dict[Path, dict[str, str]] = {}
    for path, text in files.items():
        by_directory.setdefault(path.parent, {})[path.name] = text
    return [written for directory, named in by_directory.items()
            for written in write_file_set(directory, named, name)]


def _manifest_generation(manifest: Path) -> str | None:
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["generation"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _publish_plain(source: Path, target: Path) -> None:
    """Put `source`'s bytes at `target` with one rename: a hard link where the file system has
    them (no second copy of the bytes), else an atomic copy."""
    link = target.parent / f".{target.name}.{source.parent.name}.tmp"
    try:
        link.unlink(missing_ok=True)
        os.link(source, link)
    except OSError:
        atomic_write_bytes(target, source.read_bytes())
        return
    os.replace(link, target)


def read_file_set(directory: Path, name: str, attempts: int = 5) -> dict[str, bytes]:
    """The files of the set's current generation, all from one generation (see
    `write_file_set`); FileNotFoundError when no set was ever written."""
    manifest = directory / f"{name}{MANIFEST_SUFFIX}"
    for attempt in range(attempts):
        entry = json.loads(manifest.read_text(encoding="utf-8"))
        generation = directory / entry["generation"]
        try:
            return {file_name: (generation / file_name).read_bytes() for file_name in entry["files"]}
        except FileNotFoundError:   # two newer sets were written while we read: read again
            if attempt == attempts - 1:
                raise
    return {}


def file_lock(path: Path, timeout: float = 60.0):
    """An inter-process lock guarding `path` (a sibling `.<name>.lock` file): hold it around
    read-modify-write cycles so concurrent writers cannot lose each other's rows."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path.parent / f".{path.name}.lock"), timeout=timeout)
