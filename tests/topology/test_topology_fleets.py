"""Karmada and Argo CD topology on three fleets: the upstream example, 3 clusters of 4
nodes, and one cluster of 2,000 nodes.

Each fleet is rendered once, every kustomization is built with the real kustomize, and
the models of Karmada's propagation and of Argo CD's sync waves are run on the result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from argocd_model import simulate, wave_of
from karmada_model import is_reserved_namespace, propagate
from rendered import CLUSTER_LABEL, DESCRIPTION_PATH, FLEETS, KARMADA, MANAGEMENT, NAMESPACE, Rendered, render_fleet
from schemas import validation_errors

MiB = 1024 * 1024
# Client-side apply copies the object into an annotation; all annotations together may
# hold 256 KiB, so objects near that size need server-side apply.
CLIENT_SIDE_APPLY_LIMIT = 256 * 1024 - 16 * 1024
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
# kustomize appends a 10-character hash drawn from this alphabet to generated names.
HASH_SUFFIX = re.compile(r"-[2-9bcdfghkmt]{10}$")
SHARED_KINDS = {("Namespace", NAMESPACE), ("ServiceAccount", "mlsysops-agents-sa"), ("ClusterRole", "mlsysops-framework-role"), ("ClusterRoleBinding", "mlsysops-framework-crb")}


@pytest.fixture(scope="module", params=sorted(FLEETS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return render_fleet(tmp_path_factory.mktemp(request.param), request.param)


def _name(obj: dict[str, Any]) -> str:
    return obj["metadata"]["name"]


def _sync_options(obj: dict[str, Any]) -> set[str]:
    value = (obj["metadata"].get("annotations") or {}).get(SYNC_OPTIONS, "")
    return {option.strip() for option in value.split(",") if option.strip()}


def _mounted_files(daemonset: dict[str, Any], configmaps: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Return the files a DaemonSet's pods see under the descriptions path."""
    pod = daemonset["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (mount,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == DESCRIPTION_PATH]
    (volume,) = [volume for volume in pod["volumes"] if volume["name"] == mount["name"]]
    files: dict[str, str] = {}
    for source in volume["projected"]["sources"]:
        data = configmaps[source["configMap"]["name"]].get("data") or {}
        assert not set(files) & set(data), f"{_name(daemonset)}: two ConfigMaps project {sorted(set(files) & set(data))}"
        files.update(data)
    return files


def _propagated(rendered: Rendered, extra_clusters: tuple[str, ...] = ()):
    return propagate(rendered.deployed(KARMADA), [*rendered.continuum_clusters, *extra_clusters])


# Karmada: each cluster gets its own, and only its own.


def test_each_cluster_receives_exactly_its_descriptions(rendered: Rendered) -> None:
    propagation = _propagated(rendered)
    for cluster_id, expected in rendered.expected.items():
        configmaps = {_name(obj): obj for obj in propagation.objects(cluster_id, "ConfigMap")}
        daemonsets = {_name(obj): obj for obj in propagation.objects(cluster_id, "DaemonSet")}
        assert sorted(daemonsets) == [f"mlsysops-cluster-agent-{cluster_id}", f"mlsysops-node-agent-{cluster_id}"]
        cluster_files = _mounted_files(daemonsets[f"mlsysops-cluster-agent-{cluster_id}"], configmaps)
        assert cluster_files == {f"{expected.host}.yaml": expected.cluster_text}
        node_files = _mounted_files(daemonsets[f"mlsysops-node-agent-{cluster_id}"], configmaps)
        assert node_files == {f"{host}.yaml": text for host, text in expected.node_texts.items()}


def test_each_cluster_receives_every_configmap_its_agents_mount(rendered: Rendered) -> None:
    propagation = _propagated(rendered)
    for cluster_id in rendered.continuum_clusters:
        configmaps = {_name(obj) for obj in propagation.objects(cluster_id, "ConfigMap")}
        for daemonset in propagation.objects(cluster_id, "DaemonSet"):
            for volume in daemonset["spec"]["template"]["spec"]["volumes"]:
                names = [source["configMap"]["name"] for source in volume.get("projected", {}).get("sources", [])]
                names += [volume["configMap"]["name"]] if "configMap" in volume else []
                assert set(names) <= configmaps, f"{cluster_id}: {_name(daemonset)} mounts ConfigMaps that never arrive"


def test_each_cluster_receives_shared_objects(rendered: Rendered) -> None:
    propagation = _propagated(rendered)
    for cluster_id in rendered.continuum_clusters:
        received = {(obj["kind"], _name(obj)) for obj in propagation.objects(cluster_id)}
        assert SHARED_KINDS <= received


def test_cluster_outside_continuum_receives_nothing(rendered: Rendered) -> None:
    propagation = _propagated(rendered, extra_clusters=("stranger",))
    assert propagation.objects("stranger") == []


def test_every_daemonset_and_configmap_on_karmada_is_placed(rendered: Rendered) -> None:
    propagation = _propagated(rendered)
    placed = {(obj["kind"], _name(obj)) for cluster in rendered.continuum_clusters for obj in propagation.objects(cluster)}
    for obj in rendered.deployed(KARMADA):
        if obj["kind"] in ("DaemonSet", "ConfigMap"):
            assert (obj["kind"], _name(obj)) in placed, f"{obj['kind']} {_name(obj)} on Karmada reaches no cluster"


def test_one_propagation_policy_per_cluster(rendered: Rendered) -> None:
    policies = [obj for obj in rendered.deployed(KARMADA) if obj["kind"] == "PropagationPolicy"]
    by_cluster = {policy["spec"]["placement"]["clusterAffinity"]["clusterNames"][0]: policy for policy in policies}
    assert len(policies) == len(by_cluster) == len(rendered.continuum_clusters)
    for cluster_id, policy in by_cluster.items():
        assert policy["metadata"]["namespace"] == NAMESPACE
        assert policy["spec"]["placement"]["clusterAffinity"]["clusterNames"] == [cluster_id]
        assert policy["spec"]["conflictResolution"] == "Overwrite"
        assert "SkipDryRunOnMissingResource=true" in _sync_options(policy)
        for selector in policy["spec"]["resourceSelectors"]:
            assert "name" not in selector, "kustomize hashes ConfigMap names, so policies select by label"
            assert selector["labelSelector"] == {"matchLabels": {CLUSTER_LABEL: cluster_id}}
            assert selector["namespace"] == NAMESPACE


def test_shared_policy_places_on_continuum_clusters(rendered: Rendered) -> None:
    (policy,) = [obj for obj in rendered.deployed(KARMADA) if obj["kind"] == "ClusterPropagationPolicy"]
    assert policy["spec"]["placement"]["clusterAffinity"]["clusterNames"] == sorted(rendered.continuum_clusters)
    assert policy["spec"]["conflictResolution"] == "Overwrite"
    assert "SkipDryRunOnMissingResource=true" in _sync_options(policy)
    selected = {(selector["kind"], selector["name"]) for selector in policy["spec"]["resourceSelectors"]}
    assert SHARED_KINDS <= selected


def test_cluster_label_on_every_per_cluster_object(rendered: Rendered) -> None:
    for cluster_id in rendered.continuum_clusters:
        for part in ("cluster-agent", "node-agents"):
            for obj in rendered.built[f"overlays/clusters/{cluster_id}/{part}"]:
                assert obj["metadata"]["labels"][CLUSTER_LABEL] == cluster_id, f"{obj['kind']} {_name(obj)}"
                if obj["kind"] == "DaemonSet":
                    assert obj["spec"]["template"]["metadata"]["labels"][CLUSTER_LABEL] == cluster_id


def test_names_unique_per_destination(rendered: Rendered) -> None:
    for destination in (KARMADA, MANAGEMENT):
        keys = [(obj["kind"], obj["metadata"].get("namespace"), _name(obj)) for obj in rendered.deployed(destination)]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        assert duplicates == [], f"{destination}: {duplicates}"


def test_nothing_in_reserved_namespaces(rendered: Rendered) -> None:
    for directory, objects in rendered.built.items():
        for obj in objects:
            assert not is_reserved_namespace(obj["metadata"].get("namespace")), f"{directory}: {obj['kind']} {_name(obj)}"
            if obj["kind"] == "Namespace":
                assert not is_reserved_namespace(_name(obj))


def test_daemonset_selectors_are_minimal(rendered: Rendered) -> None:
    for objects in rendered.built.values():
        for obj in objects:
            if obj["kind"] not in ("DaemonSet", "Deployment"):
                continue
            selector = obj["spec"]["selector"]
            assert list(selector) == ["matchLabels"], f"{_name(obj)}: {selector}"
            assert list(selector["matchLabels"]) == ["app"], f"{_name(obj)}: {selector}"
            template_labels = obj["spec"]["template"]["metadata"]["labels"]
            assert selector["matchLabels"].items() <= template_labels.items()


# Scale.


def test_no_object_over_1_mib(rendered: Rendered) -> None:
    sizes = {(directory, obj["kind"], _name(obj)): len(json.dumps(obj)) for directory, objects in rendered.built.items() for obj in objects}
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] < MiB, f"{largest} is {sizes[largest]} bytes"


