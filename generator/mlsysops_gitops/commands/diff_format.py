"""The three formats of ``diff``: text for a terminal, Markdown for a pull-request comment, JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Iterable

from mlsysops_gitops import topology
from mlsysops_gitops.commands.diff import ApplicationChange, DiffReport, Prune, Restart

FORMATS = ("text", "markdown", "json")
KARMADA_PRUNE_NOTE = "Karmada removes what is pruned from its API server from the member clusters it propagated it to."
# A longer list goes into a collapsed <details> block, so the comment stays readable.
MARKDOWN_OPEN_ROWS = 20


def format_report(report: DiffReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.as_dict(), indent=2, sort_keys=False) + "\n"
    if output_format == "markdown":
        return format_markdown(report)
    return format_text(report)


def format_text(report: DiffReport) -> str:
    if not report:
        return f"no changes: the outputs at {report.base} equal a fresh render\n"
    lines = [f"A fresh render changes {_count(report.topology.files.paths, 'generated file')} against {report.base}.", ""]
    sections = [
        ("Continuum", topology.describe(report.topology)),
        ("Applications", [_application_line(change) for change in report.applications]),
        ("Agents and workloads that restart", [_restart_line(restart) for restart in report.restarts]),
        ("Argo CD prunes", _prune_lines(report.prunes, code=False)),
        ("Applied by hand (kubectl apply -k argocd/), no Application syncs it", list(report.bootstrap)),
        ("Files", _file_lines(report)),
    ]
    for title, entries in sections:
        if entries:
            lines.append(title)
            lines += [f"  {entry}" for entry in entries]
            lines.append("")
    if report.graph:
        lines += ["Bootstrap order changed; new order (Mermaid):", report.graph]
    return "\n".join(lines).rstrip("\n") + "\n"


def format_markdown(report: DiffReport) -> str:
    """Return the report as a pull-request comment: one section per non-empty part."""
    if not report:
        return f"### mlsysops-gitops diff\n\nNo changes: the generated files at `{report.base}` equal a fresh render.\n"
    files = report.topology.files
    lines = [
        "### mlsysops-gitops diff",
        "",
        f"A fresh render changes {_count(files.paths, 'generated file')} against `{report.base}`: "
        f"{len(files.created)} created, {len(files.updated)} updated, {len(files.deleted)} deleted.",
        "",
    ]
    lines += _section("Continuum", [f"- {line}" for line in topology.describe(report.topology)])
    lines += _section(
        "Agents and workloads that restart",
        ["| workload | cluster | Application | why |", "| --- | --- | --- | --- |", *[_restart_row(restart, report.applications) for restart in report.restarts]],
        intro="Every pod of a listed workload restarts, for a DaemonSet on every node of its cluster.",
        when=bool(report.restarts),
    )
    lines += _section(
        "Applications",
        ["| wave | Application | destination | change | objects |", "| --- | --- | --- | --- | --- |", *[_application_row(change) for change in report.applications]],
        when=bool(report.applications),
    )
    lines += _section("Argo CD prunes", _collapsed([f"- {line}" for line in _prune_lines(report.prunes, code=True)], "pruned objects"), intro=KARMADA_PRUNE_NOTE)
    lines += _section(
        "Applied by hand",
        [f"- `{path}`" for path in report.bootstrap],
        intro="No Application syncs these files, so apply them again with `kubectl apply -k argocd/`:",
    )
    if report.graph:
        lines += _section("Bootstrap order changed", ["```mermaid", report.graph.rstrip("\n"), "```"])

    lines += ["<details><summary>Changed files</summary>", "", *[f"- {line}" for line in _file_lines(report, code=True)], "", "</details>"]
    return "\n".join(lines) + "\n"


def _section(title: str, body: list[str], *, intro: str = "", when: bool | None = None) -> list[str]:
    """Return a Markdown section, or nothing when ``body`` is empty (or ``when`` is False)."""
    if not (body if when is None else when):
        return []
    return [f"#### {title}", "", *([intro, ""] if intro else []), *body, ""]


def _count(items: Iterable[object], noun: str) -> str:
    count = len(list(items))
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _objects(change: ApplicationChange) -> str:
    parts = [f"{len(group)} {verb}" for verb, group in (("created", change.created), ("updated", change.updated), ("pruned", change.deleted)) if group]
    return ", ".join(parts) or "manifest only"


def _application_line(change: ApplicationChange) -> str:
    return f"wave {change.wave}  {change.name} to {change.destination}: {change.change}, {_objects(change)}"


def _application_row(change: ApplicationChange) -> str:
    return f"| {change.wave} | `{change.name}` | {change.destination} | {change.change} | {_objects(change)} |"


def _restart_reason(restart: Restart) -> str:
    if restart.descriptions_moved:
        return "descriptions changed: " + restart.reason()
    return restart.reason()


def _restart_line(restart: Restart) -> str:
    cluster = f"cluster {restart.cluster_id}, " if restart.cluster_id else ""
    return f"{restart.workload} ({cluster}Application {restart.application}): {_restart_reason(restart)}"


def _restart_row(restart: Restart, changes: Iterable[ApplicationChange]) -> str:
    wave = next((change.wave for change in changes if change.name == restart.application), None)
    application = f"`{restart.application}`" + (f" (wave {wave})" if wave is not None else "")
    reason = _restart_reason(restart).replace(" -> ", " → ")
    return f"| {restart.workload.kind} `{restart.workload.namespace}/{restart.workload.name}` | {restart.cluster_id or '-'} | {application} | {reason} |"


def _prune_lines(prunes: Iterable[Prune], *, code: bool) -> list[str]:
    """Return one line per object, but one line per removed Application listing all its objects."""
    quote = "`" if code else ""
    lines = []
    removed: dict[str, list[str]] = {}
    for prune in prunes:
        name = f"{prune.object.kind} {quote}{prune.object.namespace + '/' if prune.object.namespace else ''}{prune.object.name}{quote}"
        if prune.application_removed:
            removed.setdefault(prune.application, []).append(name)
            continue
        reason = f"replaced by {prune.replaced_by}" if prune.replaced_by else "no longer rendered"
        if prune.last:
            reason += ", deleted after the rest of the sync (PruneLast)"
        lines.append(f"{name} from Application {quote}{prune.application}{quote}: {reason}")
    for application, names in removed.items():
        lines.append(f"Application {quote}{application}{quote} is removed, and its finalizer deletes {', '.join(names)}")
    return lines


def _file_lines(report: DiffReport, *, code: bool = False) -> list[str]:
    files = report.topology.files
    quote = "`" if code else ""
    marked = [("A", path) for path in files.created] + [("M", path) for path in files.updated] + [("D", path) for path in files.deleted]
    return [f"{mark} {quote}{path}{quote}" for mark, path in sorted(marked, key=lambda item: item[1])]


def _collapsed(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MARKDOWN_OPEN_ROWS:
        return lines
    return [*lines[:MARKDOWN_OPEN_ROWS], "", f"<details><summary>{len(lines) - MARKDOWN_OPEN_ROWS} more {what}</summary>", "", *lines[MARKDOWN_OPEN_ROWS:], "", "</details>"]
