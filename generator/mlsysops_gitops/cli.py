"""The ``mlsysops-gitops`` command line: option parsing and reporting, nothing more.

Each command calls one function of ``mlsysops_gitops.commands``. Expected failures
(``GitOpsError``) are reported here once, as one message and an exit code: 1 for bad
input, settings or repository state, 2 for usage (click), 3 when kustomize or git fails.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mlsysops_gitops import __version__
from mlsysops_gitops.commands.render import RenderOptions, load_inputs, run_render
from mlsysops_gitops.errors import EXIT_TOOL, GitOpsError, InputError, Problem

logger = logging.getLogger("mlsysops_gitops")


@contextlib.contextmanager
def reported_errors(debug: bool) -> Iterator[None]:
    """Turn expected failures into a message on stderr and their exit code."""
    try:
        yield
    except InputError as error:
        for problem in error.problems:
            click.echo(problem.format(), err=True)
        errors = sum(1 for problem in error.problems if problem.severity == "error")
        click.echo(f"{errors} error{'s' if errors != 1 else ''} found; nothing was written", err=True)
        if debug:
            traceback.print_exc()
        sys.exit(error.exit_code)
    except GitOpsError as error:
        click.echo(f"error: {error}", err=True)
        if debug:
            traceback.print_exc()
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception:
        if debug:
            raise
        click.echo("internal error: mlsysops-gitops failed unexpectedly; run again with --debug for the traceback and report it", err=True)
        sys.exit(EXIT_TOOL + 1)


def _setting_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the settings that are commonly given on the command line."""
    options = [
        click.option("--karmada-host-ip", help="IP address of the Karmada host (Redis, ejabberd); overrides KARMADA_HOST_IP."),
        click.option("--repo-url", help="Argo CD repoURL; default: the 'origin' remote's URL."),
        click.option("--target-revision", help="Argo CD targetRevision; default: the current branch."),
        click.option("--karmada-destination", help="Argo CD cluster name of the Karmada API server; default: karmada-apiserver."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _overrides(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("karmada_host_ip", "repo_url", "target_revision", "karmada_destination")
    return {key: values.pop(key) for key in keys if values.get(key) is not None}


def _print_warnings(warnings: list[Problem]) -> None:
    for warning in warnings:
        click.echo(warning.format(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mlsysops-gitops")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage of the work.")
@click.pass_context
def main(context: click.Context, debug: bool, verbose: bool) -> None:
    """Render the MLSysOps framework's installation as a GitOps repository for Argo CD and Karmada."""
    context.obj = {"debug": debug}
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s")


_repo_option = click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Root of the GitOps repository: descriptions/ and mlsysops-gitops.yaml are read there.",
)


@main.command()
@_repo_option
@_setting_options
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files a render would change.")
@click.option("--no-commit", is_flag=True, help="Write the files but do not commit them.")
@click.option("--no-verify", is_flag=True, help="Skip the kustomize build of the rendered kustomizations.")
@click.option("--strict", is_flag=True, help="Treat unknown fields in descriptions as errors.")
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel kustomize builds; default: the number of CPUs.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but warnings and errors.")
@click.pass_context
def render(context: click.Context, repo: Path, check: bool, no_commit: bool, no_verify: bool, strict: bool, jobs: int | None, quiet: bool, **settings: Any) -> None:
    """Render base/, overlays/ and argocd/ from descriptions/ and commit them."""
    options = RenderOptions(repo=repo, overrides=_overrides(settings), commit=not no_commit, check=check, verify=not no_verify, strict=strict, jobs=jobs)
    with reported_errors(context.obj["debug"]):
        result = run_render(options)
    _print_warnings(result.warnings)
    if check:
        if result.changes:
            for path in result.changes.paths:
                click.echo(path)
            click.echo(f"{len(result.changes.paths)} rendered files differ from a fresh render; run mlsysops-gitops render", err=True)
            sys.exit(1)
        if not quiet:
            click.echo("rendered files are up to date", err=True)
        return
    if quiet:
        return
    for verb, paths in (("create", result.changes.created), ("update", result.changes.updated), ("delete", result.changes.deleted)):
        for path in paths:
            click.echo(f"{verb:>8} {path}", err=True)
    if not result.changes:
        click.echo("nothing to render: outputs are up to date", err=True)
    if result.commit:
        click.echo(f"committed {result.commit[:12]}", err=True)


@main.command()
@_repo_option
@_setting_options
@click.option("--strict", is_flag=True, help="Treat unknown fields in descriptions as errors.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="How problems are printed.")
@click.pass_context
def validate(context: click.Context, repo: Path, strict: bool, output_format: str, **settings: Any) -> None:
    """Check descriptions and settings without writing anything."""
    overrides = _overrides(settings)
    if output_format == "json":
        try:
            _, _, warnings = load_inputs(repo, overrides, strict=strict)
            problems, code = warnings, 0
        except InputError as error:
            problems, code = list(error.problems), 1
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
        sys.exit(code)
    with reported_errors(context.obj["debug"]):
        _, _, warnings = load_inputs(repo, overrides, strict=strict)
    _print_warnings(warnings)
    click.echo("descriptions and settings are valid", err=True)
