"""The last check before anything is written: no file may carry a credential.

Bases reference Secrets by name, so a match here means a value slipped in through an
input: a description, a setting, an overlay's copied file, or a Git remote URL with a
token. The check runs on every rendered file and on every input that render commits
(``descriptions/`` and ``mlsysops-gitops.yaml``), and names the file, the line and the
pattern, never the matched text.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import entries
from mlsysops_gitops.errors import InputError, Problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader

# Text patterns, each with the name printed when it matches.
_PATTERNS = (
    ("PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("kubeconfig client key (client-key-data)", re.compile(r"client-key-data:\s*['\"]?[A-Za-z0-9+/=]{16,}")),
    ("kubeconfig or service account token (token:)", re.compile(r"(?m)^\s*-?\s*token:\s*['\"]?[A-Za-z0-9._~+/=-]{16,}")),
    ("bearer token", re.compile(r"[Bb]earer\s+[A-Za-z0-9._~+/-]{20,}=*")),
    ("JSON Web Token", re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*")),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("password in a URL (scheme://user:password@host)", re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@")),
    (
        "credential in a URL query (?api_key=...)",
        re.compile(r"(?i)[?&](?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token|secret|password|passwd|sig|signature|key)=[^&\s'\"]{6,}"),
    ),
    (
        "credential assigned in code (password = \"...\")",
        re.compile(r"(?i)\b\w*(?:password|passwd|passphrase|secret|token|api_?key)\w*\s*=\s*[rbu]?['\"][^'\"\s]{6,}['\"]"),
    ),
)

# Substrings without which a pattern cannot match: checking them first is much faster
# than running every expression over every file.
_LITERALS = {
    "PEM private key": ("PRIVATE KEY-----",),
    "kubeconfig client key (client-key-data)": ("client-key-data",),
    "kubeconfig or service account token (token:)": ("token:",),
    "bearer token": ("earer",),
    "JSON Web Token": ("eyJ",),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "GitLab token": ("glpat-",),
    "AWS access key id": ("AKIA", "ASIA"),
    # Rarer than "://", which every endpoint URL holds.
    "password in a URL (scheme://user:password@host)": ("@",),
    "credential in a URL query (?api_key=...)": ("=",),
    "credential assigned in code (password = \"...\")": ("=",),
}
# Every structural finding needs one of these words in the text: each credential key and
# env name contains one, and so does a Secret's kind. A backslash may escape a letter in
# a double-quoted string, so a file with one is always parsed.
_STRUCTURAL_WORDS = ("pass", "pwd", "token", "secret", "key", "\\")

# Mapping keys whose scalar value is a credential; compared in lower case, with - and _ alike.
# net_key (a node's network password) and policy_update_token (an application's storage
# token) are fields of the MLSysOps description CRDs.
# NOTE: the agents read those two from descriptions only, so a fleet that needs them cannot
# be rendered until the agents take them from a Secret.
_CREDENTIAL_KEYS = frozenset(
    (
        "password", "passwd", "token", "client_key_data", "private_key", "api_key", "apikey", "access_key",
        "secret_key", "aws_secret_access_key", "auth_token", "bearer_token", "net_key", "policy_update_token",
    )
)
# Keys that name a credential however they are prefixed (redis_password, mqtt.api_token),
# compared in lower case with - and _ alike. A key named plain "key" is not one: it names
# the Secret key in a secretKeyRef, and secretKey names one in an ExternalSecret.
_CREDENTIAL_KEY_PATTERN = re.compile(
    r"(password|passwd|passphrase|(^|_)pwd$|(^|_)(token|secret|api_?key|access_?key|private_?key|client_?secret)$)"
)
# Names of env entries whose literal value is a credential.
_CREDENTIAL_ENV = re.compile(r"(PASSWORD|PASSWD|(^|_)PASS(_|$)|(^|_)PWD(_|$)|SECRET|TOKEN|API_?KEY|ACCESS_KEY|PRIVATE_KEY)", re.IGNORECASE)


def check_tree(files: Mapping[str, bytes]) -> None:
    """Raise InputError naming every file of ``files`` that looks like it carries a credential."""
    problems = [problem for path in sorted(files) for problem in scan(path, files[path])]
    if problems:
        raise InputError(problems)


def check_inputs(repo: Path) -> None:
    """Check the inputs render commits, as ``check_tree`` does for its outputs."""
    refused = entries.refused_inputs(repo)
    if refused:
        raise InputError(refused)
    check_tree(dict(_committed_inputs(repo)))


def _committed_inputs(repo: Path) -> Iterator[tuple[str, bytes]]:
    settings = repo / layout.SETTINGS_FILE
    if settings.is_file():
        yield layout.SETTINGS_FILE, settings.read_bytes()
    # Plain strings instead of Path objects: this runs over every description.
    for directory, subdirectories, names in os.walk(repo / layout.DESCRIPTIONS_DIR):
        subdirectories.sort()
        relative = os.path.relpath(directory, repo).replace(os.sep, "/")
        for name in sorted(names):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                with open(path, "rb") as stream:
                    yield f"{relative}/{name}", stream.read()


def scan(path: str, content: bytes) -> list[Problem]:
    """Return one problem per credential pattern found in one file."""
    return [_problem(path, line, name) for line, name in _findings(content, path.endswith(layout.YAML_SUFFIXES))]


# Overlays copy each description verbatim, so a render scans most contents twice.
@functools.lru_cache(maxsize=16384)
def _findings(content: bytes, is_yaml: bool) -> tuple[tuple[int, str], ...]:
    """Return the line and pattern name of each credential pattern found in ``content``."""
    text = content.decode("utf-8", errors="replace")
    findings = []
    for name, pattern in _PATTERNS:
        match = pattern.search(text) if any(literal in text for literal in _LITERALS[name]) else None
        if match:
            findings.append((text.count("\n", 0, match.start()) + 1, name))
    if is_yaml:
        findings += [(0, name) for name in sorted(set(_structural(text)))]
    return tuple(findings)


def _problem(path: str, line: int, pattern: str) -> Problem:
    message = (
        f"looks like it carries a credential ({pattern}); nothing was written or committed. "
        "Remove it and keep the value in a Kubernetes Secret (run 'mlsysops-gitops secrets')"
    )
    return Problem(path, line, 0, message=message)


def _structural(text: str) -> Iterator[str]:
    """Yield what YAML objects carry: plain Secrets, literal password env values, credential keys."""
    lowered = text.lower()
    if not any(word in lowered for word in _STRUCTURAL_WORDS):
        return
    try:
        documents = [document for document in yaml.load_all(text, Loader=_Loader) if document is not None]
    except yaml.YAMLError:
        return  # Not YAML after all; the text patterns above still applied.
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "Secret" and (document.get("data") or document.get("stringData")):
            yield "Secret object with data; Secrets are created out of band and never committed"
        if isinstance(document, dict) and document.get("kind") == "SealedSecret" and isinstance(document.get("spec"), dict):
            # Encrypted values under their Secret keys (password: AgB...) are what a SealedSecret is for.
            document = {**document, "spec": {key: value for key, value in document["spec"].items() if key != "encryptedData"}}
        yield from _walk(document)


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        name, literal = value.get("name"), value.get("value")
        if isinstance(name, str) and _CREDENTIAL_ENV.search(name) and literal not in (None, "") and "valueFrom" not in value:
            yield f"literal value for env {name}; use valueFrom.secretKeyRef"
        for key, item in value.items():
            normalized = str(key).lower().replace("-", "_")
            if (normalized in _CREDENTIAL_KEYS or _CREDENTIAL_KEY_PATTERN.search(normalized)) and isinstance(item, (str, int)) and not isinstance(item, bool) and str(item).strip():
                yield f"literal '{key}:' value"
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
