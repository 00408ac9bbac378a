"""A per-file cache of parsed descriptions, so that a render reparses only the files that changed.

Parsing (libyaml composing the nodes, then ``yamlfile`` building the values) is most of
the time to read a fleet. The cache maps the SHA-256 of a file's bytes to the values
``read_document`` built from them, for files that parsed without a problem. A file whose
bytes are in the cache gets a ``Document`` with the same text, values and YAML 1.1
booleans, and without nodes: ``Document.locate`` composes the text on demand when a
problem must be located. Validation, the cross-file rules and every message run as
without the cache.

The whole cache is dropped when its version differs: the code of mlsysops-gitops, the
Python, PyYAML and pydantic versions all shape the values built. A missing, unreadable or
damaged cache counts as empty, and a failed write is skipped, so the cache makes no render fail.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from mlsysops_gitops.descriptions.yamlfile import Document, decode

FORMAT = "mlsysops-gitops parsed descriptions v1"
# The only classes an entry may name: YAML timestamps become dates and datetimes.
_ALLOWED_CLASSES = {
    ("datetime", "date"): datetime.date,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "timezone"): datetime.timezone,
    ("datetime", "timedelta"): datetime.timedelta,
}
# Replaces the ``empty`` value (what a YAML null is read as) in a pickled entry, so that a
# loaded entry contains that very object and ``value is EMPTY`` stays true.
_EMPTY_ID = "empty"


class DescriptionCache:
    """Parsed values of description files, keyed by the digest of their bytes.

    Entries stay pickled until a file is read, so every file gets its own copy of its
    values, even when two files have the same bytes.
    """

    def __init__(self, path: Path | None, version: str, empty: Any) -> None:
        self.path = path
        self.version = version
        self.empty = empty
        self._entries: dict[bytes, bytes] = _load(path, version) if path is not None else {}
        self._used: dict[bytes, bytes] = {}
        self._changed = False

    def document(self, path: str, raw: bytes) -> Document | None:
        """Return the parsed document of ``raw`` read at ``path``, or None when it is not cached."""
        key = hashlib.sha256(raw).digest()
        entry = self._entries.get(key)
        if entry is None:
            return None
        try:
            data, yaml11_booleans = _Unpickler(io.BytesIO(entry), self.empty).load()
            text = decode(raw)
        except Exception:  # noqa: BLE001 (a damaged entry only means parsing the file again)
            del self._entries[key]
            self._changed = True
            return None
        self._used[key] = entry
        return Document(path, text, data, dict(yaml11_booleans))

    def store(self, raw: bytes, document: Document) -> None:
        """Keep the values of ``document``, parsed from ``raw`` without a problem."""
        key = hashlib.sha256(raw).digest()
        if key in self._used:
            return
        stream = io.BytesIO()
        try:
            _Pickler(stream, self.empty).dump((document.data, tuple(document.yaml11_booleans.items())))
        except (pickle.PicklingError, TypeError, RecursionError):
            return  # Not a plain value after all: this file is parsed on every read.
        self._used[key] = self._entries[key] = stream.getvalue()
        self._changed = True

    def save(self) -> None:
        """Replace the file with the entries this run used, unless the file has exactly these entries.

        Entries of files no longer read are dropped here, so the cache has one entry per
        description at most. A failed write leaves the old file, or none.
        """
        if self.path is None or (not self._changed and self._used.keys() == self._entries.keys()):
            return
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".descriptions-", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    pickle.dump((FORMAT, self.version, self._used), stream, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise


def _load(path: Path, version: str) -> dict[bytes, bytes]:
    """Return the entries of the cache file, or none when it is missing, damaged or of another version."""
    try:
        with open(path, "rb") as stream:
            header, found_version, entries = _Unpickler(stream, None).load()
    except Exception:  # noqa: BLE001 (any damage means an empty cache)
        return {}
    if header != FORMAT or found_version != version or not isinstance(entries, dict):
        return {}
    return entries


class _Pickler(pickle.Pickler):
    def __init__(self, stream: io.BytesIO, empty: Any) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.empty = empty

    def persistent_id(self, obj: Any) -> str | None:
        return _EMPTY_ID if obj is self.empty and obj is not None else None


class _Unpickler(pickle.Unpickler):
    """Loads plain values only: the cache file lives in the Git directory, which other tools write too."""

    def __init__(self, stream: Any, empty: Any) -> None:
        super().__init__(stream)
        self.empty = empty

    def persistent_load(self, pid: Any) -> Any:
        if pid != _EMPTY_ID or self.empty is None:
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        return self.empty

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED_CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a parsed description")
        return found
