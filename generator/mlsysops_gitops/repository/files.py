"""The rendered files on disk: compare with a fresh render, stage, write, lock.

Render owns ``base/``, ``overlays/`` and ``argocd/`` entirely: a file there that the
fresh render does not produce is stale and removed. Nothing outside them is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.errors import RepositoryError
from mlsysops_gitops.progress import QUIET, Progress

FILE_MODE = 0o644
LOCK_NAME = ".mlsysops-gitops.lock"
# Linux's memory file system, where staging is fastest; missing elsewhere.
SHARED_MEMORY = "/dev/shm"
# Record of the last render's output, by path and SHA-256, kept next to the lock (inside
# .git/ in a Git repository), so that a render can tell its own uncommitted output from
# hand edits.
WRITTEN_NAME = "mlsysops-gitops-written.json"


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
        _reject_symlink(repo, folder)
        if not top.is_dir():
            continue
        # Plain strings instead of Path objects: a render reads every output, 11,632 files for 10,000 nodes.
        for directory, subdirectories, files in os.walk(top):
            subdirectories.sort()
            relative = os.path.relpath(directory, repo).replace(os.sep, "/")
            # os.walk lists a symlink to a folder among the folders and does not enter it.
            for name in subdirectories:
                _reject_symlink(repo, f"{relative}/{name}")
            for name in sorted(files):
                path = os.path.join(directory, name)
                # A FIFO would block the read for ever, and a device is no output of ours.
                if not stat.S_ISREG(os.stat(path).st_mode):
                    raise RepositoryError(f"{relative}/{name} is not a regular file; render owns {folder}/, so remove it and render again")
                with open(path, "rb") as stream:
                    found[f"{relative}/{name}"] = stream.read()
    return found


def check_no_symlinks(repo: Path, paths: Iterable[str]) -> None:
    """Reject ``paths`` (relative to ``repo``) when a folder on the way to one is a symlink.

    A symlinked folder committed under base/ would make render write wherever it points,
    outside the repository. Only the folders are checked: writing over a symlinked file
    replaces the link itself.

    Raises:
        RepositoryError: naming the first symlink found.
    """
    checked: set[str] = set()
    for path in sorted(paths):
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in checked:
                _reject_symlink(repo, folder)
                checked.add(folder)


def _reject_symlink(repo: Path, folder: str) -> None:
    if os.path.islink(repo / folder):
        raise RepositoryError(
            f"{folder} is a symlink (to {os.readlink(repo / folder)}), so render would write outside the repository; "
            f"nothing was written. Remove it (git rm {folder}) and render again"
        )


def compare(current: Mapping[str, bytes], fresh: Mapping[str, bytes]) -> Changes:
    """Return what must change on disk for ``current`` to equal ``fresh``."""
    return Changes(
        created=tuple(sorted(path for path in fresh if path not in current)),
        updated=tuple(sorted(path for path in fresh if path in current and current[path] != fresh[path])),
        deleted=tuple(sorted(path for path in current if path not in fresh)),
    )


def stage(files: Mapping[str, bytes]) -> tempfile.TemporaryDirectory[str]:
    """Write ``files`` into a new temporary directory, for verification before they land."""
    staging = tempfile.TemporaryDirectory(prefix="mlsysops-gitops-", dir=_staging_parent(files))
    root = Path(staging.name)
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return staging


def _staging_parent(files: Mapping[str, bytes]) -> str | None:
    """Return the shared-memory folder when it has room for ``files`` and TMPDIR is unset, else None (the default).

    Staging creates thousands of small files that kustomize reads once. On the benchmark
    machine (ext4 on a virtual disk) staging 11,632 files took 5 s in /tmp and 0.25 s
    in /dev/shm.
    """
    if os.environ.get("TMPDIR") or not os.access(SHARED_MEMORY, os.W_OK):
        return None
    # Every file takes at least one page in memory; keep twice that free for the builds.
    needed = 2 * sum(len(content) + 4096 for content in files.values())
    with contextlib.suppress(OSError):
        if shutil.disk_usage(SHARED_MEMORY).free > needed:
            return SHARED_MEMORY
    return None


def apply(repo: Path, fresh: Mapping[str, bytes], changes: Changes, progress: Progress = QUIET) -> None:
    """Write created and updated files, each atomically, then remove deleted ones.

    Raises:
        RepositoryError: when a folder on the way is a symlink (nothing is written then),
            or when a file cannot be written or removed (the caller restores the outputs).
    """
    check_no_symlinks(repo, changes.paths)
    path = ""
    try:
        for path in progress.track("write", (*changes.created, *changes.updated)):
            _write_atomic(repo / path, fresh[path])
        for path in changes.deleted:
            (repo / path).unlink(missing_ok=True)
        _remove_empty_dirs(repo, {str(Path(path).parent) for path in changes.deleted})
    except OSError as error:
        reason = (error.strerror or str(error)).lower()
        raise RepositoryError(f"cannot write {path}: {reason}; check the permissions of {(repo / path).parent} and run again") from error


def write_new(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` under ``root``, each atomically, creating folders as needed."""
    for path, content in sorted(files.items()):
        _write_atomic(root / path, content)


