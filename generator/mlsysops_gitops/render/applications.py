"""``MLSysOpsApp`` objects on the Karmada API server, one per application description.

They sync in root's last wave, after every cluster's node agents: the continuum agent
places applications on running agents, and the agents install the MLSysOpsApp CRD
themselves, so Argo CD skips its dry run while that CRD is still missing.
"""

from __future__ import annotations

from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.application import ApplicationFile
from mlsysops_gitops.descriptions.reader import Fleet
from mlsysops_gitops.render import karmada
from mlsysops_gitops.render.manifests import Tree, kustomization, metadata

APPLICATIONS_DIR = f"{layout.OVERLAYS_DIR}/applications"
APPLICATION_NAME = "mlsysops-applications"
# After the cluster app-of-apps (wave 3), which hold the node agents (their wave 4).
WAVE_APPLICATIONS = 5
API_VERSION = "mlsysops.eu/v1"
KIND = "MLSysOpsApp"


def render_applications(tree: Tree, fleet: Fleet) -> None:
    """Add ``overlays/applications/`` when the fleet has application descriptions."""
    if not fleet.applications:
        return
    resources = []
    for application in fleet.applications:
        tree.add_yaml(f"{APPLICATIONS_DIR}/{application.name}.yaml", app_object(application))
        resources.append(f"{application.name}.yaml")
    tree.add_yaml(f"{APPLICATIONS_DIR}/kustomization.yaml", kustomization(namespace=layout.NAMESPACE, resources=resources))


def app_object(application: ApplicationFile) -> dict[str, Any]:
    """Build the MLSysOpsApp: the CRD keeps the description's fields at the top level."""
    labels = {layout.PART_OF_LABEL: layout.PART_OF, layout.MANAGED_BY_LABEL: layout.MANAGED_BY}
    head = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata(application.name, labels=labels, annotations=karmada.SKIP_DRY_RUN),
    }
    return head | application.body


__all__ = ["render_applications", "app_object", "APPLICATIONS_DIR", "APPLICATION_NAME", "WAVE_APPLICATIONS"]
