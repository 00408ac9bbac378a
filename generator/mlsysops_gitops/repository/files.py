"""The rendered files on disk: compare with a fresh render, stage, write, lock.

Render owns ``base/``, ``overlays/`` and ``argocd/`` entirely: a file there that the
fresh render does not produce is stale and removed. Nothing outside them is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.errors import RepositoryError

FILE_MODE = 0o644
LOCK_NAME = ".mlsysops-gitops.lock"


@dataclasses.dataclass(frozen=True)
class Changes:
    """Paths a render creates, updates and deletes, each sorted."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(sorted((*self.created, *self.updated, *self.deleted)))


def read_outputs(repo: Path) -> dict[str, bytes]:
    """Return every file under the output folders, by POSIX path relative to ``repo``."""
    found: dict[str, bytes] = {}
    for folder in layout.OUTPUT_DIRS:
        top = repo / folder
        if not top.is_dir():
            continue
        for directory, subdirectories, files in os.walk(top):
            subdirectories.sort()
            for name in sorted(files):
                path = Path(directory) / name
                found[path.relative_to(repo).as_posix()] = path.read_bytes()
    return found


def compare(current: Mapping[str, bytes], fresh: Mapping[str, bytes]) -> Changes:
    """Return what must change on disk for ``current`` to equal ``fresh``."""
    return Changes(
        created=tuple(sorted(path for path in fresh if path not in current)),
        updated=tuple(sorted(path for path in fresh if path in current and current[path] != fresh[path])),
        deleted=tuple(sorted(path for path in current if path not in fresh)),
    )


def stage(files: Mapping[str, bytes]) -> tempfile.TemporaryDirectory[str]:
    """Write ``files`` into a new temporary directory, for verification before they land."""
    staging = tempfile.TemporaryDirectory(prefix="mlsysops-gitops-")
    root = Path(staging.name)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return staging


def apply(repo: Path, fresh: Mapping[str, bytes], changes: Changes) -> None:
    """Write created and updated files, each atomically, then remove deleted ones."""
    for path in (*changes.created, *changes.updated):
        _write_atomic(repo / path, fresh[path])
    for path in changes.deleted:
        (repo / path).unlink(missing_ok=True)
    _remove_empty_dirs(repo, {str(Path(path).parent) for path in changes.deleted})


def _write_atomic(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        # A fixed mode, so that the umask never changes what Git records.
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _remove_empty_dirs(repo: Path, directories: set[str]) -> None:
    for directory in sorted(directories, key=lambda name: name.count("/"), reverse=True):
        path = repo / directory
        while path != repo and path.is_dir() and not any(path.iterdir()):
            path.rmdir()
            path = path.parent


@contextlib.contextmanager
def render_lock(lock_dir: Path) -> Iterator[None]:
    """Hold the lock that keeps two renders off one repository.

    Raises:
        RepositoryError: when another render holds it.
    """
    lock = lock_dir / LOCK_NAME
    descriptor = _acquire(lock)
    try:
        os.write(descriptor, f"{os.getpid()}\n".encode())
        os.close(descriptor)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _acquire(lock: Path) -> int:
    for attempt in range(2):
        try:
            return os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        except FileExistsError:
            owner = _read_pid(lock)
            if attempt == 0 and owner is not None and not _alive(owner):
                # The render that took the lock died, so the lock is stale.
                lock.unlink(missing_ok=True)
                continue
            raise RepositoryError(
                f"another render is running on this repository (lock {lock} held by process {owner}); "
                "wait for it to finish"
            ) from None
    raise AssertionError("unreachable")


def _read_pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM
    return True


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
