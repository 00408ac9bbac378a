"""The render command: read, validate, build, verify, write, commit.

Nothing lands until every stage before it succeeded: descriptions and settings are
validated in full, the new tree is built in memory, staged in a temporary directory
and built there with kustomize, and only then written over the repository's outputs.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from mlsysops_gitops.descriptions.reader import Fleet, read_fleet
from mlsysops_gitops.errors import InputError, Problem, RepositoryError
from mlsysops_gitops.render.manifests import Tree
from mlsysops_gitops.render.pipeline import render_tree
from mlsysops_gitops.repository import files, git
from mlsysops_gitops.settings import Settings, load_settings
from mlsysops_gitops.verify import kustomize

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RenderOptions:
    """What the user asked of one render."""

    repo: Path
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    commit: bool = True
    check: bool = False
    verify: bool = True
    strict: bool = False
    jobs: int | None = None


@dataclasses.dataclass(frozen=True)
class RenderResult:
    """What a render did: the file changes, the warnings, and the commit if one was made."""

    changes: files.Changes
    warnings: list[Problem]
    commit: str | None = None


def load_inputs(repo: Path, overrides: dict[str, Any], *, strict: bool = False) -> tuple[Fleet, Settings, list[Problem]]:
    """Validate descriptions and settings together, reporting the problems of both at once."""
    problems: list[Problem] = []
    fleet = settings = None
    warnings: list[Problem] = []
    try:
        fleet, warnings = read_fleet(repo, strict=strict)
    except InputError as error:
        problems += error.problems
    try:
        settings = load_settings(repo, overrides)
    except InputError as error:
        problems += error.problems
    if problems or fleet is None or settings is None:
        raise InputError(problems)
    return fleet, settings, warnings


def resolve_source(settings: Settings, repository: Any) -> Settings:
    """Fill the Argo CD source from the Git repository where the settings leave it open.

    Raises:
        InputError: when neither the settings nor the repository give a value.
    """
    updates: dict[str, str] = {}
    if settings.repo_url is None:
        url = git.origin_url(repository) if repository is not None else None
        if url is None:
            raise InputError([Problem("setting MLSYSOPS_GITOPS_REPO_URL", kind="Settings", field="repo_url", message="no Git remote 'origin' to take the Argo CD repoURL from; set MLSYSOPS_GITOPS_REPO_URL or repo_url in mlsysops-gitops.yaml")])
        updates["repo_url"] = url
    if settings.target_revision is None:
        if repository is None:
            raise InputError([Problem("setting MLSYSOPS_GITOPS_TARGET_REVISION", kind="Settings", field="target_revision", message="not a Git repository, so no current branch to take the Argo CD targetRevision from; set MLSYSOPS_GITOPS_TARGET_REVISION")])
        updates["target_revision"] = git.current_branch(repository)
    return settings.model_copy(update=updates) if updates else settings


def build(options: RenderOptions) -> tuple[Tree, list[Problem], Any]:
    """Read and validate the inputs and return the fresh tree, the warnings and the Git repository."""
    repository = git.open_repo(options.repo)
    fleet, settings, warnings = load_inputs(options.repo, options.overrides, strict=options.strict)
    settings = resolve_source(settings, repository)
    return render_tree(fleet, settings), warnings, repository


def verify(tree: Tree, *, jobs: int | None) -> None:
    """Build every kustomization of ``tree`` in a temporary copy; raise ToolError on failure."""
    with files.stage(tree) as staging:
        kustomize.build_all(Path(staging), tree.kustomization_dirs(), jobs=jobs)


def run_render(options: RenderOptions) -> RenderResult:
    """Render the repository at ``options.repo``; see the module docstring for the stages."""
    with files.render_lock(_lock_dir(options.repo, git.open_repo(options.repo))):
        return _render_locked(options)


def _render_locked(options: RenderOptions) -> RenderResult:
    tree, warnings, repository = build(options)
    current = files.read_outputs(options.repo)
    changes = files.compare(current, tree)
    if options.check:
        return RenderResult(changes, warnings)

    if repository is not None and options.commit:
        git.check_committable(repository)
    if changes and options.verify:
        logger.info("verifying %d kustomizations", len(tree.kustomization_dirs()))
        verify(tree, jobs=options.jobs)
    if changes:
        files.apply(options.repo, tree, changes)

    commit = None
    if repository is not None and options.commit:
        commit = git.commit_owned(repository, commit_message(changes))
    return RenderResult(changes, warnings, commit)


def _lock_dir(repo: Path, repository: Any) -> Path:
    if repository is not None:
        return Path(repository.git_dir)
    if not repo.is_dir():
        raise RepositoryError(f"{repo} is not a directory")
    return repo


def commit_message(changes: files.Changes) -> str:
    """Return the commit message of a render; the first line names what moved."""
    count = len(changes.paths)
    subject = f"Render MLSysOps continuum: {count} generated file{'s' if count != 1 else ''} changed" if changes else "Render MLSysOps continuum: descriptions or settings changed"
    body = "\n".join(
        [f"created {path}" for path in changes.created]
        + [f"updated {path}" for path in changes.updated]
        + [f"deleted {path}" for path in changes.deleted]
    )
    return f"{subject}\n\n{body}\n" if body else subject + "\n"