def test_large_configmaps_apply_server_side(rendered: Rendered) -> None:
    for objects in rendered.built.values():
        for obj in objects:
            if len(json.dumps(obj)) > CLIENT_SIDE_APPLY_LIMIT:
                assert "ServerSideApply=true" in _sync_options(obj), f"{obj['kind']} {_name(obj)}"


def test_hashed_configmaps_prune_last(rendered: Rendered) -> None:
    deployed = rendered.deployed(MANAGEMENT) + rendered.deployed(KARMADA)
    hashed = [obj for obj in deployed if obj["kind"] == "ConfigMap" and HASH_SUFFIX.search(_name(obj))]
    assert hashed
    for configmap in hashed:
        assert "PruneLast=true" in _sync_options(configmap), _name(configmap)


def test_large_cluster_is_sharded(rendered: Rendered) -> None:
    for cluster_id, expected in rendered.expected.items():
        shards = [obj for obj in rendered.built[f"overlays/clusters/{cluster_id}/node-agents"] if _name(obj).startswith("node-system-descriptions")]
        total = sum(len(text.encode()) for text in expected.node_texts.values())
        assert len(shards) >= total // MiB + 1
        if len(expected.node_texts) == 2000:
            assert len(shards) > 1


# Argo CD: waves that wait.


