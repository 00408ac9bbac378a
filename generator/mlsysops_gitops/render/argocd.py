"""Argo CD objects under ``argocd/``: the AppProject, the root app-of-apps, and the
child Applications whose sync waves give the bootstrap order the agents need.

Root (``argocd/apps``) syncs, wave by wave:

====  ==============================================================
0     namespace and RBAC on the management cluster and on Karmada
1     third-party services: ejabberd, Redis, northbound API
2     the continuum agent
3     one app-of-apps per member cluster (``argocd/clusters/<id>``)
====  ==============================================================

Each cluster's app-of-apps contains its cluster agent (wave 3) and node agents (wave 4),
so a cluster that never becomes healthy holds back only its own node agents.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.reader import Fleet
from mlsysops_gitops.render.applications import APPLICATION_NAME, APPLICATIONS_DIR, WAVE_APPLICATIONS
from mlsysops_gitops.render import bases
from mlsysops_gitops.render.manifests import Tree, kustomization, metadata, to_yaml
from mlsysops_gitops.render.overlays import CLUSTERS, KARMADA, MANAGEMENT, cluster_path
from mlsysops_gitops.settings import Settings

APPS_DIR = f"{layout.ARGOCD_DIR}/apps"
CLUSTER_APPS_DIR = f"{layout.ARGOCD_DIR}/clusters"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
ROOT = "mlsysops-root"

WAVE_FRAMEWORK = 0
WAVE_SERVICES = 1
WAVE_CONTINUUM_AGENT = 2
WAVE_CLUSTER_AGENT = 3
WAVE_NODE_AGENTS = 4

# Argo CD has not assessed the health of Applications since 1.8, so a parent's sync
# waves do not wait for its children unless argocd-cm restores this check. It follows
# the check in Argo CD's health documentation with one change. A child reads Healthy
# only once it is also Synced, because an Application whose resources failed to apply
# can still report Healthy, and the next wave must not start then.
HEALTH_CHECK_LUA = """\
hs = {}
hs.status = "Progressing"
hs.message = "waiting for the Application to report its health"
if obj.status ~= nil and obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = obj.status.health.message or ""
  if hs.status == "Healthy" and (obj.status.sync == nil or obj.status.sync.status ~= "Synced") then
    hs.status = "Progressing"
    hs.message = "healthy but not yet synced"
  end
