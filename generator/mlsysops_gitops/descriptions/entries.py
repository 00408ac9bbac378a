"""Which entries under ``descriptions/`` may be read: regular files inside the repository.

Render commits ``descriptions/``, so a file it reads must be one Git records as it is
read. A FIFO would block a read for ever; a symlink out of the repository would read,
and render into the outputs, a file no review of the repository sees; a symlink loop cannot be read at all.
"""

from __future__ import annotations

import difflib
import errno
import os
import stat
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.errors import Problem

# The folders directly in descriptions/, each read by one module of this package.
KNOWN_FOLDERS = ("applications", "clusters", "configurations", "continuum", "nodes", "policies", "secrets")


def check_entry(repo: Path, path: str, relative: str) -> Problem | None:
    """Return why the file at ``path`` must not be read (an error or a warning), or None when it may be.

    Only ``os.stat`` and ``os.path.realpath`` look at the file: nothing opens it.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return Problem(relative, message="symlink loop (too many levels of symbolic links); replace it with a file")
        if os.path.islink(path):
            return Problem(relative, message=f"symlink to {os.readlink(path)}, which does not exist; replace it with a file")
        return Problem(relative, message=f"cannot read file: {error.strerror}")
    if os.path.islink(path):
        root = os.path.realpath(repo)
        target = os.path.realpath(path)
        if os.path.commonpath((root, target)) != root:
            return Problem(relative, message=f"symlink to {target}, outside the repository; Git records only the link, not what it reads, so copy it in")
    if not stat.S_ISREG(mode):
        return Problem(relative, message=f"not read: not a regular file ({_kind(mode)})", severity="warning")
    return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a device"


def unknown_entries(repo: Path) -> list[Problem]:
    """Return a warning for each entry directly in ``descriptions/`` that no part of render reads."""
    top = repo / layout.DESCRIPTIONS_DIR
    problems = []
    for entry in sorted(os.scandir(top), key=lambda entry: entry.name):
        name = entry.name
        relative = f"{layout.DESCRIPTIONS_DIR}/{name}"
        if name in KNOWN_FOLDERS and entry.is_dir():
            continue
        # Hidden files other than YAML ones (.gitkeep, editor state) are no input.
        if name.startswith(".") and not name.endswith(layout.YAML_SUFFIXES):
            continue
        close = difflib.get_close_matches(name.rstrip("/"), KNOWN_FOLDERS, n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}/'?" if close else ""
        folders = ", ".join(f"{folder}/" for folder in KNOWN_FOLDERS)
        problems.append(Problem(relative, message=f"not read: {layout.DESCRIPTIONS_DIR}/ contains only the folders {folders}{hint}", severity="warning"))
    return problems


def hidden_yaml_warning(relative: str, folder: str) -> Problem:
    """Return the warning for a hidden YAML file (``.x.yaml``, ``..yaml``), which no description may be."""
    return Problem(relative, message=f"not read: a hidden file; descriptions are <host>.yaml or <host>.yml files directly in {folder}/", severity="warning")


def refused_inputs(repo: Path) -> list[Problem]:
    """Return an error for each entry under ``descriptions/`` that is a symlink out of the repository or a loop.

    Every reader checks its own files; this covers the whole folder, which render commits.
    """
    problems = []
    for directory, subdirectories, names in os.walk(repo / layout.DESCRIPTIONS_DIR):
        subdirectories.sort()
        relative = os.path.relpath(directory, repo).replace(os.sep, "/")
        for name in sorted(subdirectories) + sorted(names):
            found = check_entry(repo, os.path.join(directory, name), f"{relative}/{name}")
            if found is not None and found.severity == "error":
                problems.append(found)
    return problems
