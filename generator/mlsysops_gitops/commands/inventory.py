"""The ``descriptions from-inventory`` command: write descriptions an inventory implies.

Nothing is written unless every file validates together with the descriptions already
in the folder, and no existing file with other content would be replaced (unless
``force``): a description on disk may hold hardware details someone wrote by hand.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.reader import read_fleet
from mlsysops_gitops.errors import InputError, Problem, RepositoryError
from mlsysops_gitops.onboarding.inventory import descriptions_from_inventory
from mlsysops_gitops.repository import files


@dataclasses.dataclass(frozen=True)
class InventoryResult:
    """Files the command wrote and files it left as they were, by path under the descriptions folder."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def read_inventory(inventory: Path) -> dict[str, str]:
    """Return the description files ``inventory`` implies, by path under ``descriptions/``."""
    try:
        raw = inventory.read_bytes()
    except OSError as error:
        raise InputError([Problem(str(inventory), message=f"cannot read inventory: {error.strerror}")]) from error
    return descriptions_from_inventory(str(inventory), raw)


def run_from_inventory(inventory: Path, out: Path, *, force: bool = False) -> InventoryResult:
    """Write the descriptions of ``inventory`` under ``out`` (a ``descriptions/`` folder).

    Raises:
        InputError: when the inventory is invalid or the result would not validate.
        RepositoryError: when a file with other content exists and ``force`` is not set.
    """
    wanted = {path: text.encode("utf-8") for path, text in read_inventory(inventory).items()}
    existing = {path: (out / path).read_bytes() for path in wanted if (out / path).is_file()}
    conflicts = sorted(path for path, content in existing.items() if content != wanted[path])
    if conflicts and not force:
        listed = ", ".join(str(out / path) for path in conflicts)
        raise RepositoryError(f"{len(conflicts)} description{'s' if len(conflicts) != 1 else ''} would be overwritten: {listed}; they may hold hand-written details. Move them away, or run again with --force to replace them")
    check_together(out, wanted)
    changed = {path: content for path, content in wanted.items() if existing.get(path) != content}
    files.write_new(out, changed)
    return InventoryResult(tuple(sorted(changed)), tuple(sorted(set(wanted) - set(changed))))


def check_together(out: Path, wanted: dict[str, bytes]) -> None:
    """Validate ``wanted`` laid over the descriptions already in ``out``, in a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="mlsysops-gitops-") as scratch:
        staged = Path(scratch) / layout.DESCRIPTIONS_DIR
        if out.is_dir():
            shutil.copytree(out, staged, ignore=shutil.ignore_patterns(".*"))
        files.write_new(staged, wanted)
        try:
            read_fleet(Path(scratch))
        except InputError as error:
            raise InputError([dataclasses.replace(problem, path=_outside(problem.path, out)) for problem in error.problems]) from error


def _outside(path: str, out: Path) -> str:
    """Name a scratch path by where the file would land."""
    prefix = f"{layout.DESCRIPTIONS_DIR}/"
    return str(out / path[len(prefix):]) if path.startswith(prefix) else path
