"""SealedSecret files under ``descriptions/secrets/<destination>/``.

Render commits everything under ``descriptions/``, so every file here is checked in
every ``secrets_mode``: it must be a SealedSecret for namespace
``mlsysops-framework`` whose values are all encrypted. A plain Secret, or a SealedSecret
whose template carries plain data, is an error that stops the render before any commit.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import entries
from mlsysops_gitops.descriptions.yamlfile import read_document
from mlsysops_gitops.errors import Problem

MANAGEMENT = "management"
KARMADA = "karmada"
SECRETS_DIR = f"{layout.DESCRIPTIONS_DIR}/secrets"
SEALED_SECRET_API = "bitnami.com/v1alpha1"


@dataclasses.dataclass(frozen=True)
class SealedSecretFile:
    """One validated SealedSecret: the cluster it is sealed for, its name and its text."""

    destination: str
    name: str
    path: str
    text: str


def read_sealed_secrets(repo: Path) -> tuple[tuple[SealedSecretFile, ...], list[Problem]]:
    """Read and check every file under ``descriptions/secrets/``; return the valid ones and the problems."""
    top = repo / SECRETS_DIR
    if not top.is_dir():
        return (), []
    found: list[SealedSecretFile] = []
    problems: list[Problem] = []
    for directory, subdirectories, names in os.walk(top):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(repo).as_posix()
            destination = path.parent.relative_to(top).as_posix()
            if destination not in (MANAGEMENT, KARMADA):
                problems.append(Problem(relative, message=f"files under {SECRETS_DIR}/ belong in {MANAGEMENT}/ or {KARMADA}/, after the cluster whose controller can unseal them"))
                continue
            refused = entries.check_entry(repo, str(path), relative)
            if refused is not None:
                # Settings reject every problem of this folder: nothing else belongs here.
                problems.append(dataclasses.replace(refused, severity="error"))
                continue
            sealed = _read_one(path, relative, destination, problems)
            if sealed is not None:
                found.append(sealed)
    names_seen: dict[tuple[str, str], str] = {}
    for sealed in found:
        first = names_seen.setdefault((sealed.destination, sealed.name), sealed.path)
        if first != sealed.path:
            problems.append(Problem(sealed.path, kind="SealedSecret", field="metadata.name", message=f"{sealed.name!r} is also sealed in {first}; keep one"))
    return tuple(found), problems


def _read_one(path: Path, relative: str, destination: str, problems: list[Problem]) -> SealedSecretFile | None:
    if not path.name.endswith(layout.YAML_SUFFIXES):
        problems.append(Problem(relative, message="only SealedSecret YAML files belong here; keep other files, and any credential, out of the repository"))
        return None
    document, found = read_document(relative, path.read_bytes())
    problems += found
    if document is None:
        return None
    data = document.data
    before = len(problems)

    def fail(loc: tuple[str, ...], message: str) -> None:
        line, column = document.locate(loc)
        problems.append(Problem(relative, line, column, "SealedSecret", ".".join(loc), message))

    if not isinstance(data, dict):
        fail((), "expected a SealedSecret object")
        return None
    if data.get("kind") != "SealedSecret" or data.get("apiVersion") != SEALED_SECRET_API:
        fail(("kind",), f"expected kind SealedSecret of {SEALED_SECRET_API}, got {data.get('kind')!r} of {data.get('apiVersion')!r}; a plain Secret must never be committed, seal it with kubeseal")
        return None
    for key in ("data", "stringData"):
        if key in data:
            fail((key,), "a SealedSecret carries its values in spec.encryptedData only; remove this plain data")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        fail(("metadata",), "metadata.name is missing; it must be the name of the Secret the workloads reference")
    if metadata.get("namespace") != layout.NAMESPACE:
        fail(("metadata",), f"metadata.namespace must be {layout.NAMESPACE!r}, the namespace it was sealed for, got {metadata.get('namespace')!r}")
    spec: Any = data.get("spec")
    encrypted = spec.get("encryptedData") if isinstance(spec, dict) else None
    if not isinstance(encrypted, dict) or not encrypted or not all(isinstance(value, str) and value for value in encrypted.values()):
        fail(("spec",), "spec.encryptedData must map each key of the Secret to its encrypted value")
    template = spec.get("template") if isinstance(spec, dict) else None
    if isinstance(template, dict):
        for key in ("data", "stringData"):
            if template.get(key):
                fail(("spec", "template", key), "the template carries plain values, and render commits this file; seal every value into spec.encryptedData")
    if len(problems) > before:
        return None
    return SealedSecretFile(destination, str(name), relative, document.text)

