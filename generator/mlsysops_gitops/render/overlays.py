"""Kustomize overlays under ``overlays/``: where descriptions meet the bases.

- ``management/``: the management cluster (the Karmada host): framework namespace and
  RBAC, the third-party services, and the continuum agent with its description.
- ``karmada/``: the Karmada API server's namespace, RBAC and shared propagation policy.
- ``clusters/<cluster_id>/``: one member cluster: its cluster agent with the cluster
  description, and its node agents with exactly its nodes' descriptions.

Each overlay copies the descriptions it needs into its own folder, because kustomize's
default load restrictor (the one Argo CD uses) refuses files outside the kustomization.
"""

from __future__ import annotations

from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions import rules
from mlsysops_gitops.descriptions.reader import DescriptionFile, Fleet
from mlsysops_gitops.errors import InputError
from mlsysops_gitops.render import agent_files, bases, karmada
from mlsysops_gitops.render.manifests import Tree, kustomization, to_yaml

MANAGEMENT = f"{layout.OVERLAYS_DIR}/management"
KARMADA = f"{layout.OVERLAYS_DIR}/karmada"
CLUSTERS = f"{layout.OVERLAYS_DIR}/clusters"

# A ConfigMap stores at most 1 MiB, and Karmada wraps each propagated object in a Work
# object of its own, so description shards stay well below that.
SHARD_BYTES = 512 * 1024
# Client-side apply copies the whole object into an annotation limited to 256 KiB;
# larger ConfigMaps are applied server-side.
SERVER_SIDE_APPLY_BYTES = 128 * 1024
# The ejabberd base generates this ConfigMap with a content hash in its name.
EJABBERD_CONFIGMAP = "ejabberd-config"


def overlay_paths(fleet: Fleet) -> dict[str, str]:
    """Return the overlay folder of every Argo CD Application, by a stable key."""
    paths = {
        "framework": f"{MANAGEMENT}/framework",
        "services": f"{MANAGEMENT}/services",
        "continuum-agent": f"{MANAGEMENT}/continuum-agent",
        "karmada": KARMADA,
    }
    for cluster_id in fleet.clusters:
        paths[f"cluster-agent/{cluster_id}"] = cluster_path(cluster_id, "cluster-agent")
        paths[f"node-agents/{cluster_id}"] = cluster_path(cluster_id, "node-agents")
    return paths


def cluster_path(cluster_id: str, part: str) -> str:
    return f"{CLUSTERS}/{cluster_id}/{part}"


def _base_ref(folder: str, component: str) -> str:
    depth = folder.count("/") + 1
    return "../" * depth + f"{layout.BASE_DIR}/{component}"


def render_overlays(tree: Tree, fleet: Fleet) -> None:
    """Add every overlay of the fleet to ``tree``."""
    _management(tree, fleet)
    _karmada(tree, fleet)
    for cluster_id in fleet.clusters:
        _cluster_agent(tree, fleet, cluster_id)
        _node_agents(tree, fleet, cluster_id)


def _management(tree: Tree, fleet: Fleet) -> None:
    folder = f"{MANAGEMENT}/framework"
    tree.add_yaml(f"{folder}/kustomization.yaml", kustomization(resources=[_base_ref(folder, bases.FRAMEWORK)]))

    folder = f"{MANAGEMENT}/services"
    services = [_base_ref(folder, component) for component in bases.service_components(tree)]
    tree.add_yaml(f"{folder}/kustomization.yaml", kustomization(namespace=layout.NAMESPACE, resources=services, patches=[_prune_last_patch(EJABBERD_CONFIGMAP)]))

    folder = f"{MANAGEMENT}/continuum-agent"
    generators = [_descriptions_generator(tree, folder, bases.DESCRIPTIONS_CONFIGMAP[bases.CONTINUUM_AGENT], [fleet.continuum])]
    tree.add_yaml(
        f"{folder}/kustomization.yaml",
        kustomization(
            namespace=layout.NAMESPACE,
            resources=[_base_ref(folder, bases.CONTINUUM_AGENT)],
            configMapGenerator=generators + _agent_configmaps(tree, folder, fleet, bases.CONTINUUM_AGENT, [fleet.continuum.host]),
        ),
    )


