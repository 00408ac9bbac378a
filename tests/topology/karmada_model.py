"""A small model of how Karmada picks a propagation policy and places a resource template.

Written from Karmada's policy API documentation (the field descriptions of the
PropagationPolicy CRD, v1.19 line) and its user guide:

- A PropagationPolicy selects resources in its own namespace only; a
  ClusterPropagationPolicy selects cluster-scoped resources and namespaced ones in any
  namespace. For a namespaced resource, a matching PropagationPolicy wins over any
  ClusterPropagationPolicy.
- A resource selector matches on apiVersion and kind, then namespace and name when
  given; ``labelSelector`` is ignored when ``name`` is set.
- Among policies of the same kind, higher ``spec.priority`` wins. On a tie, the more
  precise match wins: by name, then by label selector, then by apiVersion and kind
  alone. If still tied, the policy whose name sorts first wins.
- Resources in Karmada's reserved namespaces (``kube-*``, ``karmada-system``,
  ``karmada-cluster``, ``karmada-es-*``) are never propagated.
- Namespaces reach every member cluster on their own unless labelled
  ``namespace.karmada.io/skip-auto-propagation: "true"``.
- ``placement.clusterAffinity.clusterNames`` lists the target clusters; no cluster
  affinity means every cluster. ``exclude`` removes clusters.

Preemption, spread constraints, overrides and dependency propagation are left out:
the rendered repository uses none of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

POLICY_KINDS = ("PropagationPolicy", "ClusterPropagationPolicy")
SKIP_AUTO_PROPAGATION = "namespace.karmada.io/skip-auto-propagation"

# How precisely a selector matched; a higher value wins a priority tie.
MATCH_BY_NAME = 3
MATCH_BY_LABELS = 2
MATCH_BY_KIND = 1


def is_reserved_namespace(namespace: str | None) -> bool:
    """Return whether Karmada ignores resources in ``namespace``."""
    if not namespace:
        return False
    return namespace.startswith(("kube-", "karmada-es-")) or namespace in ("karmada-system", "karmada-cluster")


def labels_match(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Evaluate a Kubernetes label selector (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _namespace(obj: Mapping[str, Any]) -> str | None:
    return obj["metadata"].get("namespace")


def selector_match(selector: Mapping[str, Any], obj: Mapping[str, Any], policy_namespace: str | None) -> int:
    """Return how precisely ``selector`` matches ``obj``: 0 for no match, else a MATCH_BY_* value."""
    if selector["apiVersion"] != obj["apiVersion"] or selector["kind"] != obj["kind"]:
        return 0
    namespace = selector.get("namespace") or policy_namespace
    if namespace and namespace != _namespace(obj):
        return 0
    if selector.get("name"):
        return MATCH_BY_NAME if selector["name"] == obj["metadata"]["name"] else 0
    if "labelSelector" in selector:
        return MATCH_BY_LABELS if labels_match(selector["labelSelector"], obj["metadata"].get("labels") or {}) else 0
    return MATCH_BY_KIND


def policy_match(policy: Mapping[str, Any], obj: Mapping[str, Any]) -> int:
    """Return the most precise match of any of the policy's selectors on ``obj``, 0 for none."""
    if policy["kind"] == "PropagationPolicy":
        # A namespaced policy never reaches outside its namespace.
        if _namespace(obj) != _namespace(policy):
            return 0
        scope = _namespace(policy)
    else:
        scope = None
    return max((selector_match(selector, obj, scope) for selector in policy["spec"]["resourceSelectors"]), default=0)


def choose_policy(obj: Mapping[str, Any], policies: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return the policy Karmada would bind ``obj`` to, or None."""
    if is_reserved_namespace(_namespace(obj)):
        return None
    for kind in POLICY_KINDS:
        candidates = [(policy, policy_match(policy, obj)) for policy in policies if policy["kind"] == kind]
        candidates = [(policy, match) for policy, match in candidates if match]
        if candidates:
            best = min(candidates, key=lambda pair: (-(pair[0]["spec"].get("priority") or 0), -pair[1], pair[0]["metadata"]["name"]))
            return best[0]
    return None


def placement(policy: Mapping[str, Any], clusters: Iterable[str]) -> set[str]:
    """Return the member clusters a policy places its resources on."""
    known = set(clusters)
    affinity = policy["spec"].get("placement", {}).get("clusterAffinity")
    if affinity is None:
        return known
    chosen = set(affinity.get("clusterNames") or []) & known if "clusterNames" in affinity else set(known)
    return chosen - set(affinity.get("exclude") or [])


@dataclasses.dataclass
class Propagation:
    """Where every resource template on the Karmada API server lands."""

    delivered: dict[str, list[dict[str, Any]]]
    policy_of: dict[tuple[str, str | None, str], Mapping[str, Any] | None]

    def objects(self, cluster: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [obj for obj in self.delivered[cluster] if kind is None or obj["kind"] == kind]


def key(obj: Mapping[str, Any]) -> tuple[str, str | None, str]:
    return obj["kind"], _namespace(obj), obj["metadata"]["name"]


def propagate(objects: Sequence[dict[str, Any]], clusters: Iterable[str]) -> Propagation:
    """Propagate ``objects`` (policies included) applied to a Karmada API server."""
    clusters = sorted(clusters)
    policies = [obj for obj in objects if obj["kind"] in POLICY_KINDS]
    delivered: dict[str, list[dict[str, Any]]] = {cluster: [] for cluster in clusters}
    policy_of: dict[tuple[str, str | None, str], Mapping[str, Any] | None] = {}
    for obj in objects:
        if obj["kind"] in POLICY_KINDS:
            continue
        policy = choose_policy(obj, policies)
        policy_of[key(obj)] = policy
        if policy is not None:
            targets = placement(policy, clusters)
        elif obj["kind"] == "Namespace" and (obj["metadata"].get("labels") or {}).get(SKIP_AUTO_PROPAGATION) != "true" and not is_reserved_namespace(obj["metadata"]["name"]):
            targets = set(clusters)
        else:
            targets = set()
        for cluster in sorted(targets):
            delivered[cluster].append(obj)
    return Propagation(delivered, policy_of)
