"""Karmada propagation policies: what each member cluster receives.

Everything per cluster lands on one Karmada API server, so it carries the label
``mlsysops.eu/cluster: <cluster_id>``, and one PropagationPolicy per cluster selects it
by that label. Selecting by name would break on every change, because kustomize appends
content hashes to ConfigMap names. Shared objects reach every cluster of the continuum
through one ClusterPropagationPolicy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.render.manifests import metadata

POLICY_API = "policy.karmada.io/v1alpha1"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
# Argo CD's dry run fails while Karmada's CRDs are unknown to its cache; the policies
# are valid once the Karmada API server serves them.
SKIP_DRY_RUN = {SYNC_OPTIONS: "SkipDryRunOnMissingResource=true"}
# Karmada copies every namespace to every member cluster unless this label is set. The
# ClusterPropagationPolicy below decides instead, so only the continuum's clusters get it.
SKIP_AUTO_PROPAGATION = {"namespace.karmada.io/skip-auto-propagation": "true"}

# Names of the Secrets the agents read in member clusters: created once on the Karmada
# API server, out of band, and propagated with the shared objects.
MEMBER_SECRETS = (layout.AGENTS_SECRET, layout.REDIS_SECRET)


def _placement(cluster_ids: Sequence[str]) -> dict[str, Any]:
    return {"clusterAffinity": {"clusterNames": sorted(cluster_ids)}}


def shared_policy(cluster_ids: Sequence[str]) -> dict[str, Any]:
    """Build the ClusterPropagationPolicy of the namespace, RBAC and agent Secrets."""
    selectors = [
        {"apiVersion": "v1", "kind": "Namespace", "name": layout.NAMESPACE},
        {"apiVersion": "v1", "kind": "ServiceAccount", "namespace": layout.NAMESPACE, "name": layout.SERVICE_ACCOUNT},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": layout.CLUSTER_ROLE},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "name": layout.CLUSTER_ROLE_BINDING},
    ]
    selectors += [{"apiVersion": "v1", "kind": "Secret", "namespace": layout.NAMESPACE, "name": name} for name in MEMBER_SECRETS]
    return {
        "apiVersion": POLICY_API,
        "kind": "ClusterPropagationPolicy",
        "metadata": metadata("mlsysops-shared", namespace=None, annotations=SKIP_DRY_RUN),
        "spec": {
            "resourceSelectors": selectors,
            "conflictResolution": "Overwrite",
            "placement": _placement(cluster_ids),
        },
    }


def cluster_policy(cluster_id: str, name: str) -> dict[str, Any]:
    """Build the PropagationPolicy that sends a cluster's agents and ConfigMaps to it alone."""
    by_cluster = {"matchLabels": {layout.CLUSTER_LABEL: cluster_id}}
    return {
        "apiVersion": POLICY_API,
        "kind": "PropagationPolicy",
        "metadata": metadata(name, annotations=SKIP_DRY_RUN),
        "spec": {
            "resourceSelectors": [
                {"apiVersion": "apps/v1", "kind": "DaemonSet", "namespace": layout.NAMESPACE, "labelSelector": by_cluster},
                {"apiVersion": "v1", "kind": "ConfigMap", "namespace": layout.NAMESPACE, "labelSelector": by_cluster},
            ],
            "conflictResolution": "Overwrite",
            "placement": _placement([cluster_id]),
        },
    }
