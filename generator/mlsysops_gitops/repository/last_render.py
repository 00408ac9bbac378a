"""The record of the last render, which lets a render with nothing changed skip its work.

The inputs of a render are every file under ``descriptions/``, the settings file, the
effective settings, ``--strict`` and the code of mlsysops-gitops itself. When they are
byte for byte those of the last render, and the outputs on disk are still exactly what
that render wrote, a new render would write the same bytes again. So it reuses the
outputs on disk and the warnings recorded last time instead of reading, validating and
rendering every description again. Any difference, or a missing or unreadable record,
means a full render.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pydantic
import yaml

from mlsysops_gitops import layout
from mlsysops_gitops.errors import Problem

FORMAT = "mlsysops-gitops last render v1"
RECORD = "mlsysops-gitops/last-render.json"
PACKAGE = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class InputsKey:
    """The digest of a render's inputs, and their sizes and modification times when it was taken."""

    digest: str
    stats: tuple[tuple[str, int, int], ...]

    def still_current(self, repo: Path) -> bool:
        """Return whether no input changed since the key was taken, judged by size and modification time."""
        return _stats(_input_paths(repo)) == self.stats


def inputs_key(repo: Path, settings: str, *, strict: bool) -> InputsKey:
    """Return the key of everything a render reads; ``settings`` is the effective settings as JSON."""
    hasher = hashlib.sha256(f"{FORMAT}\n{code_fingerprint()}\nstrict={strict}\n{settings}\n".encode())
    paths = _input_paths(repo)
    stats = _stats(paths)
    for relative, path in paths:
        hasher.update(f"{relative}\n".encode())
        hasher.update(hashlib.sha256(_read_regular(path)).digest())
    return InputsKey(hasher.hexdigest(), stats)


def _read_regular(path: str) -> bytes:
    """Return the content of a regular file, or a marker for anything else: opening a FIFO would block."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b"\0not a regular file"
        with open(path, "rb") as stream:
            return stream.read()
    except OSError:
        return b"\0missing"


def _input_paths(repo: Path) -> list[tuple[str, str]]:
    """Return the relative and full path of every input file; plain strings, because there are thousands."""
    paths = [(layout.SETTINGS_FILE, os.path.join(repo, layout.SETTINGS_FILE))]
    top = os.path.join(repo, layout.DESCRIPTIONS_DIR)
    for directory, subdirectories, names in os.walk(top):
        subdirectories.sort()
        relative = os.path.relpath(directory, repo).replace(os.sep, "/")
        paths += [(f"{relative}/{name}", os.path.join(directory, name)) for name in sorted(names)]
    return paths


def _stats(paths: Sequence[tuple[str, str]]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for relative, path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            continue
        found.append((relative, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Return a digest of this package's files and the versions of the libraries that shape the output."""
    hasher = hashlib.sha256(f"{sys.version}\n{yaml.__version__}\n{pydantic.VERSION}\n".encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            hasher.update(f"{path.relative_to(PACKAGE).as_posix()}\n".encode())
            hasher.update(hashlib.sha256(path.read_bytes()).digest())
    return hasher.hexdigest()


def outputs_digest(outputs: Mapping[str, bytes]) -> str:
    hasher = hashlib.sha256()
    for path in sorted(outputs):
        hasher.update(f"{path}\n".encode())
        hasher.update(hashlib.sha256(outputs[path]).digest())
    return hasher.hexdigest()


def reuse(state_dir: Path, key: InputsKey, read_outputs: Callable[[], dict[str, bytes]]) -> tuple[dict[str, bytes], list[Problem]] | None:
    """Return the outputs on disk and the last render's warnings when both inputs and outputs match its record.

    The outputs are read only when the inputs match.
    """
    try:
        record = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
        if record["format"] != FORMAT or record["inputs"] != key.digest:
            return None
        outputs = read_outputs()
        if record["outputs"] != outputs_digest(outputs):
            return None
        return outputs, [Problem(**warning) for warning in record["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(state_dir: Path, key: InputsKey, outputs: Mapping[str, bytes], warnings: Sequence[Problem]) -> None:
    """Replace the record atomically; a record that cannot be written only costs the next render time."""
    content = json.dumps(
        {"format": FORMAT, "inputs": key.digest, "outputs": outputs_digest(outputs), "warnings": [warning.as_dict() for warning in warnings]},
        indent=1,
    )
    target = state_dir / RECORD
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(content)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def forget(state_dir: Path) -> None:
    """Remove the record, so that the next render runs in full."""
    (state_dir / RECORD).unlink(missing_ok=True)
