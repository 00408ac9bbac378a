"""The graph command: the bootstrap order of the Argo CD Applications as a Mermaid flowchart.

Code hosts draw Mermaid blocks in pull requests and READMEs. The chart shows the root
app-of-apps, one box per sync wave with its Applications and their destinations, and
inside the wave where each member cluster starts, one box per cluster holding its own
Applications in their order.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlsysops_gitops.commands.render import load_inputs
from mlsysops_gitops.render.argocd import ROOT, AppSpec, applications


def run_graph(repo: Path, overrides: dict[str, Any], *, strict: bool = False) -> str:
    """Return the Mermaid flowchart of the Applications a render of ``repo`` produces."""
    fleet, settings, _ = load_inputs(repo, overrides, strict=strict)
    return mermaid(applications(fleet, settings))


def mermaid(specs: Sequence[AppSpec]) -> str:
    """Draw ``specs`` as a top-down Mermaid flowchart; the same specs give the same text."""
    ids = {spec.name: f"app{index}" for index, spec in enumerate(specs)}
    shared = [spec for spec in specs if spec.cluster_id is None]
    clusters: dict[str, list[AppSpec]] = {}
    for spec in specs:
        if spec.cluster_id is not None:
            clusters.setdefault(spec.cluster_id, []).append(spec)
    # A cluster's box sits in the wave of its first Application.
    cluster_wave = {cluster_id: min(spec.wave for spec in members) for cluster_id, members in clusters.items()}
    waves = sorted({spec.wave for spec in shared} | set(cluster_wave.values()))

    lines = ["flowchart TD", f'  root["{_label(ROOT)}"]']
    for position, wave in enumerate(waves):
        lines.append(f'  subgraph wave{position}["wave {wave}"]')
        lines += [f"    {ids[spec.name]}{_box(spec)}" for spec in sorted(shared, key=lambda spec: spec.name) if spec.wave == wave]
        for index, cluster_id in enumerate(sorted(clusters)):
            if cluster_wave[cluster_id] == wave:
                lines += _cluster_box(index, cluster_id, clusters[cluster_id], ids)
        lines.append("  end")
    for earlier, later in itertools.pairwise(["root", *(f"wave{position}" for position in range(len(waves)))]):
        lines.append(f"  {earlier} --> {later}")
    return "\n".join(lines) + "\n"


def _cluster_box(index: int, cluster_id: str, members: list[AppSpec], ids: dict[str, str]) -> list[str]:
    members = sorted(members, key=lambda spec: (spec.wave, spec.name))
    lines = [f'    subgraph cluster{index}["cluster {_label(cluster_id)}"]']
    lines += [f"      {ids[spec.name]}{_box(spec, with_wave=True)}" for spec in members]
    by_wave = [list(group) for _, group in itertools.groupby(members, key=lambda spec: spec.wave)]
    for earlier, later in itertools.pairwise(by_wave):
        lines += [f"      {ids[before.name]} --> {ids[after.name]}" for before in earlier for after in later]
    lines.append("    end")
    return lines


def _box(spec: AppSpec, *, with_wave: bool = False) -> str:
    wave = f"wave {spec.wave}, " if with_wave else ""
    return f'["{_label(spec.name)}<br/>{wave}to {_label(spec.destination)}"]'


def _label(text: str) -> str:
    """Escape the characters that end or break a quoted Mermaid label."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
