"""Git for a repository that does not exist yet: create it, and make its first commit."""

from __future__ import annotations

from pathlib import Path

import git

from mlsysops_gitops.errors import ToolError
from mlsysops_gitops.repository.git import GIT_MISSING, explain, require_git


def init_repository(path: Path, *, branch: str, origin: str) -> git.Repo:
    """Create a repository at ``path`` on ``branch``, with ``origin`` as its remote."""
    require_git()
    try:
        repo = git.Repo.init(path, initial_branch=branch)
        repo.create_remote("origin", origin)
    except git.GitCommandNotFound as error:  # pragma: no cover (git missing)
        raise ToolError(GIT_MISSING) from error
    except git.GitCommandError as error:
        raise explain(error) from error
    return repo


def commit_paths(repo: git.Repo, paths: list[str], message: str) -> str:
    """Stage and commit exactly ``paths``; return the new commit's hexsha."""
    try:
        repo.git.add("--", *paths)
        repo.git.commit("--quiet", "--message", message, "--", *paths)
    except git.GitCommandError as error:
        raise explain(error) from error
    return repo.head.commit.hexsha
