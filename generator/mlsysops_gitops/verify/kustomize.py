"""Build every rendered kustomization with the real kustomize before anything lands.

``kustomize build`` is used when it is on PATH, else ``kubectl kustomize`` (kubectl
embeds kustomize). Both run with kustomize's default load restrictor, as Argo CD does.
Builds run in parallel, one kustomize process per thread: the threads only wait on
their process, so ``jobs`` processes really run at once.

A kustomization whose inputs are byte for byte the ones that last built (see
``verify.cache``) is not built again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import AbstractContextManager
from pathlib import Path

from mlsysops_gitops.errors import ToolError
from mlsysops_gitops.progress import QUIET, Progress
from mlsysops_gitops.verify.cache import KUSTOMIZATION_FILES, Inputs, VerifiedCache, tool_identity

logger = logging.getLogger(__name__)

# Kustomizations verified by one kustomize process. Starting kustomize costs about as
# much as building a small overlay, so one build of a kustomization that lists 32 others
# as resources took a third to a tenth of the time of 32 builds (kubectl 1.32, 2 cores).
BATCH_SIZE = 32
BATCH_PREFIX = ".mlsysops-gitops-batch-"
# Seconds one kustomize process (one batch of BATCH_SIZE builds) may run before it is
# killed. A batch of the 10,000-node benchmark takes about a second, so only a hung
# kustomize reaches this limit. The CLI's --kustomize-timeout changes it.
DEFAULT_TIMEOUT = 300.0
timeout = DEFAULT_TIMEOUT

# Writes files into a new temporary folder and yields its path (``repository.files.stage``).
Stage = Callable[[Mapping[str, bytes]], AbstractContextManager[str]]


@dataclasses.dataclass(frozen=True)
class Verification:
    """How many kustomizations a verification built, and how many it found unchanged."""

    built: int
    unchanged: int


def kustomize_command() -> list[str]:
    """Return the command that builds a kustomization directory given as last argument."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build"]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize"]
    raise ToolError("kustomize not found: install kustomize, or kubectl (which embeds it), and put it on PATH")