def _app_names(rendered: Rendered, cluster_id: str) -> tuple[str, str]:
    return f"mlsysops-cluster-agent-{cluster_id}", f"mlsysops-node-agents-{cluster_id}"


def test_one_root_application(rendered: Rendered) -> None:
    applications = [obj for obj in rendered.built["argocd"] if obj["kind"] == "Application"]
    assert [_name(obj) for obj in applications] == ["mlsysops-root"]
    names = [app.name for app in rendered.applications()]
    assert len(names) == len(set(names))
    expected = {"mlsysops-root", "mlsysops-framework", "mlsysops-karmada", "mlsysops-services", "mlsysops-continuum-agent"}
    for cluster_id in rendered.continuum_clusters:
        expected |= {f"mlsysops-cluster-{cluster_id}", *_app_names(rendered, cluster_id)}
    assert expected <= set(names)


def test_wave_order_holds_per_cluster(rendered: Rendered) -> None:
    run = simulate(rendered.tree)
    order = ["mlsysops-framework", "mlsysops-services", "mlsysops-continuum-agent"]
    for cluster_id in rendered.continuum_clusters:
        cluster_agent, node_agents = _app_names(rendered, cluster_id)
        chain = [*order, cluster_agent, node_agents]
        for before, after in zip(chain, chain[1:]):
            assert run.started[after] >= run.healthy_at[before], f"{after} started before {before} was healthy"
        assert run.started[cluster_agent] >= run.healthy_at["mlsysops-karmada"]
    assert run.health["mlsysops-root"] == "Healthy"


