"""The ``mlsysops-gitops`` command line: option parsing and reporting, nothing more.

Each command calls one function of ``mlsysops_gitops.commands``. Expected failures
(``GitOpsError``) are reported here once, as one message and an exit code: 1 for bad
input, settings or repository state (a git command the repository refuses included),
2 for usage (click), 3 when kustomize fails or kustomize or git is missing, 4 for a bug;
``diff`` uses 5 for its input errors, as its 1 means changes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from mlsysops_gitops import __version__, progress
from mlsysops_gitops.commands.diff import DiffOptions, run_diff
from mlsysops_gitops.commands.diff_format import FORMATS, format_report
from mlsysops_gitops.commands.doctor import run_doctor
from mlsysops_gitops.commands.graph import run_graph
from mlsysops_gitops.commands.init import run_init
from mlsysops_gitops.commands.inventory import run_from_inventory
from mlsysops_gitops.commands.render import RenderOptions, run_render, validate_inputs
from mlsysops_gitops.commands.schema import run_schema, schema_texts
from mlsysops_gitops.commands.secrets import run_secrets
from mlsysops_gitops.commands.settings import format_rows, run_settings
from mlsysops_gitops.errors import EXIT_DIFF_INPUT, EXIT_INPUT, EXIT_INTERNAL, GitOpsError, InputError, Problem
from mlsysops_gitops.verify import kustomize

logger = logging.getLogger("mlsysops_gitops")


@contextlib.contextmanager
def reported_errors(debug: bool, *, writes: bool = True, input_exit: int = EXIT_INPUT) -> Iterator[None]:
    """Turn expected failures into a message on stderr and their exit code.

    ``writes`` tells whether the command writes files, so that its error count can add
    that it wrote nothing; ``input_exit`` replaces the exit code of input and repository errors.
    """
    try:
        yield
    except InputError as error:
        for problem in error.problems:
            click.echo(problem.format(), err=True)
        errors = sum(1 for problem in error.problems if problem.severity == "error")
        written = "; nothing was written" if writes else ""
        click.echo(f"{errors} error{'s' if errors != 1 else ''} found{written}", err=True)
        if debug:
            traceback.print_exc()
        sys.exit(input_exit if error.exit_code == EXIT_INPUT else error.exit_code)
    except GitOpsError as error:
        click.echo(f"error: {error}", err=True)
        if debug:
            traceback.print_exc()
        sys.exit(input_exit if error.exit_code == EXIT_INPUT else error.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception:
        if debug:
            raise
        click.echo("internal error: mlsysops-gitops failed unexpectedly; run again with --debug for the traceback and report it", err=True)
        sys.exit(EXIT_INTERNAL)


def _setting_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add the settings that are commonly given on the command line."""
    options = [
        click.option("--karmada-host-ip", help="IP address of the Karmada host (Redis, ejabberd); overrides KARMADA_HOST_IP."),
        click.option("--repo-url", help="Argo CD repoURL; default: the 'origin' remote's URL."),
        click.option("--target-revision", help="Argo CD targetRevision; default: the current branch."),
        click.option("--karmada-destination", help="Argo CD cluster name of the Karmada API server; default: karmada-apiserver."),
        click.option("--secrets-mode", type=click.Choice(["external", "external-secrets", "sealed-secrets"]), help="Who creates the Secrets the workloads reference; default: external."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _overrides(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("karmada_host_ip", "repo_url", "target_revision", "karmada_destination", "secrets_mode")
    return {key: values.pop(key) for key in keys if values.get(key) is not None}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_warnings(warnings: list[Problem]) -> None:
    for warning in warnings:
        click.echo(warning.format(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mlsysops-gitops")
@click.option("--debug", is_flag=True, help="Show tracebacks of failures.")
@click.option("-v", "--verbose", is_flag=True, help="Log each stage of the work.")
@click.option("--kustomize-timeout", type=click.FloatRange(min=0, min_open=True), default=kustomize.DEFAULT_TIMEOUT, show_default=True, help="Seconds one kustomize process may run before it is stopped (exit 3).")
@click.pass_context
def main(context: click.Context, debug: bool, verbose: bool, kustomize_timeout: float) -> None:
    """Render the MLSysOps framework's installation as a GitOps repository for Argo CD and Karmada."""
    context.obj = {"debug": debug}
    kustomize.timeout = kustomize_timeout
    # A service manager or CI runner stops a job with SIGTERM: treat it as Ctrl-C, so a
    # render stops its git commit and rolls back the files it wrote instead of dying halfway.
    signal.signal(signal.SIGTERM, _interrupt)
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
@click.option("--force", is_flag=True, help="Overwrite uncommitted hand edits of generated files, listing each one.")
@click.option("--branch", metavar="NAME", help="Commit on branch NAME (created from the current branch when missing) for a pull request; the work tree and current branch stay as they are.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but warnings and errors.")
@click.pass_context
def render(context: click.Context, repo: Path, check: bool, no_commit: bool, no_verify: bool, strict: bool, jobs: int | None, force: bool, branch: str | None, quiet: bool, **settings: Any) -> None:
    """Render base/, overlays/ and argocd/ from descriptions/ and commit them."""
    if branch is not None and (check or no_commit):
        raise click.UsageError("--branch commits, so it cannot be combined with --check or --no-commit")
    options = RenderOptions(repo=repo, overrides=_overrides(settings), commit=not no_commit, check=check, verify=not no_verify, strict=strict, jobs=jobs, force=force, branch=branch, progress=progress.for_terminal(sys.stderr, quiet=quiet))
    with reported_errors(context.obj["debug"]):
        result = run_render(options)
    _print_warnings(result.warnings)
    for path in result.overwritten:
        click.echo(f"warning: overwriting the uncommitted hand edit of {path}", err=True)
    if check:
        if result.changes:
            for path in result.changes.paths:
                click.echo(path)
            count = len(result.changes.paths)
            click.echo(f"{count} rendered file{'s differ' if count != 1 else ' differs'} from a fresh render; run mlsysops-gitops render", err=True)
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
        where = f" on branch {result.branch}" if result.branch else ""
        subject = (result.message or "").split("\n", 1)[0]
        click.echo(f"committed {result.commit[:12]}{where}: {subject}", err=True)


@main.command()
@_repo_option
@_setting_options
@click.option("--base", default="HEAD", show_default=True, help="Commit whose generated files to compare with, e.g. origin/main in a pull request.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True, help="text for a terminal, markdown for a pull-request comment, json for tools.")
@click.option("--strict", is_flag=True, help="Treat unknown fields in descriptions as errors.")
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel kustomize builds; default: the number of CPUs.")
@click.pass_context
def diff(context: click.Context, repo: Path, base: str, output_format: str, strict: bool, jobs: int | None, **settings: Any) -> None:
    """Show what a fresh render changes against the committed outputs.

    Exits 0 without changes, 1 with changes, 5 when the input is wrong (invalid
    descriptions or settings, a --base that names no commit) and 3 when kustomize fails.
    """
    options = DiffOptions(repo=repo, overrides=_overrides(settings), base=base, strict=strict, jobs=jobs)
    with reported_errors(context.obj["debug"], writes=False, input_exit=EXIT_DIFF_INPUT):
        report = run_diff(options)
    click.echo(format_report(report, output_format), nl=False)
    sys.exit(1 if report else 0)


@main.command()
@_repo_option
@_setting_options
@click.option("--format", "output_format", type=click.Choice(["mermaid", "markdown"]), default="mermaid", show_default=True, help="mermaid prints the chart alone; markdown wraps it in a fenced block.")
@click.option("--strict", is_flag=True, help="Treat unknown fields in descriptions as errors.")
@click.pass_context
def graph(context: click.Context, repo: Path, output_format: str, strict: bool, **settings: Any) -> None:
    """Draw the bootstrap order of the Argo CD Applications as a Mermaid flowchart."""
    with reported_errors(context.obj["debug"], writes=False):
        chart = run_graph(repo, _overrides(settings), strict=strict)
    click.echo(f"```mermaid\n{chart}```\n" if output_format == "markdown" else chart, nl=False)


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
        # Problems go to stdout as one JSON list, for CI annotations; other failures as usual.
        with reported_errors(context.obj["debug"], writes=False):
            try:
                problems = validate_inputs(repo, overrides, strict=strict)
                code = 0
            except InputError as error:
                problems, code = list(error.problems), error.exit_code
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
        sys.exit(code)
    with reported_errors(context.obj["debug"], writes=False):
        warnings = validate_inputs(repo, overrides, strict=strict)
    _print_warnings(warnings)
    count = f" ({len(warnings)} warning{'s' if len(warnings) != 1 else ''})" if warnings else ""
    click.echo(f"descriptions and settings are valid{count}", err=True)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"), show_default=True, help="Folder to write <kind>.schema.json files into.")
@click.pass_context
def schema(context: click.Context, out: Path) -> None:
    """Write the JSON Schema of each description kind, for editors such as yaml-language-server."""
    with reported_errors(context.obj["debug"]):
        changes = run_schema(out)
    for name in sorted(schema_texts()):
        if name in changes.created:
            verb = "create"
        elif name in changes.updated:
            verb = "update"
        else:
            verb = "identical"
        click.echo(f"{verb:>9} {out / name}", err=True)


@main.command("settings")
@_repo_option
@_setting_options
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="How the settings are printed.")
@click.pass_context
def settings_command(context: click.Context, repo: Path, output_format: str, **settings: Any) -> None:
    """Print the effective settings and where each value came from."""
    with reported_errors(context.obj["debug"], writes=False):
        rows = run_settings(repo, _overrides(settings))
    if output_format == "json":
        click.echo(json.dumps([dataclasses.asdict(row) for row in rows], indent=2))
    else:
        click.echo(format_rows(rows), nl=False)


@main.command("secrets")
@_repo_option
@_setting_options
@click.option("--management-context", help="kubectl context of the management cluster; default: a placeholder.")
@click.option("--karmada-context", help="kubectl context of the Karmada API server; default: a placeholder.")
@click.pass_context
def secrets_command(context: click.Context, repo: Path, management_context: str | None, karmada_context: str | None, **settings: Any) -> None:
    """Print the commands that create the Secrets the workloads reference, with placeholders for values."""
    with reported_errors(context.obj["debug"], writes=False):
        script = run_secrets(repo, _overrides(settings), management_context=management_context, karmada_context=karmada_context)
    click.echo(script, nl=False)


@main.command()
@_repo_option
@click.option("--argocd-cm", "argocd_cm", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="argocd-cm as saved by 'kubectl -n argocd get configmap argocd-cm -o yaml'; checks its health check of Applications.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="How findings are printed.")
@click.pass_context
def doctor(context: click.Context, repo: Path, argocd_cm: Path | None, output_format: str) -> None:
    """Check offline that the rendered sync waves gate: exit 1 when they would not."""
    with reported_errors(context.obj["debug"], writes=False):
        problems = run_doctor(repo, argocd_cm)
    errors = sum(1 for problem in problems if problem.severity == "error")
    if output_format == "json":
        click.echo(json.dumps([problem.as_dict() for problem in problems], indent=2))
    else:
        for problem in problems:
            click.echo(problem.format())
        warnings = len(problems) - errors
        verdict = "the sync waves would not gate as intended" if errors else "the sync waves gate as rendered"
        click.echo(f"{verdict}: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}", err=True)
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--repo-url", required=True, help="URL Argo CD pulls the repository from (where you will push); becomes the 'origin' remote.")
@click.option("--inventory", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Describe the machines of this Ansible inventory instead of the example.")
@click.pass_context
def init(context: click.Context, directory: Path, repo_url: str, inventory: Path | None) -> None:
    """Create a GitOps repository in DIRECTORY: descriptions, settings, README, first commit."""
    with reported_errors(context.obj["debug"]):
        result = run_init(directory, repo_url=repo_url, inventory=inventory)
    for path in result.written:
        click.echo(f"{'create':>8} {path}", err=True)
    click.echo(f"committed {result.commit[:12]}; next: export KARMADA_HOST_IP=... && cd {directory} && mlsysops-gitops render", err=True)


@main.group()
def descriptions() -> None:
    """Write system descriptions from other sources."""


@descriptions.command("from-inventory")
@click.argument("inventory", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("descriptions"), show_default=True, help="Descriptions folder to write into.")
@click.option("--force", is_flag=True, help="Replace existing descriptions whose content differs.")
@click.pass_context
def from_inventory(context: click.Context, inventory: Path, out: Path, force: bool) -> None:
    """Write continuum, cluster and node descriptions for the hosts of an Ansible INVENTORY."""
    with reported_errors(context.obj["debug"]):
        result = run_from_inventory(inventory, out, force=force)
    for path in result.written:
        click.echo(f"{'write':>8} {out / path}", err=True)
    if not result.written:
        click.echo(f"descriptions in {out} already match {inventory}", err=True)
