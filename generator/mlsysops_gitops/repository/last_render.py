"""The record of the last render, which lets a render with nothing changed skip its work.

A render whose inputs are byte for byte those of the last render (every file under
``descriptions/``, the settings file, the effective settings, ``--strict`` and the code
of mlsysops-gitops itself), and whose outputs on disk are still exactly what that render
wrote, would render the same bytes again. It reuses the outputs on disk and the
warnings recorded last time instead of reading, validating and rendering 10,000
descriptions again. Any difference, or a missing or unreadable record, means a full
render.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pydantic
import yaml

from mlsysops_gitops import layout
from mlsysops_gitops.errors import Problem

FORMAT = "mlsysops-gitops last render v1"
RECORD = "mlsysops-gitops/last-render.json"
PACKAGE = Path(__file__).resolve().parent.parent


def inputs_key(repo: Path, settings: str, *, strict: bool) -> str:
    """Return a digest of everything a render reads; ``settings`` is the effective settings as JSON."""
    hasher = hashlib.sha256(f"{FORMAT}\n{code_fingerprint()}\nstrict={strict}\n{settings}\n".encode())
    paths = [repo / layout.SETTINGS_FILE]
    for directory, subdirectories, names in os.walk(repo / layout.DESCRIPTIONS_DIR):
        subdirectories.sort()
        paths += [Path(directory) / name for name in sorted(names)]
    for path in paths:
        hasher.update(f"{path.relative_to(repo).as_posix()}\n".encode())
        try:
            content = path.read_bytes()
        except OSError:
            content = b"\0missing"
        hasher.update(hashlib.sha256(content).digest())
    return hasher.hexdigest()


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


def reusable_warnings(state_dir: Path, key: str, outputs: Mapping[str, bytes]) -> list[Problem] | None:
    """Return the last render's warnings when ``key`` and ``outputs`` match its record, else None."""
    try:
        record = json.loads((state_dir / RECORD).read_text(encoding="utf-8"))
        if record["format"] != FORMAT or record["inputs"] != key or record["outputs"] != outputs_digest(outputs):
            return None
        return [Problem(**warning) for warning in record["warnings"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(state_dir: Path, key: str, outputs: Mapping[str, bytes], warnings: Sequence[Problem]) -> None:
    """Replace the record atomically; a record that cannot be written only costs the next render time."""
    content = json.dumps(
        {"format": FORMAT, "inputs": key, "outputs": outputs_digest(outputs), "warnings": [warning.as_dict() for warning in warnings]},
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