def test_failing_cluster_holds_back_only_itself(rendered: Rendered) -> None:
    failing, *others = rendered.continuum_clusters
    run = simulate(rendered.tree, failing={_app_names(rendered, failing)[0]})
    assert _app_names(rendered, failing)[1] not in run.started
    for cluster_id in others:
        assert run.health[_app_names(rendered, cluster_id)[1]] == "Healthy"


def test_waves_do_not_wait_without_health_check(rendered: Rendered) -> None:
    run = simulate(rendered.tree, health_check=False)
    cluster_agent, node_agents = _app_names(rendered, rendered.continuum_clusters[0])
    assert run.started[node_agents] < run.healthy_at[cluster_agent]


def test_applications_refresh_only_their_paths(rendered: Rendered) -> None:
    for app in rendered.applications():
        paths = app.obj["metadata"]["annotations"][GENERATE_PATHS].split(";")
        assert paths[0] == ".", app.name
        for path in paths[1:]:
            assert path.startswith("/"), f"{app.name}: {path}"
            assert (rendered.repo / path.lstrip("/") / "kustomization.yaml").is_file(), f"{app.name}: {path}"
        assert (rendered.repo / app.path / "kustomization.yaml").is_file()


def test_sync_waves_and_env_values_are_strings(rendered: Rendered) -> None:
    for app in rendered.applications():
        wave_of(app.obj)
    for objects in rendered.built.values():
        for obj in objects:
            template = obj.get("spec", {}).get("template", {}).get("spec", {})
            for container in template.get("containers", []) + template.get("initContainers", []):
                for entry in container.get("env", []):
                    assert "valueFrom" in entry or isinstance(entry.get("value"), str), f"{_name(obj)}: {entry}"


def test_project_admits_only_repository_and_destinations(rendered: Rendered) -> None:
    (project,) = [obj for obj in rendered.built["argocd"] if obj["kind"] == "AppProject"]
    repo_url = rendered.tree.obj["spec"]["source"]["repoURL"]
    assert project["spec"]["sourceRepos"] == [repo_url]
    admitted = {(entry["name"], entry["namespace"]) for entry in project["spec"]["destinations"]}
    assert {name for name, _ in admitted} == {MANAGEMENT, KARMADA}
    for app in rendered.applications():
        destination = app.obj["spec"]["destination"]
        assert (destination["name"], destination["namespace"]) in admitted, app.name
        assert app.obj["spec"]["source"]["repoURL"] == repo_url
        assert app.obj["spec"]["project"] == _name(project)


def test_karmada_policies_skip_dry_run(rendered: Rendered) -> None:
    for objects in rendered.built.values():
        for obj in objects:
            if obj["apiVersion"].startswith("policy.karmada.io/"):
                assert "SkipDryRunOnMissingResource=true" in _sync_options(obj), _name(obj)


# Schemas.


def test_all_objects_pass_schema_validation(rendered: Rendered) -> None:
    errors = [error for objects in rendered.built.values() for obj in objects for error in validation_errors(obj)]
    assert errors == []


def test_health_patch_is_valid_configmap(rendered: Rendered) -> None:
    patch = yaml.safe_load((rendered.repo / "argocd/argocd-cm-health-patch.yaml").read_text(encoding="utf-8"))
    assert validation_errors(patch) == []
    assert patch["metadata"] == {"name": "argocd-cm", "namespace": "argocd"}


def test_every_kustomization_builds(rendered: Rendered) -> None:
    expected = {"argocd", "argocd/apps", "overlays/karmada", "overlays/management/framework", "overlays/management/services", "overlays/management/continuum-agent"}
    for cluster_id in rendered.continuum_clusters:
        expected |= {f"argocd/clusters/{cluster_id}", f"overlays/clusters/{cluster_id}/cluster-agent", f"overlays/clusters/{cluster_id}/node-agents"}
    assert expected <= set(rendered.built)
    assert {app.path for app in rendered.applications()} <= set(rendered.built)
    for directory, objects in rendered.built.items():
        assert objects, f"{directory} built to nothing"


def test_repository_paths_are_relative(rendered: Rendered) -> None:
    for app in rendered.applications():
        assert not Path(app.path).is_absolute()
