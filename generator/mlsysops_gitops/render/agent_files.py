"""The generators of the agents' configuration and policy ConfigMaps.

Configuration (``<layer>-agents-config``): agents read it once at start, so the name
keeps kustomize's content hash. A change renames the ConfigMap, which changes the pod
template that mounts it and rolls the agents; the old one is pruned last.

Policies (``<layer>-agents-policies``): agents reload plugins while running, so the name
is stable. A change updates the ConfigMap in place, the kubelet refreshes the mounted
files, and no pod template changes.

A default configuration reaches a host as ``<host>-config.yaml``, the one name the
agents look for. Setting ``CONFIG_PATH`` instead would point every agent of the layer
at one file. The agents prefer ``CONFIG_PATH`` to their own file, so the hosts' own
files would be ignored. Copying the default under each remaining host's name keeps
both working.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlsysops_gitops.descriptions.agent_files import AgentFile, AgentFiles
from mlsysops_gitops.render import bases, karmada
from mlsysops_gitops.render.manifests import Tree

CONFIG_FOLDER = "config"
POLICIES_FOLDER = "policies"


def layer_of(agent: str) -> str:
    """Return the layer of an agent component: ``node-agent`` -> ``node``."""
    return agent.removesuffix("-agent")


def agent_configmaps(tree: Tree, folder: str, agent: str, files: AgentFiles, hosts: Sequence[str]) -> list[dict[str, Any]]:
    """Copy the files the agents on ``hosts`` read into ``folder``; return their two generators."""
    layer = layer_of(agent)
    config_name, policies_name = bases.configmap_names(agent)
    entries = _config_entries(tree, folder, layer, files, hosts)
    config = _generator(config_name, entries, tree, folder, ["PruneLast=true"])
    policy_entries = [_copy(tree, folder, POLICIES_FOLDER, policy) for policy in files.policies_of(layer)]
    policies = _generator(policies_name, policy_entries, tree, folder, [])
    policies["options"]["disableNameSuffixHash"] = True
    return [config, policies]


def _generator(name: str, entries: list[str], tree: Tree, folder: str, sync_options: list[str]) -> dict[str, Any]:
    from mlsysops_gitops.render.overlays import SERVER_SIDE_APPLY_BYTES  # overlays imports this module

    size = sum(len(tree[f"{folder}/{entry.rsplit('=', 1)[-1]}"]) for entry in entries)
    if size > SERVER_SIDE_APPLY_BYTES:
        sync_options = [*sync_options, "ServerSideApply=true"]
    generator: dict[str, Any] = {"name": name, "options": {"annotations": {karmada.SYNC_OPTIONS: ",".join(sync_options)}} if sync_options else {}}
    if entries:
        generator["files"] = entries
    return generator


def _config_entries(tree: Tree, folder: str, layer: str, files: AgentFiles, hosts: Sequence[str]) -> list[str]:
    entries = []
    default = files.defaults.get(layer)
    default_path = None
    for host in sorted(hosts):
        own = files.configs.get(layer, {}).get(host)
        if own is not None:
            entries.append(_copy(tree, folder, CONFIG_FOLDER, own))
        elif default is not None:
            if default_path is None:
                default_path = _copy(tree, folder, CONFIG_FOLDER, default)
            # One copy of the default in the overlay; kustomize stores it under each host's key.
            entries.append(f"{host}-config.yaml={default_path}")
    return entries


def _copy(tree: Tree, folder: str, subfolder: str, agent_file: AgentFile) -> str:
    relative = f"{subfolder}/{agent_file.key}"
    tree.add(f"{folder}/{relative}", agent_file.text)
    return relative


__all__ = ["agent_configmaps", "layer_of"]
