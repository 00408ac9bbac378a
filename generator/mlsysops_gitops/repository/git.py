"""Everything render does with Git, through GitPython.

Commits go through ``git commit`` itself (GitPython's command wrapper), so the user's
configuration applies as on the command line: author identity, commit signing, hooks.
"""

from __future__ import annotations

from pathlib import Path

import git

from mlsysops_gitops import layout
from mlsysops_gitops.errors import RepositoryError, ToolError


def open_repo(path: Path) -> git.Repo | None:
    """Return the repository whose work tree root is ``path``, or None when it is not one."""
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except git.GitCommandNotFound as error:  # pragma: no cover (git missing)
        raise ToolError("git not found; install git and put it on PATH") from error
    if repo.bare or repo.working_tree_dir is None or Path(repo.working_tree_dir).resolve() != path.resolve():
        return None
    return repo


def origin_url(repo: git.Repo) -> str | None:
    try:
        return repo.remotes["origin"].url
    except (IndexError, KeyError):
        return None


def current_branch(repo: git.Repo) -> str:
    """Return the checked-out branch.

    Raises:
        RepositoryError: on a detached HEAD, where a commit would belong to no branch.
    """
    if repo.head.is_detached:
        raise RepositoryError("HEAD is detached; check out a branch (git switch BRANCH) before rendering")
    return repo.active_branch.name


def check_committable(repo: git.Repo) -> None:
    """Refuse states in which committing would fail or damage the user's work.

    Raises:
        RepositoryError: on a detached HEAD, or when ``.git/index.lock`` exists.
    """
    current_branch(repo)
    lock = Path(repo.git_dir) / "index.lock"
    if lock.exists():
        raise RepositoryError(
            f"{lock} exists: another git process is running, or one crashed. "
            "Wait for it, or remove the file yourself once no git process runs"
        )


def commit_owned(repo: git.Repo, message: str) -> str | None:
    """Stage and commit the paths render owns, and nothing else.

    Returns:
        The new commit's hexsha, or None when the owned paths have no change.
    """
    root = Path(repo.working_tree_dir or ".")
    paths = [path for path in layout.OWNED_PATHS if (root / path).exists() or _tracked(repo, path)]
    if not paths:
        return None
    try:
        repo.git.add("--all", "--", *paths)
        staged = repo.git.diff("--cached", "--name-only", "--", *paths) if repo.head.is_valid() else "initial"
        if not staged:
            return None
        repo.git.commit("--quiet", "--message", message, "--only", "--", *paths)
    except git.GitCommandError as error:
        raise _explain(error) from error
    return repo.head.commit.hexsha


def _tracked(repo: git.Repo, path: str) -> bool:
    if not repo.head.is_valid():
        return False
    return bool(repo.git.ls_files("--", path))


def _explain(error: git.GitCommandError) -> RepositoryError:
    stderr = str(error.stderr or "").strip()
    if "Please tell me who you are" in stderr or "empty ident" in stderr:
        return RepositoryError(
            "git has no author identity; set one with: git config user.name 'Your Name' && "
            "git config user.email you@example.com"
        )
    return RepositoryError(f"git {error.command[1] if len(error.command) > 1 else ''} failed: {stderr}")