def _karmada(tree: Tree, fleet: Fleet) -> None:
    tree.add_yaml(f"{KARMADA}/shared-propagation-policy.yaml", karmada.shared_policy(list(fleet.clusters)))
    namespace_patch = {
        "patch": to_yaml({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": layout.NAMESPACE, "labels": karmada.SKIP_AUTO_PROPAGATION}}),
    }
    tree.add_yaml(
        f"{KARMADA}/kustomization.yaml",
        kustomization(
            resources=[_base_ref(KARMADA, component) for component in (bases.FRAMEWORK, *bases.karmada_components(tree))] + ["shared-propagation-policy.yaml"],
            patches=[namespace_patch],
        ),
    )


def _cluster_overlay(cluster_id: str, folder: str, component: str, resources: list[str], generators: list[dict[str, Any]], **rest: Any) -> dict[str, Any]:
    return kustomization(
        namespace=layout.NAMESPACE,
        name_suffix=f"-{cluster_id}",
        labels={layout.CLUSTER_LABEL: cluster_id},
        resources=[_base_ref(folder, component), *resources],
        configMapGenerator=generators,
        **rest,
    )


def _cluster_agent(tree: Tree, fleet: Fleet, cluster_id: str) -> None:
    folder = cluster_path(cluster_id, "cluster-agent")
    tree.add_yaml(f"{folder}/propagation-policy.yaml", karmada.cluster_policy(cluster_id, "mlsysops-agents"))
    description = _descriptions_generator(tree, folder, bases.DESCRIPTIONS_CONFIGMAP[bases.CLUSTER_AGENT], [fleet.clusters[cluster_id]])
    tree.add_yaml(
        f"{folder}/kustomization.yaml",
        _cluster_overlay(cluster_id, folder, bases.CLUSTER_AGENT, ["propagation-policy.yaml"], [description, *_agent_configmaps(tree, folder, fleet, bases.CLUSTER_AGENT, [fleet.clusters[cluster_id].host])]),
    )


def _node_agents(tree: Tree, fleet: Fleet, cluster_id: str) -> None:
    folder = cluster_path(cluster_id, "node-agents")
    shards = shard_descriptions(fleet.nodes_of(cluster_id))
    base_name = bases.DESCRIPTIONS_CONFIGMAP[bases.NODE_AGENT]
    names = [base_name] if len(shards) == 1 else [f"{base_name}-{index:02d}" for index in range(len(shards))]
    generators = [_descriptions_generator(tree, folder, name, shard) for name, shard in zip(names, shards)]
    patches = []
    if names != [base_name]:
        patches.append({"patch": _projection_patch(names)})
    tree.add_yaml(
        f"{folder}/kustomization.yaml",
        _cluster_overlay(cluster_id, folder, bases.NODE_AGENT, [], generators + _agent_configmaps(tree, folder, fleet, bases.NODE_AGENT, list(fleet.cluster_spec(cluster_id).nodes)), patches=patches),
    )


def shard_descriptions(files: list[DescriptionFile]) -> list[list[DescriptionFile]]:
    """Split descriptions, in host order, into groups of at most ``SHARD_BYTES``.

    A cluster with no nodes still gets one empty shard, so the agents' volume exists.
    """
    shards: list[list[DescriptionFile]] = [[]]
    size = 0
    for described in files:
        length = len(described.text.encode("utf-8")) + len(described.host) + 16
        if shards[-1] and size + length > SHARD_BYTES:
            shards.append([])
            size = 0
        shards[-1].append(described)
        size += length
    return shards


def _descriptions_generator(tree: Tree, folder: str, name: str, files: list[DescriptionFile]) -> dict[str, Any]:
    """Copy descriptions into the overlay as ``<host>.yaml`` and return their ConfigMap generator."""
    entries = []
    size = 0
    for described in files:
        _check_size(described)
        relative = f"descriptions/{described.host}.yaml"
        tree.add(f"{folder}/{relative}", described.text)
        entries.append(relative)
        size += len(described.text.encode("utf-8"))
    # Descriptions are read at start, so a change must roll the agents: the name keeps
    # its content hash, and the old ConfigMap is pruned only after the new pods run.
    sync_options = ["PruneLast=true"]
    if size > SERVER_SIDE_APPLY_BYTES:
        sync_options.append("ServerSideApply=true")
    generator: dict[str, Any] = {"name": name, "options": {"annotations": {karmada.SYNC_OPTIONS: ",".join(sync_options)}}}
    if entries:
        generator["files"] = entries
    return generator


def _check_size(described: DescriptionFile) -> None:
    """Refuse a description too large for its ConfigMap; validation reports it first, this keeps render safe on its own."""
    problem = rules.size_problem(described.path, described.kind, described.text)
    if problem is not None:
        raise InputError([problem])


def _agent_configmaps(tree: Tree, folder: str, fleet: Fleet, agent: str, hosts: list[str]) -> list[dict[str, Any]]:
    """Return the generators of the configuration and policy ConfigMaps the agents on ``hosts`` read."""
    return agent_files.agent_configmaps(tree, folder, agent, fleet.agent_files, hosts)


def _prune_last_patch(configmap: str) -> dict[str, Any]:
    """Return a patch that keeps a base's hashed ConfigMap until the sync has applied everything else."""
    patch = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": configmap, "annotations": {karmada.SYNC_OPTIONS: "PruneLast=true"}},
    }
    return {"patch": to_yaml(patch)}


def _projection_patch(names: list[str]) -> str:
    patch = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        # Without its namespace the patch matches no object of the base.
        "metadata": {"name": f"mlsysops-{bases.NODE_AGENT}", "namespace": layout.NAMESPACE},
        "spec": {"template": {"spec": {"volumes": [{"name": "descriptions", "projected": {"sources": [{"configMap": {"name": name}} for name in names]}}]}}},
    }
    return to_yaml(patch)


