"""The ``init`` command: create a GitOps repository that renders right away.

Argo CD must pull the repository from the URL the operator pushes to, so init takes
that URL and records it as the ``origin`` remote, where render already looks for it.
Then the only setting still missing is ``KARMADA_HOST_IP``, which only the operator
can give, and no placeholder is left to forget.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from mlsysops_gitops import layout
from mlsysops_gitops.commands.inventory import check_together, read_inventory
from mlsysops_gitops.errors import InputError, Problem, RepositoryError
from mlsysops_gitops.onboarding import init as templates
from mlsysops_gitops.repository import bootstrap, files
from mlsysops_gitops.settings import git_url_problem

BRANCH = "main"
COMMIT_MESSAGE = "Start the MLSysOps GitOps repository\n"


@dataclasses.dataclass(frozen=True)
class InitResult:
    """The files init wrote, relative to the new repository, and its first commit."""

    written: tuple[str, ...]
    commit: str


def run_init(directory: Path, *, repo_url: str, inventory: Path | None = None) -> InitResult:
    """Create the repository at ``directory``, which must be missing or empty.

    Raises:
        RepositoryError: when ``directory`` contains anything, or git fails.
        InputError: when ``repo_url`` is not a Git URL or carries credentials, or
            ``inventory`` is invalid.
    """
    # Checked before anything is created: the origin remote would keep a token in .git/config.
    problem = git_url_problem(repo_url)
    if problem is not None:
        raise InputError([Problem("option --repo-url", message=problem)])
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise RepositoryError(f"{directory} exists and is not an empty folder; init creates a new repository only in a missing or empty folder")
    if inventory is not None:
        found = read_inventory(inventory)
        check_together(directory / layout.DESCRIPTIONS_DIR, {path: text.encode("utf-8") for path, text in found.items()})
        descriptions = {f"{layout.DESCRIPTIONS_DIR}/{path}": text for path, text in found.items()}
    else:
        descriptions = templates.example_descriptions()
    content = {
        **descriptions,
        layout.SETTINGS_FILE: templates.SETTINGS,
        "README.md": templates.README,
    }
    repository = bootstrap.init_repository(directory, branch=BRANCH, origin=repo_url)
    files.write_new(directory, {path: text.encode("utf-8") for path, text in content.items()})
    commit = bootstrap.commit_paths(repository, sorted(content), COMMIT_MESSAGE)
    return InitResult(tuple(sorted(content)), commit)
