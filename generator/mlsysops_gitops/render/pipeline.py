"""Build the whole output tree from a validated fleet and the settings.

This is the only place that lists the builders of a render. Each builder adds its files
to one in-memory ``Tree``, and nothing here touches the disk.
"""

from __future__ import annotations

from mlsysops_gitops.descriptions.reader import Fleet
from mlsysops_gitops.render import guard
from mlsysops_gitops.render.applications import render_applications
from mlsysops_gitops.render.argocd import render_argocd
from mlsysops_gitops.render.bases import render_bases
from mlsysops_gitops.render.manifests import Tree
from mlsysops_gitops.render.overlays import render_overlays
from mlsysops_gitops.render.secrets import render_secrets
from mlsysops_gitops.settings import Settings


def render_tree(fleet: Fleet, settings: Settings) -> Tree:
    """Return every file of ``base/``, ``overlays/`` and ``argocd/`` for ``fleet``."""
    tree = Tree()
    render_bases(tree, settings)
    render_secrets(tree, settings)
    render_overlays(tree, fleet)
    render_applications(tree, fleet)
    render_argocd(tree, fleet, settings)
    # Last, so that nothing any builder adds escapes it; raises before anything is written.
    guard.check_tree(tree)
    return tree
