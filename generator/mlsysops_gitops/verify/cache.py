"""Remember which kustomizations built, so that an unchanged one is not built again.

A kustomization is keyed by a digest of everything its build can read: every file under
its folder, and recursively the folders of the kustomizations its ``resources``,
``components`` and ``bases`` name, together with the kustomize command and its version.
Files elsewhere are out of reach: kustomize's default load restrictor (the one render
and Argo CD use) rejects a file outside the kustomization's folder, so such a build fails
and a failed build is never recorded. A kustomization that names anything that is not in
the rendered tree (a remote URL, a path above the repository) gets no digest and is built
every time.

The cache is one file with the digests of the kustomizations that built in the last
verification, so it stays as large as the repository's kustomizations.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import yaml

FORMAT = "mlsysops-gitops verified kustomizations v1"
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Fields whose entries name other kustomizations (folders) as well as files.
REFERENCE_FIELDS = ("resources", "components", "bases")

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader


def tool_identity(command: Sequence[str]) -> str | None:
    """Return the kustomize binary's path and version output, or None when the version is unknown."""
    binary = command[0]
    version = [binary, "version"] if command[1:] == ["build"] else [binary, "version", "--client"]
    try:
        result = subprocess.run(version, capture_output=True, check=False, timeout=60, env={**os.environ, "KUBECONFIG": os.devnull})
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return f"{os.path.realpath(binary)}\n{' '.join(command)}\n{result.stdout.decode('utf-8', 'replace').strip()}"


class Inputs:
    """The files each kustomization of a rendered tree can read, and their digests."""

    def __init__(self, tree: Mapping[str, bytes]) -> None:
        self.tree = tree
        self.paths = sorted(tree)
        self._file_digests: dict[str, bytes] = {}
        self._closures: dict[str, frozenset[str] | None] = {}

    def files(self, directory: str) -> frozenset[str] | None:
        """Return every file the kustomization in ``directory`` can read, or None when unknown."""
        if directory not in self._closures:
            # Marked unknown first, so that two kustomizations naming each other end.
            self._closures[directory] = None
            self._closures[directory] = self._collect(directory)
        return self._closures[directory]

    def digest(self, directory: str, tool: str) -> str | None:
        """Return the digest of the kustomization in ``directory`` and its inputs, or None."""
        files = self.files(directory)
        if files is None:
            return None
        hasher = hashlib.sha256(f"{FORMAT}\n{tool}\n{directory}\n".encode())
        for path in sorted(files):
            hasher.update(f"{path}\n".encode())
            hasher.update(self._file_digest(path))
        return hasher.hexdigest()

    def _collect(self, directory: str) -> frozenset[str] | None:
        found = set(self._under(directory))
        kustomization = self._kustomization(directory)
        if kustomization is None:
            return None
        for entry in _references(kustomization):
            target = posixpath.normpath(posixpath.join(directory, entry))
            if target in self.tree:
                found.add(target)
                continue
            if target.startswith("../") or target in (".", "..") or not self._under(target):
                # A URL, an absolute path or a path that is not in the tree: its content
                # is out of sight, so the build must run every time.
                return None
            nested = self.files(target) if self._kustomization(target) is not None else frozenset(self._under(target))
            if nested is None:
                return None
            found |= nested
        return frozenset(found)

    def _under(self, directory: str) -> list[str]:
        """Return the paths below ``directory``: a contiguous run of the sorted paths."""
        prefix = f"{directory}/"
        start = bisect.bisect_left(self.paths, prefix)
        end = bisect.bisect_left(self.paths, prefix[:-1] + chr(ord("/") + 1), start)
        return self.paths[start:end]

    def _kustomization(self, directory: str) -> object | None:
        for name in KUSTOMIZATION_FILES:
            path = f"{directory}/{name}"
            if path in self.tree:
                try:
                    return yaml.load(self.tree[path], Loader=_Loader)
                except yaml.YAMLError:
                    return None
        return None

    def _file_digest(self, path: str) -> bytes:
        digest = self._file_digests.get(path)
        if digest is None:
            digest = self._file_digests[path] = hashlib.sha256(self.tree[path]).digest()
        return digest


    @staticmethod
    def references(content: bytes) -> list[str]:
        """Return the entries of a kustomization file's fields that name files or other kustomizations."""
        try:
            return list(_references(yaml.load(content, Loader=_Loader)))
        except yaml.YAMLError:
            return []


def _references(kustomization: object) -> Iterable[str]:
    """Yield the entries of the fields that name files or other kustomizations."""
    if not isinstance(kustomization, dict):
        return
    for field in REFERENCE_FIELDS:
        entries = kustomization.get(field) or []
        for entry in entries if isinstance(entries, list) else [entries]:
            yield str(entry)


class VerifiedCache:
    """The digests of the kustomizations that built in the last verification.

    ``path`` None keeps nothing, so every kustomization is built.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def load(self) -> frozenset[str]:
        """Return the recorded digests; an unreadable or foreign file counts as empty."""
        if self.path is None:
            return frozenset()
        try:
            lines = self.path.read_text(encoding="ascii").splitlines()
        except (OSError, UnicodeDecodeError):
            return frozenset()
        if not lines or lines[0] != FORMAT:
            return frozenset()
        return frozenset(line for line in lines[1:] if line)

    def save(self, digests: Iterable[str]) -> None:
        """Replace the recorded digests atomically; a cache that cannot be written is skipped."""
        if self.path is None:
            return
        content = "\n".join([FORMAT, *sorted(set(digests))]) + "\n"
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
            try:
                with os.fdopen(descriptor, "w", encoding="ascii") as stream:
                    stream.write(content)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
