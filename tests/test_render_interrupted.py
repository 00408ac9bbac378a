"""A render stopped with SIGTERM while git commits leaves HEAD, index and files in step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import GIT_ENV, HOST_IP, git

SLOW_HOOK = """#!/bin/sh
touch "{marker}"
sleep 4
"""


def _terminate_during_hook(repo: Path, invoke, tmp_path: Path, hook_name: str) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Change a node, then SIGTERM a render while the named Git hook runs; return the old HEAD and the run."""
    assert invoke("render", "--repo", str(repo)).exit_code == 0
    head = git(repo, "rev-parse", "HEAD")
    node = repo / "descriptions/nodes/mls-test-vm1.yaml"
    node.write_text(node.read_text().replace("cores: 2", "cores: 4"))
    marker = tmp_path / "hook-started"
    hook = repo / ".git/hooks" / hook_name
    hook.write_text(SLOW_HOOK.format(marker=marker))
    hook.chmod(0o755)

    env = {**os.environ, **GIT_ENV, "KARMADA_HOST_IP": HOST_IP}
    argv = [sys.executable, "-m", "mlsysops_gitops", "render", "--repo", str(repo)]
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), f"the {hook_name} hook never started"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    return head, subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def test_sigterm_during_commit_rolls_back(make_repo, invoke, tmp_path: Path) -> None:
    repo = make_repo()

    head, run = _terminate_during_hook(repo, invoke, tmp_path, "pre-commit")
    time.sleep(5)  # Longer than the hook: an orphaned commit would have landed by now.

    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain").splitlines() == [" M descriptions/nodes/mls-test-vm1.yaml"]


def test_sigterm_after_commit_keeps_clean_index(make_repo, invoke, tmp_path: Path) -> None:
    repo = make_repo()

    head, run = _terminate_during_hook(repo, invoke, tmp_path, "post-commit")

    # The commit existed before the signal, so it stays, and the index matches it.
    assert "Traceback" not in run.stderr
    assert git(repo, "rev-parse", "HEAD") != head
    assert git(repo, "status", "--porcelain") == ""