def restore(repo: Path, previous: Mapping[str, bytes], written: Mapping[str, bytes]) -> None:
    """Put the outputs back as ``previous`` after ``written`` landed and a later step failed.

    The disk is read again rather than trusting ``written``: a write that failed halfway
    left some files old, and rewriting those could fail again for the same reason.
    """
    try:
        on_disk = read_outputs(repo)
    except (OSError, RepositoryError):
        on_disk = dict(written)
    apply(repo, previous, compare(on_disk, previous))


def hand_edits(
    repo: Path, candidates: Iterable[str], fresh: Mapping[str, bytes], written: Mapping[str, str], current: Mapping[str, bytes] | None = None
) -> tuple[str, ...]:
    """Return the ``candidates`` that a render would overwrite or delete and that it did not write.

    ``candidates`` are generated paths with uncommitted changes; ``written`` maps each path
    the last render wrote to the SHA-256 of its content. A file equal to the fresh render
    loses nothing, and a file the last render wrote is no hand edit. ``current`` is the
    outputs ``read_outputs`` returned, which spares reading those files again.
    """
    edited = []
    for path in candidates:
        content = current.get(path) if current is not None else None
        if content is None:
            target = repo / path
            if not target.is_file():
                continue
            content = target.read_bytes()
        if content != fresh.get(path) and written.get(path) != _digest(content):
            edited.append(path)
    return tuple(sorted(edited))


def read_written(state_dir: Path) -> dict[str, str]:
    """Return the digests recorded by ``record_written``, or nothing when the record is missing or unreadable."""
    try:
        data = json.loads((state_dir / WRITTEN_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(path): str(digest) for path, digest in data.items()} if isinstance(data, dict) else {}


def record_written(state_dir: Path, outputs: Mapping[str, bytes]) -> None:
    digests = {path: _digest(content) for path, content in sorted(outputs.items())}
    _write_atomic(state_dir / WRITTEN_NAME, json.dumps(digests, indent=0, sort_keys=True).encode("utf-8"))


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def copy_inputs(source: Path, target: Path) -> None:
    """Replace the descriptions and settings file under ``target`` with those of ``source``."""
    shutil.rmtree(target / layout.DESCRIPTIONS_DIR, ignore_errors=True)
    (target / layout.SETTINGS_FILE).unlink(missing_ok=True)
    if (source / layout.DESCRIPTIONS_DIR).is_dir():
        shutil.copytree(source / layout.DESCRIPTIONS_DIR, target / layout.DESCRIPTIONS_DIR, symlinks=True)
    if (source / layout.SETTINGS_FILE).is_file():
        shutil.copy2(source / layout.SETTINGS_FILE, target / layout.SETTINGS_FILE)


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
        RepositoryError: when another render has taken it.
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
