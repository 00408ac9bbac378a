"""Everything render does with Git, through GitPython.

Commits go through ``git commit`` itself (GitPython's command wrapper), so the user's
configuration applies as on the command line: author identity, commit signing, hooks.

A render commits from a temporary index (``GIT_INDEX_FILE``) that starts as a copy of
HEAD's tree and receives only the paths render owns. Whatever the user staged, changed
or left untracked elsewhere never reaches the commit, and the user's own index changes
only for the owned paths, once the commit exists. ``--branch`` commits in a temporary
worktree instead, so neither the checked-out branch nor the work tree moves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import git

from mlsysops_gitops import layout
from mlsysops_gitops.errors import RepositoryError, ToolError
from mlsysops_gitops.repository.files import Changes

ZERO_SHA = "0" * 40
INPUT_PATHS = (layout.DESCRIPTIONS_DIR, layout.SETTINGS_FILE)


GIT_MISSING = "git not found: install git and put it on PATH"


def require_git() -> None:
    """Raise ToolError when the git executable GitPython runs is not on PATH."""
    if shutil.which(git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git") is None:
        raise ToolError(GIT_MISSING)


def open_repo(path: Path) -> git.Repo | None:
    """Return the repository whose work tree root is ``path``, or None when ``path`` is in no Git work tree.

    Raises:
        ToolError: when git is not installed.
        RepositoryError: when ``path`` is a folder below a work tree's root, where the
            outputs' paths in the Argo CD Applications would be wrong.
    """
    require_git()
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    root = Path(repo.working_tree_dir).resolve()
    if root != path.resolve():
        raise RepositoryError(f"--repo must be the root of the Git work tree (the work tree root is {root}); got {path}")
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
    """Reject states in which committing would fail or damage the user's work.

    Raises:
        RepositoryError: on a detached HEAD, when ``index.lock`` exists (it is never
            removed here: a running git process may own it), or when Git has no author
            or committer identity.
    """
    current_branch(repo)
    lock = Path(repo.git_dir) / "index.lock"
    if lock.exists():
        raise RepositoryError(
            f"{lock} exists, so another git process is running or one crashed; "
            "wait for it, or delete the file yourself once no git process runs"
        )
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        try:
            repo.git.var(variable)
        except git.GitCommandError as error:
            raise RepositoryError(
                "git has no identity to commit with; set one with "
                "git config user.name 'Your Name' && git config user.email you@example.com"
            ) from error


def check_inputs_not_ignored(repo: git.Repo) -> None:
    """Reject description or settings files that .gitignore keeps out of commits.

    A commit without them could not be rendered again to the same outputs.
    """
    existing = [path for path in INPUT_PATHS if (_root(repo) / path).exists()]
    if not existing:
        return
    ignored = _z_split(repo.git.ls_files("--others", "--ignored", "--exclude-standard", "-z", "--", *existing))
    inputs = sorted(path for path in ignored if path.endswith(layout.YAML_SUFFIXES))
    if inputs:
        raise RepositoryError(
            f"{', '.join(inputs)} {'is' if len(inputs) == 1 else 'are'} ignored by .gitignore, so the commit would "
            "miss an input of the render; remove the matching .gitignore pattern or move the file out of descriptions/"
        )


def uncommitted_outputs(repo: git.Repo) -> list[str]:
    """Return the generated paths whose work tree or index differs from HEAD, untracked ones included."""
    output = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", *layout.OUTPUT_DIRS)
    # Each entry is "XY path"; with -z and --no-renames every entry has exactly one path.
    return sorted(entry[3:] for entry in _z_split(output))


def owned_paths_clean(repo: git.Repo) -> bool:
    """Tell whether the index and work tree match HEAD on every owned path, untracked files included.

    ``git status`` reuses the index's file stat data, so this is much faster than staging.
    """
    if not repo.head.is_valid():
        return False
    return not repo.git.status("--porcelain=v1", "--untracked-files=normal", "--", *layout.OWNED_PATHS)


def read_committed(repo: git.Repo, revision: str, folders: Iterable[str]) -> dict[str, bytes]:
    """Return every file under ``folders`` at ``revision`` by POSIX path; empty on an unborn branch.

    Raises:
        RepositoryError: when ``revision`` names no commit.
    """
    commit = resolve_commit(repo, revision)
    if commit is None:
        return {}
    found: dict[str, bytes] = {}
    for folder in folders:
        try:
            item = commit.tree / folder
        except KeyError:
            continue
        if item.type == "blob":
            found[item.path] = item.data_stream.read()
            continue
        for blob in item.traverse():
            if blob.type == "blob":  # type: ignore[union-attr]
                found[blob.path] = blob.data_stream.read()  # type: ignore[union-attr]
    return found


def read_committed_file(repo: git.Repo, revision: str, path: str) -> bytes | None:
    return read_committed(repo, revision, [path]).get(path)


def resolve_commit(repo: git.Repo, revision: str) -> git.Commit | None:
    """Return the commit ``revision`` names, or None for HEAD on a branch with no commit yet."""
    if revision == "HEAD" and not repo.head.is_valid():
        return None
    try:
        return repo.commit(revision)
    except (git.BadName, ValueError) as error:
        raise RepositoryError(f"{revision!r} names no commit in {repo.working_tree_dir}; give a branch, tag or commit") from error


def branch_tip(repo: git.Repo, branch: str) -> str | None:
    """Return the commit ``branch`` points to, or None when no such branch exists."""
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
    except git.GitCommandError:
        return None


def check_branch_name(repo: git.Repo, branch: str) -> None:
    try:
        repo.git.check_ref_format("--branch", branch)
    except git.GitCommandError as error:
        raise RepositoryError(f"{branch!r} is not a valid branch name; see git check-ref-format --help") from error


def worktree_of_branch(repo: git.Repo, branch: str) -> str | None:
    """Return the work tree path where ``branch`` is checked out, if any."""
    path = None
    for line in repo.git.worktree("list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = line.removeprefix("worktree ")
        elif line == f"branch refs/heads/{branch}":
            return path
    return None


@dataclasses.dataclass
class StagedOwned:
    """A temporary index holding HEAD's tree with the owned paths taken from the work tree."""

    repo: git.Repo
    index: Path
    changes: Changes

    def commit(self, message: str) -> str:
        """Commit the temporary index on the checked-out branch (or detached HEAD) and return the new commit.

        Afterwards the owned paths of the user's own index are reset to the new commit, so
        they show as unchanged. Every other index entry stays as the user left it.
        """
        running: list[Any] = []

        def stop_git() -> None:
            if running and running[0].proc.poll() is None:
                running[0].proc.terminate()

        # An interrupt between git commit and the index reset would leave HEAD moved with
        # the index behind it. So during that window an interrupt stops git while git runs.
        # Once the commit has landed it is ignored, because only the reset remains.
        before = head_sha(self.repo)
        with _interrupts_deferred(stop_git) as received:
            running.append(self.repo.git.commit("--quiet", "--message", message, env={"GIT_INDEX_FILE": str(self.index)}, as_process=True))
            try:
                running[0].wait()
            except git.GitCommandError as error:
                # git stopped in a post-commit hook has already made the commit.
                if not received:
                    raise explain(error) from error
                if head_sha(self.repo) == before:
                    raise KeyboardInterrupt from None
            sha = self.repo.git.rev_parse("HEAD")
            try:
                self.repo.git.reset("--quiet", "HEAD", "--", *layout.OWNED_PATHS)
            except git.GitCommandError as error:
                raise RepositoryError(
                    f"committed {sha[:12]}, but could not update the index: {_stderr(error)}; "
                    f"run git reset -- {' '.join(layout.OWNED_PATHS)}"
                ) from error
        return sha


