"""The Karmada model itself, on small hand-made cases of each documented rule."""

from __future__ import annotations

from typing import Any

from karmada_model import choose_policy, propagate

CLUSTERS = ["east", "west"]


def _configmap(name: str, namespace: str = "apps", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}}


def _policy(name: str, selector: dict[str, Any], clusters: list[str], *, namespace: str | None = "apps", priority: int = 0) -> dict[str, Any]:
    kind = "PropagationPolicy" if namespace else "ClusterPropagationPolicy"
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    spec = {"resourceSelectors": [{"apiVersion": "v1", "kind": "ConfigMap", **selector}], "priority": priority, "placement": {"clusterAffinity": {"clusterNames": clusters}}}
    return {"apiVersion": "policy.karmada.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def test_label_selector_picks_matching_objects() -> None:
    policy = _policy("by-label", {"labelSelector": {"matchLabels": {"tier": "a"}}}, ["east"])
    result = propagate([policy, _configmap("one", labels={"tier": "a"}), _configmap("two", labels={"tier": "b"})], CLUSTERS)
    assert [obj["metadata"]["name"] for obj in result.objects("east")] == ["one"]
    assert result.objects("west") == []


def test_name_wins_over_label_selector() -> None:
    by_label = _policy("a-by-label", {"labelSelector": {"matchLabels": {"tier": "a"}}}, ["east"])
    by_name = _policy("z-by-name", {"name": "one"}, ["west"])
    assert choose_policy(_configmap("one", labels={"tier": "a"}), [by_label, by_name]) is by_name


def test_label_selector_ignored_when_name_set() -> None:
    policy = _policy("named", {"name": "one", "labelSelector": {"matchLabels": {"tier": "x"}}}, ["east"])
    assert choose_policy(_configmap("one"), [policy]) is policy


def test_higher_priority_wins() -> None:
    low = _policy("low", {"name": "one"}, ["east"])
    high = _policy("high", {}, ["west"], priority=5)
    assert choose_policy(_configmap("one"), [low, high]) is high


def test_alphabetical_order_breaks_ties() -> None:
    first, second = _policy("alpha", {}, ["east"]), _policy("beta", {}, ["west"])
    assert choose_policy(_configmap("one"), [second, first]) is first


def test_namespaced_policy_wins_over_cluster_policy() -> None:
    cluster_policy = _policy("cluster", {"name": "one"}, ["east"], namespace=None, priority=10)
    namespaced = _policy("namespaced", {}, ["west"])
    assert choose_policy(_configmap("one"), [cluster_policy, namespaced]) is namespaced


def test_namespaced_policy_stays_in_its_namespace() -> None:
    policy = _policy("apps-only", {}, ["east"])
    assert choose_policy(_configmap("one", namespace="other"), [policy]) is None


def test_reserved_namespaces_never_propagate() -> None:
    policy = _policy("everything", {}, CLUSTERS, namespace=None)
    for namespace in ("kube-system", "kube-public", "karmada-system", "karmada-cluster", "karmada-es-east"):
        assert choose_policy(_configmap("one", namespace=namespace), [policy]) is None


def test_namespaces_propagate_unless_skipped() -> None:
    plain = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "plain"}}
    skipped = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "skipped", "labels": {"namespace.karmada.io/skip-auto-propagation": "true"}}}
    result = propagate([plain, skipped], CLUSTERS)
    assert [obj["metadata"]["name"] for obj in result.objects("east")] == ["plain"]


def test_placement_ignores_unknown_clusters() -> None:
    policy = _policy("wide", {}, ["east", "north"])
    result = propagate([policy, _configmap("one")], CLUSTERS)
    assert len(result.objects("east")) == 1
    assert result.objects("west") == []
