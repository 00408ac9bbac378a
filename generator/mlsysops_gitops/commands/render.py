"""The render command: read, validate, build, verify, write, commit.

Nothing lands until every stage before it succeeded. Descriptions and settings are
validated in full and the new tree is built in memory. Then the repository state is
checked, and the tree is staged in a temporary directory and built there with kustomize.
Only then is it written over the repository's outputs. When the commit fails, the
outputs are put back as they were.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from mlsysops_gitops import layout, topology
from mlsysops_gitops.descriptions.reader import Fleet, read_fleet
from mlsysops_gitops.errors import InputError, Problem, RepositoryError
from mlsysops_gitops.gcpause import collector_paused
from mlsysops_gitops.progress import QUIET, Progress
from mlsysops_gitops.render import guard
from mlsysops_gitops.render.manifests import Tree
from mlsysops_gitops.render.pipeline import render_tree
from mlsysops_gitops.repository import files, git, last_render
from mlsysops_gitops.settings import Settings, git_url_problem, load_settings
from mlsysops_gitops.verify import kustomize

logger = logging.getLogger(__name__)

# The verification cache, relative to the Git directory.
VERIFIED_CACHE = "mlsysops-gitops/verified"
# The parsed descriptions (descriptions/cache.py), relative to the Git directory.
DESCRIPTIONS_CACHE = "mlsysops-gitops/descriptions.pickle"


@dataclasses.dataclass(frozen=True)
class RenderOptions:
    """Options of one render, as the command line gives them."""

    repo: Path
    overrides: dict[str, Any] = dataclasses.field(default_factory=dict)
    commit: bool = True
    check: bool = False
    verify: bool = True
    strict: bool = False
    jobs: int | None = None
    force: bool = False
    branch: str | None = None
    progress: Progress = QUIET


@dataclasses.dataclass(frozen=True)
class RenderResult:
    """Outcome of a render: the file changes, the warnings, and the commit if one was made."""

    changes: files.Changes
    warnings: list[Problem]
    commit: str | None = None
    message: str | None = None
    branch: str | None = None
    overwritten: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Inputs:
    """Validated descriptions and settings, with the Git repository they were read from."""

    fleet: Fleet
    settings: Settings
    warnings: list[Problem]
    repository: Any


def load_inputs(
    repo: Path, overrides: dict[str, Any], *, strict: bool = False, progress: Progress = QUIET, cache_file: Path | None = None
) -> tuple[Fleet, Settings, list[Problem]]:
    """Validate descriptions and settings together, reporting the problems of both at once."""
    problems: list[Problem] = []
    fleet = settings = None
    warnings: list[Problem] = []
    try:
        fleet, warnings = read_fleet(repo, strict=strict, progress=progress, cache_file=cache_file)
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
        problem = git_url_problem(url)
        if problem is not None:
            message = f"the Git remote 'origin' cannot be the Argo CD repoURL: {problem}. Fix the remote (git remote set-url origin URL) or set MLSYSOPS_GITOPS_REPO_URL"
            raise InputError([Problem("setting MLSYSOPS_GITOPS_REPO_URL", kind="Settings", field="repo_url", message=message)])
        updates["repo_url"] = url
    if settings.target_revision is None:
        if repository is None:
            raise InputError([Problem("setting MLSYSOPS_GITOPS_TARGET_REVISION", kind="Settings", field="target_revision", message="not a Git repository, so no current branch to take the Argo CD targetRevision from; set MLSYSOPS_GITOPS_TARGET_REVISION or target_revision in mlsysops-gitops.yaml")])
        updates["target_revision"] = git.current_branch(repository)
    return settings.model_copy(update=updates) if updates else settings


def read_inputs(repo: Path, overrides: dict[str, Any], *, strict: bool = False, progress: Progress = QUIET) -> Inputs:
    """Load the inputs and resolve the Argo CD source from the repository at ``repo``."""
    repository = git.open_repo(repo)
    cache_file = Path(repository.git_dir) / DESCRIPTIONS_CACHE if repository is not None else None
    fleet, settings, warnings = load_inputs(repo, overrides, strict=strict, progress=progress, cache_file=cache_file)
    return Inputs(fleet, resolve_source(settings, repository), warnings, repository)


def validate_inputs(repo: Path, overrides: dict[str, Any], *, strict: bool = False) -> list[Problem]:
    """Check the inputs as render does before it writes, and return the warnings.

    Raises:
        InputError: with the problems of the descriptions and settings, or with the
            credentials the guard finds in the inputs render would commit.
    """
    _, _, warnings = load_inputs(repo, overrides, strict=strict)
    guard.check_inputs(repo)
    return warnings


def build(options: RenderOptions) -> tuple[Tree, list[Problem], Any]:
    """Read and validate the inputs and return the fresh tree, the warnings and the Git repository."""
    inputs = read_inputs(options.repo, options.overrides, strict=options.strict, progress=options.progress)
    # Render commits descriptions/ and the settings file too, so they pass the same guard.
    guard.check_inputs(options.repo)
    return render_tree(inputs.fleet, inputs.settings), inputs.warnings, inputs.repository


def verify(tree: Tree, *, jobs: int | None, repository: Any = None, progress: Progress = QUIET) -> None:
    """Build the kustomizations of ``tree`` whose inputs changed since they last built, in a temporary copy.

    The digests of the builds are kept in the Git directory; outside Git every build runs.
    """
    cache_file = Path(repository.git_dir) / VERIFIED_CACHE if repository is not None else None
    kustomize.verify_tree(tree, tree.kustomization_dirs(), files.stage, jobs=jobs, cache_file=cache_file, progress=progress)


@collector_paused()
def run_render(options: RenderOptions) -> RenderResult:
    """Render the repository at ``options.repo``; see the module docstring for the stages.

    ``--check`` only reads, so it takes no lock: a pre-commit hook running it from inside
    a render's own commit must not wait for that render.
    """
    if options.check:
        tree, warnings, _ = build(options)
        return RenderResult(files.compare(files.read_outputs(options.repo), tree), warnings)
    repository = git.open_repo(options.repo)
    with files.render_lock(_state_dir(options.repo, repository)):
        if options.branch is not None:
            if repository is None:
                raise RepositoryError(f"{options.repo} is not the root of a Git work tree, so there is no branch {options.branch} to commit on")
            git.check_branch_name(repository, options.branch)
            if options.branch != git.current_branch(repository):
                return _render_to_branch(options, repository)
        return _render_locked(options, repository)


def _render_locked(options: RenderOptions, repository: Any) -> RenderResult:
    key = _inputs_key(options, repository)
    reused = _reuse_last_render(options, repository, key)
    tree, warnings, _ = reused or build(options)
    current = dict(tree) if reused else files.read_outputs(options.repo)
    changes = files.compare(current, tree)

    committing = repository is not None and options.commit
    if committing:
        git.check_committable(repository)
        git.check_inputs_not_ignored(repository)
    # NOTE: outside Git there is no committed state to compare with, so hand edits there are overwritten unnoticed.
    overwritten = _check_hand_edits(options, repository, tree, current) if repository is not None else ()
    if changes and options.verify:
        verify(tree, jobs=options.jobs, repository=repository, progress=options.progress)

    head_before = git.head_sha(repository) if repository is not None else None
    try:
        if changes:
            files.apply(options.repo, tree, changes, options.progress)
        commit = message = None
        if committing:
            commit, message = _commit(repository, options.repo)
    except BaseException as error:
        # Only a failure before the commit exists undoes the writes; a commit that landed stays.
        if repository is not None and git.head_sha(repository) != head_before:
            raise
        files.restore(options.repo, current, tree)
        if isinstance(error, RepositoryError):
            raise RepositoryError(f"{error}\nThe generated files are back as they were; nothing was committed") from error
        raise
    if repository is not None:
        files.record_written(_state_dir(options.repo, repository), tree)
        # Recorded only when no input changed while this render read them.
        if reused is None and key is not None and key.still_current(options.repo):
            last_render.record(_state_dir(options.repo, repository), key, tree, warnings)
        elif reused is None:
            last_render.forget(_state_dir(options.repo, repository))
    return RenderResult(changes, warnings, commit, message, overwritten=overwritten)


def _inputs_key(options: RenderOptions, repository: Any) -> last_render.InputsKey | None:
    """Return the digest of everything this render reads, or None outside Git or with invalid settings."""
    if repository is None:
        return None
    try:
        settings = resolve_source(load_settings(options.repo, options.overrides), repository)
    except (InputError, RepositoryError):
        return None
    return last_render.inputs_key(options.repo, settings.model_dump_json(), strict=options.strict)


def _reuse_last_render(options: RenderOptions, repository: Any, key: last_render.InputsKey | None) -> tuple[Tree, list[Problem], Any] | None:
    """Return the outputs on disk as the fresh tree when the last render had these inputs and wrote them."""
    reused = last_render.reuse(_state_dir(options.repo, repository), key, lambda: files.read_outputs(options.repo)) if key else None
    if reused is None:
        return None
    current, warnings = reused
    logger.info("inputs and outputs are as the last render left them; reusing its %d files", len(current))
    tree = Tree()
    for path, content in current.items():
        tree.add(path, content)
    return tree, warnings, repository


def _check_hand_edits(options: RenderOptions, repository: Any, tree: Tree, current: dict[str, bytes]) -> tuple[str, ...]:
    """Return the hand-edited generated files the render overwrites; reject them unless ``force``."""
    written = files.read_written(_state_dir(options.repo, repository))
    edited = files.hand_edits(options.repo, git.uncommitted_outputs(repository), tree, written, current)
    if edited and not options.force:
        listed = "\n".join(f"  {path}" for path in edited)
        raise RepositoryError(
            f"{len(edited)} generated file{'s have' if len(edited) != 1 else ' has'} uncommitted changes that render did not write "
            f"and would overwrite or delete:\n{listed}\n"
            "Put the change into descriptions/ or mlsysops-gitops.yaml, commit or discard it (git restore PATH), "
            "or run again with --force to overwrite it"
        )
    return edited


# NOTE: settings taken from environment variables or command-line options are not
# committed, so a commit renders to itself only where they are the same. Keeping every
# setting in mlsysops-gitops.yaml makes each commit reproducible on its own.
def _commit(repository: Any, root: Path) -> tuple[str | None, str | None]:
    if git.owned_paths_clean(repository):
        return None, None
    with git.stage_owned(repository) as staged:
        if not staged.changes:
            return None, None
        message = describe_commit(repository, "HEAD", root, staged.changes)
        return staged.commit(message), message


def _render_to_branch(options: RenderOptions, repository: Any) -> RenderResult:
    """Commit a fresh render on ``options.branch`` in a temporary worktree.

    The branch starts from the current one when missing. The inputs are the work tree's
    descriptions and settings; the checked-out branch, the index and the work tree stay
    as they are. The Argo CD targetRevision stays the current branch, the one a pull
    request from ``options.branch`` merges into.
    """
    branch = options.branch
    assert branch is not None
    elsewhere = git.worktree_of_branch(repository, branch)
    if elsewhere is not None:
        raise RepositoryError(f"branch {branch} is checked out in {elsewhere}; render there, or choose another branch")
    git.check_committable(repository)
    git.check_inputs_not_ignored(repository)
    tree, warnings, _ = build(options)

    old_tip = git.branch_tip(repository, branch)
    base = old_tip or git.head_sha(repository)
    if base is None:
        raise RepositoryError(f"branch {git.current_branch(repository)} has no commit yet, so branch {branch} has nothing to start from; commit once first")
    changes = files.compare(git.read_committed(repository, base, layout.OUTPUT_DIRS), tree)
    if changes and options.verify:
        verify(tree, jobs=options.jobs, repository=repository, progress=options.progress)

    with git.temporary_worktree(repository, base) as worktree:
        root = Path(worktree.working_tree_dir)
        files.copy_inputs(options.repo, root)
        files.apply(root, tree, files.compare(files.read_outputs(root), tree))
        with git.stage_owned(worktree) as staged:
            if not staged.changes:
                return RenderResult(changes, warnings, branch=branch)
            message = describe_commit(worktree, base, root, staged.changes)
            commit = staged.commit(message)
    git.update_branch(repository, branch, commit, old_tip)
    return RenderResult(changes, warnings, commit, message, branch=branch)


def describe_commit(repository: Any, base: str, root: Path, staged: files.Changes) -> str:
    """Return the commit message for ``staged``, the owned paths that changed since ``base``."""
    outputs = files.Changes(*(tuple(path for path in group if _is_output(path)) for group in (staged.created, staged.updated, staged.deleted)))
    inputs = [path for path in staged.paths if not _is_output(path)]
    settings_path = root / layout.SETTINGS_FILE
    new_settings = settings_path.read_bytes() if settings_path.is_file() else None
    summary = topology.summarize(outputs, git.read_committed_file(repository, base, layout.SETTINGS_FILE), new_settings)
    return topology.commit_message(summary, inputs)


def _is_output(path: str) -> bool:
    return path.split("/", 1)[0] in layout.OUTPUT_DIRS


def _state_dir(repo: Path, repository: Any) -> Path:
    if repository is not None:
        return Path(repository.git_dir)
    if not repo.is_dir():
        raise RepositoryError(f"{repo} is not a directory")
    return repo