@contextlib.contextmanager
def _interrupts_deferred(on_interrupt: Callable[[], None]) -> Iterator[list[int]]:
    """Replace the SIGINT and SIGTERM handlers for the block: record the signal and call ``on_interrupt``.

    Outside the main thread, where Python runs no signal handlers, the block runs unguarded.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def record(signum: int, frame: object) -> None:
        received.append(signum)
        on_interrupt()

    previous = {number: signal.signal(number, record) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def stage_owned(repo: git.Repo) -> Iterator[StagedOwned]:
    """Stage the owned paths of the work tree in a temporary index; see ``StagedOwned``."""
    descriptor, name = tempfile.mkstemp(prefix="mlsysops-gitops-index-", dir=repo.git_dir)
    os.close(descriptor)
    index = Path(name)
    # Git reads an empty file as a corrupt index; a missing one is an empty index.
    index.unlink()
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        if repo.head.is_valid():
            repo.git.read_tree("HEAD", env=env)
        root = _root(repo)
        tracked = _z_split(repo.git.ls_files("-z", "--", *layout.OWNED_PATHS, env=env))
        inputs = [path for path in INPUT_PATHS if (root / path).exists() or any(_under(entry, path) for entry in tracked)]
        outputs = [path for path in layout.OUTPUT_DIRS if (root / path).exists() or any(_under(entry, path) for entry in tracked)]
        if inputs:
            repo.git.add("--all", "--", *inputs, env=env)
        if outputs:
            # Render owns these folders whole, so even files that .gitignore matches there are its own.
            repo.git.add("--all", "--force", "--", *outputs, env=env)
        changes = _staged_changes(repo, env)
        yield StagedOwned(repo, index, changes)
    except git.GitCommandError as error:
        raise explain(error) from error
    finally:
        index.unlink(missing_ok=True)


def _staged_changes(repo: git.Repo, env: Mapping[str, str]) -> Changes:
    output = repo.git.diff("--cached", "--name-status", "--no-renames", "-z", "--", *layout.OWNED_PATHS, env=env)
    fields = _z_split(output)
    created, updated, deleted = [], [], []
    for status, path in zip(fields[::2], fields[1::2]):
        {"A": created, "D": deleted}.get(status[:1], updated).append(path)
    return Changes(tuple(sorted(created)), tuple(sorted(updated)), tuple(sorted(deleted)))


@contextlib.contextmanager
def temporary_worktree(repo: git.Repo, commit: str) -> Iterator[git.Repo]:
    """Check out ``commit`` detached in a temporary worktree and remove it afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="mlsysops-gitops-worktree-"))
    path = parent / "worktree"
    try:
        try:
            repo.git.worktree("add", "--quiet", "--detach", str(path), commit)
        except git.GitCommandError as error:
            raise explain(error) from error
        yield git.Repo(path)
    finally:
        with contextlib.suppress(git.GitCommandError):
            repo.git.worktree("remove", "--force", str(path))
        shutil.rmtree(parent, ignore_errors=True)
        with contextlib.suppress(git.GitCommandError):
            repo.git.worktree("prune")