end
return hs
"""
HEALTH_CHECK_KEY = "resource.customizations.health.argoproj.io_Application"


@dataclasses.dataclass(frozen=True)
class AppSpec:
    """One child Application: where it reads from, where it applies, and when."""

    name: str
    path: str
    destination: str
    wave: int
    cluster_id: str | None = None
    bases: tuple[str, ...] = ()

    def generate_paths(self) -> str:
        """Return the value of ``manifest-generate-paths``: the overlay and the bases it builds on.

        Argo CD reads ``.`` as the Application's own path and ``/...`` as a path from the
        repository root. A commit outside these paths does not refresh the Application.
        """
        return ";".join([".", *(f"/{layout.BASE_DIR}/{base}" for base in self.bases)])


def source_repo(settings: Settings) -> tuple[str, str]:
    assert settings.repo_url and settings.target_revision, "the CLI resolves both before rendering"
    return settings.repo_url, settings.target_revision


def applications(fleet: Fleet, settings: Settings) -> list[AppSpec]:
    """List every child Application in bootstrap order."""
    management, karmada = settings.management_destination, settings.karmada_destination
    specs = [
        AppSpec("mlsysops-framework", f"{MANAGEMENT}/framework", management, WAVE_FRAMEWORK, bases=(bases.FRAMEWORK,)),
        AppSpec("mlsysops-karmada", KARMADA, karmada, WAVE_FRAMEWORK, bases=(bases.FRAMEWORK,)),
        AppSpec("mlsysops-services", f"{MANAGEMENT}/services", management, WAVE_SERVICES, bases=(bases.EJABBERD, bases.REDIS, bases.NORTHBOUND_API)),
        AppSpec("mlsysops-continuum-agent", f"{MANAGEMENT}/continuum-agent", management, WAVE_CONTINUUM_AGENT, bases=(bases.CONTINUUM_AGENT,)),
    ]
    for cluster_id in fleet.clusters:
        specs.append(AppSpec(f"mlsysops-cluster-agent-{cluster_id}", cluster_path(cluster_id, "cluster-agent"), karmada, WAVE_CLUSTER_AGENT, cluster_id, (bases.CLUSTER_AGENT,)))
        specs.append(AppSpec(f"mlsysops-node-agents-{cluster_id}", cluster_path(cluster_id, "node-agents"), karmada, WAVE_NODE_AGENTS, cluster_id, (bases.NODE_AGENT,)))
    if fleet.applications:
        specs.append(AppSpec(APPLICATION_NAME, APPLICATIONS_DIR, karmada, WAVE_APPLICATIONS))
    return specs


def _application(spec: AppSpec, settings: Settings, *, namespace: str) -> dict[str, Any]:
    repo_url, revision = source_repo(settings)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata(
            spec.name,
            namespace=settings.argocd_namespace,
            labels={layout.PART_OF_LABEL: layout.PART_OF, **({layout.CLUSTER_LABEL: spec.cluster_id} if spec.cluster_id else {})},
            annotations={SYNC_WAVE: str(spec.wave), GENERATE_PATHS: spec.generate_paths()},
        )
        # Deleting the Application deletes what it applied, so removing a cluster leaves nothing behind.
        | {"finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": settings.project,
            "source": {"repoURL": repo_url, "targetRevision": revision, "path": spec.path},
            "destination": {"name": spec.destination, "namespace": namespace},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "retry": {"limit": 10, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "5m"}},
            },
        },
    }


def render_argocd(tree: Tree, fleet: Fleet, settings: Settings) -> None:
    """Add the AppProject, the root Application and every child Application to ``tree``."""
    specs = applications(fleet, settings)
    tree.add_yaml(f"{layout.ARGOCD_DIR}/project.yaml", _project(settings))
    root = AppSpec(ROOT, APPS_DIR, settings.management_destination, 0)
    tree.add_yaml(f"{layout.ARGOCD_DIR}/root.yaml", _application(root, settings, namespace=settings.argocd_namespace))
    tree.add_yaml(f"{layout.ARGOCD_DIR}/kustomization.yaml", kustomization(resources=["project.yaml", "root.yaml"]))
    tree.add(f"{layout.ARGOCD_DIR}/argocd-cm-health-patch.yaml", _health_patch(settings))

    apps = []
    for spec in specs:
        if spec.cluster_id is None:
            tree.add_yaml(f"{APPS_DIR}/{spec.name}.yaml", _application(spec, settings, namespace=layout.NAMESPACE))
            apps.append(f"{spec.name}.yaml")
    for cluster_id in fleet.clusters:
        parent = AppSpec(f"mlsysops-cluster-{cluster_id}", f"{CLUSTER_APPS_DIR}/{cluster_id}", settings.management_destination, WAVE_CLUSTER_AGENT, cluster_id)
        tree.add_yaml(f"{APPS_DIR}/clusters/{cluster_id}.yaml", _application(parent, settings, namespace=settings.argocd_namespace))
        apps.append(f"clusters/{cluster_id}.yaml")
        children = [spec for spec in specs if spec.cluster_id == cluster_id]
        folder = f"{CLUSTER_APPS_DIR}/{cluster_id}"
        for child in children:
            tree.add_yaml(f"{folder}/{child.name}.yaml", _application(child, settings, namespace=layout.NAMESPACE))
        tree.add_yaml(f"{folder}/kustomization.yaml", kustomization(resources=[f"{child.name}.yaml" for child in children]))
    tree.add_yaml(f"{APPS_DIR}/kustomization.yaml", kustomization(resources=apps))


def _project(settings: Settings) -> dict[str, Any]:
    repo_url, _ = source_repo(settings)
    management, karmada = settings.management_destination, settings.karmada_destination
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": metadata(settings.project, namespace=settings.argocd_namespace),
        "spec": {
            "description": "MLSysOps framework: management cluster and Karmada API server",
            "sourceRepos": [repo_url],
            "destinations": [
                {"name": management, "namespace": settings.argocd_namespace},
                {"name": management, "namespace": layout.NAMESPACE},
                {"name": karmada, "namespace": layout.NAMESPACE},
            ],
            "clusterResourceWhitelist": [
                {"group": "", "kind": "Namespace"},
                {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"},
                {"group": "rbac.authorization.k8s.io", "kind": "ClusterRoleBinding"},
                {"group": "policy.karmada.io", "kind": "ClusterPropagationPolicy"},
            ],
        },
    }


def _health_patch(settings: Settings) -> str:
    patch = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": settings.argocd_namespace},
        "data": {HEALTH_CHECK_KEY: HEALTH_CHECK_LUA},
    }
    return (
        "# Restores Argo CD's health check of Applications, without which the sync waves of\n"
        "# argocd/apps do not wait for each other. Apply once:\n"
        f"#   kubectl -n {settings.argocd_namespace} patch configmap argocd-cm --patch-file argocd/argocd-cm-health-patch.yaml\n"
        + to_yaml(patch)
    )


__all__ = ["render_argocd", "applications", "AppSpec", "CLUSTERS"]