def default_jobs() -> int:
    """Return the number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def build(root: Path, directory: str, command: Sequence[str]) -> bytes:
    """Build one kustomization and return its output.

    Raises:
        ToolError: with the command, directory and kustomize's message when the build fails.
    """
    argv = [*command, directory]
    # kubectl loads the user's kubeconfig and contacts its server even for a local build;
    # an empty one keeps credentials unread and the build offline.
    environment = {**os.environ, "KUBECONFIG": os.devnull}
    try:
        result = subprocess.run(argv, cwd=root, capture_output=True, check=False, env=environment, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise ToolError(f"kustomize build timed out after {timeout:g} s for {directory}/; raise --kustomize-timeout if the build is merely slow") from error
    except OSError as error:
        raise ToolError(f"cannot run {' '.join(argv)}: {error.strerror}") from error
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or result.stdout.decode("utf-8", "replace").strip()
        indented = "\n".join(f"    {line}" for line in message.splitlines())
        raise ToolError(f"kustomize build failed for {directory}/\n  command: {' '.join(argv)}\n  directory: {root / directory}\n  exit code: {result.returncode}\n{indented}")
    return result.stdout


def build_all(root: Path, directories: Sequence[str], *, jobs: int | None = None, progress: Progress = QUIET) -> dict[str, bytes]:
    """Build every kustomization under ``root`` in parallel and return the outputs by directory.

    Raises:
        ToolError: of the first failed build in path order.
    """
    if not directories:
        return {}
    outputs, failures = _build_each(root, directories, kustomize_command(), jobs=jobs, progress=progress)
    if failures:
        raise failures[min(failures)]
    return outputs


def verify_tree(
    tree: Mapping[str, bytes],
    directories: Sequence[str],
    stage: Stage,
    *,
    jobs: int | None = None,
    cache_file: Path | None = None,
    progress: Progress = QUIET,
) -> Verification:
    """Build the kustomizations of ``tree`` whose inputs changed since they last built.

    Only the files the builds read are staged. The digests of every kustomization that
    built, now or before, replace the cache's content, also when a build fails.

    Raises:
        ToolError: of the first failed build in path order.
    """
    command = kustomize_command()
    cache = VerifiedCache(cache_file)
    tool = tool_identity(command) if cache_file is not None else None
    inputs = Inputs(tree)
    digests = {directory: inputs.digest(directory, tool) if tool else None for directory in directories}
    known = cache.load()
    pending = [directory for directory in sorted(directories) if digests[directory] is None or digests[directory] not in known]
    verified = {digest for digest in digests.values() if digest is not None and digest in known}
    logger.info("building %d of %d kustomizations; %d unchanged since they last built", len(pending), len(directories), len(directories) - len(pending))

    failures: dict[str, ToolError] = {}
    if pending:
        with stage(_staged_files(tree, inputs, pending)) as staging:
            built, failures = _verify_in_batches(Path(staging), pending, command, jobs=jobs, progress=progress)
        verified |= {digest for directory in built if (digest := digests[directory]) is not None}
    if tool is not None:
        cache.save(verified)
    if failures:
        raise failures[min(failures)]
    return Verification(built=len(pending), unchanged=len(directories) - len(pending))


def _staged_files(tree: Mapping[str, bytes], inputs: Inputs, directories: Sequence[str]) -> Mapping[str, bytes]:
    """Return the files the builds of ``directories`` read, or the whole tree when one is unknown."""
    needed: set[str] = set()
    for directory in directories:
        files = inputs.files(directory)
        if files is None:
            return tree
        needed |= files
    return {path: tree[path] for path in sorted(needed)}


def _build_each(
    root: Path,
    directories: Sequence[str],
    command: Sequence[str],
    *,
    jobs: int | None,
    progress: Progress,
) -> tuple[dict[str, bytes], dict[str, ToolError]]:
    """Build ``directories`` in parallel; return the outputs and the failures by directory.

    After a failure, builds later in path order that have not started are cancelled: the
    failure reported is the first in path order either way.
    """
    workers = max(1, jobs or default_jobs())
    outputs: dict[str, bytes] = {}
    failures: dict[str, ToolError] = {}
    ordered = sorted(directories)
    with ThreadPoolExecutor(max_workers=workers) as pool, progress.phase("verify", len(ordered)) as advance:
        futures: dict[Future[bytes], str] = {pool.submit(build, root, directory, command): directory for directory in ordered}
        for future in as_completed(futures):
            advance(1)
            if future.cancelled():
                continue
            directory = futures[future]
            try:
                outputs[directory] = future.result()
            except ToolError as error:
                failures[directory] = error
                for other, other_directory in futures.items():
                    if other_directory > directory:
                        other.cancel()
    return outputs, failures


def _verify_in_batches(
    root: Path,
    directories: Sequence[str],
    command: Sequence[str],
    *,
    jobs: int | None,
    progress: Progress,
) -> tuple[set[str], dict[str, ToolError]]:
    """Build ``directories`` in parallel batches; return the ones that built and the failures.

    A batch is a kustomization under ``root`` whose resources are the batch's
    kustomizations, so it builds only when each of them builds on its own. It can also
    fail for a reason of its own: two members that emit the same object. A batch that
    fails is built again in halves down to single kustomizations, which decide and name
    the failures. Kustomizations that others build on (bases) are built on their own, since
    they emit the same objects as the overlays built on them.
    """
    workers = max(1, jobs or default_jobs())
    ordered = sorted(directories)
    referenced = _referenced_elsewhere(root, ordered)
    singles = [directory for directory in ordered if directory in referenced]
    grouped = [directory for directory in ordered if directory not in referenced]
    size = max(1, min(BATCH_SIZE, -(-len(grouped) // (2 * workers))))
    batches = [[directory] for directory in singles] + [grouped[start : start + size] for start in range(0, len(grouped), size)]

    built: set[str] = set()
    failures: dict[str, ToolError] = {}
    written = 0
    with ThreadPoolExecutor(max_workers=workers) as pool, progress.phase("verify", len(ordered)) as advance:
        running: dict[Future[bytes], list[str]] = {}

        def submit(batch: list[str]) -> None:
            nonlocal written
            target = batch[0]
            if len(batch) > 1:
                target = _write_batch(root, written, batch)
                written += 1
            running[pool.submit(build, root, target, command)] = batch

        for batch in batches:
            submit(batch)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                batch = running.pop(future)
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    built.update(batch)
                    advance(len(batch))
                elif len(batch) > 1:
                    # Halving finds a failing member, or two members that clash, in few builds.
                    half = len(batch) // 2
                    submit(batch[:half])
                    submit(batch[half:])
                elif isinstance(error, ToolError):
                    failures[batch[0]] = error
                    advance(1)
                    for other, members in running.items():
                        if min(members) > batch[0]:
                            other.cancel()
                else:
                    raise error
    return built, failures


def _referenced_elsewhere(root: Path, directories: Sequence[str]) -> set[str]:
    """Return the directories of ``directories`` that another kustomization of them names as a resource."""
    found: set[str] = set()
    candidates = set(directories)
    for directory in directories:
        for name in KUSTOMIZATION_FILES:
            path = root / directory / name
            if not path.is_file():
                continue
            for entry in Inputs.references(path.read_bytes()):
                target = os.path.normpath(os.path.join(directory, entry))
                if target in candidates and target != directory:
                    found.add(target)
            break
    return found


def _write_batch(root: Path, index: int, directories: Sequence[str]) -> str:
    """Write a kustomization that lists ``directories`` as its resources; return its directory."""
    name = f"{BATCH_PREFIX}{index:04d}"
    (root / name).mkdir()
    resources = [f"../{directory}" for directory in directories]
    # JSON is YAML, and quotes every path whatever characters it holds.
    content = json.dumps({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}, indent=1)
    (root / name / "kustomization.yaml").write_text(content + "\n", encoding="utf-8")
    return name