def update_branch(repo: git.Repo, branch: str, new: str, old: str | None) -> None:
    """Point ``branch`` at ``new``, creating it when ``old`` is None; fail if it moved meanwhile."""
    try:
        repo.git.update_ref("-m", "mlsysops-gitops render", f"refs/heads/{branch}", new, old or ZERO_SHA)
    except git.GitCommandError as error:
        raise RepositoryError(f"could not update branch {branch}: {_stderr(error)}") from error


def head_sha(repo: git.Repo) -> str | None:
    return repo.head.commit.hexsha if repo.head.is_valid() else None


def explain(error: git.GitCommandError) -> RepositoryError:
    """Turn a failed git command into a message that names the command and git's own words."""
    stderr = _stderr(error)
    if "Please tell me who you are" in stderr or "empty ident" in stderr or "no email was given" in stderr:
        return RepositoryError(
            "git has no identity to commit with; set one with "
            "git config user.name 'Your Name' && git config user.email you@example.com"
        )
    command = error.command[1] if isinstance(error.command, list) and len(error.command) > 1 else "command"
    return RepositoryError(f"git {command} failed: {stderr or f'exit code {error.status}'}")


def _stderr(error: git.GitCommandError) -> str:
    return str(error.stderr or "").strip().removeprefix("stderr: ").strip().strip("'").strip()


def _root(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _z_split(output: str) -> list[str]:
    return [entry for entry in output.split("\0") if entry]
