"""Progress bars: drawn per phase on a terminal, never in pipes, logs or with --quiet."""

from __future__ import annotations

import io
import re
from pathlib import Path

from conftest import HOST_IP, ORIGIN
from mlsysops_gitops import progress
from mlsysops_gitops.commands.render import RenderOptions, run_render


class Terminal(io.StringIO):
    """A text stream that claims to be a terminal, as click checks before drawing."""

    def isatty(self) -> bool:
        return True


def test_for_terminal_draws_only_on_terminal() -> None:
    assert progress.for_terminal(io.StringIO()) is progress.QUIET
    assert progress.for_terminal(Terminal(), quiet=True) is progress.QUIET
    assert progress.for_terminal(Terminal()) is not progress.QUIET


def test_track_yields_every_item_and_draws_bar() -> None:
    stream = Terminal()
    bars = progress.Progress(stream, delay=0)

    items = list(bars.track("read", ["a", "b", "c"]))

    assert items == ["a", "b", "c"]
    assert "read" in stream.getvalue()
    assert "100%" in stream.getvalue()
    assert stream.getvalue().endswith("\n")


def test_quick_phase_draws_nothing() -> None:
    stream = Terminal()
    bars = progress.Progress(stream, delay=3600)

    assert list(bars.track("read", range(1000))) == list(range(1000))
    assert stream.getvalue() == ""


def test_quiet_draws_nothing() -> None:
    with progress.QUIET.phase("verify", 10) as advance:
        advance(10)
    assert list(progress.QUIET.track("write", [1, 2])) == [1, 2]


def test_render_draws_a_bar_per_phase(make_repo) -> None:
    repo = make_repo(files={"mlsysops-gitops.yaml": f"karmada_host_ip: {HOST_IP}\nrepo_url: {ORIGIN}\ntarget_revision: main\n"})
    stream = Terminal()

    run_render(RenderOptions(repo=repo, commit=False, progress=progress.Progress(stream, delay=0)))

    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue())
    labels = re.findall(r"(\w+) +\[[#-]", text)
    assert list(dict.fromkeys(labels)) == ["read", "validate", "verify", "write"]


def test_render_in_pipe_prints_no_bar(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("render", "--repo", str(repo), "--no-commit")

    assert result.exit_code == 0, result.output
    assert "verify" not in result.stderr
    assert "[#" not in result.stderr
    assert "[-" not in result.stderr


def test_render_quiet_prints_nothing(make_repo, invoke) -> None:
    repo = make_repo()

    result = invoke("render", "--repo", str(repo), "--no-commit", "--quiet")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert (Path(repo) / "base").is_dir()
