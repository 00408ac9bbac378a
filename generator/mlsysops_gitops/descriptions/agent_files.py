"""Read the agents' configuration files and policy plugins from ``descriptions/``.

- ``configurations/<layer>/<host>-config.yaml`` configures the agent on ``<host>``: the
  agents read ``/etc/mlsysops/config/<NODE_NAME>-config.yaml``. ``default.yaml`` serves
  every host of the layer without a file of its own.
- ``policies/<layer>/`` contains policy plugins (``*.py``) and their YAML data files, loaded
  by every agent of the layer from ``/etc/mlsysops/policies``.

Layers are ``continuum``, ``cluster`` and ``node``, as in the agents' ``continuum_layer``.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.yamlfile import Document, decode, read_document, type_phrase
from mlsysops_gitops.errors import Problem

if TYPE_CHECKING:
    from mlsysops_gitops.descriptions.reader import Fleet

CONFIGURATIONS_DIR = f"{layout.DESCRIPTIONS_DIR}/configurations"
POLICIES_DIR = f"{layout.DESCRIPTIONS_DIR}/policies"
LAYERS = ("continuum", "cluster", "node")
CONFIG_SUFFIX = "-config.yaml"
DEFAULT_CONFIG = "default.yaml"
POLICY_SUFFIXES = (".py", *layout.YAML_SUFFIXES)
# The API server rejects a ConfigMap over 1 MiB, and Karmada wraps it once more in a
# Work object, so the limit keeps a margin.
MAX_CONFIGMAP_BYTES = 900 * 1024
# Characters the API server accepts in a ConfigMap data key.
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

# Top-level keys of the agents' configuration, after the framework's default files.
KNOWN_KEYS = (
    "behaviours",
    "continuum_layer",
    "default_telemetry_metrics",
    "managed_telemetry_enabled",
    "mechanisms",
    "mechanisms_directory",
    "monitor_data_retention_time",
    "node_description",
    "node_exporter_scrape_interval",
    "policy_directory",
    "system_description",
)


@dataclasses.dataclass(frozen=True)
class AgentFile:
    """One configuration file or policy plugin, as it lands in its ConfigMap."""

    layer: str
    key: str
    path: str
    text: str


@dataclasses.dataclass(frozen=True)
class AgentFiles:
    """Every configuration and policy file, by layer; empty when the folders are absent."""

    configs: dict[str, dict[str, AgentFile]] = dataclasses.field(default_factory=dict)
    defaults: dict[str, AgentFile] = dataclasses.field(default_factory=dict)
    policies: dict[str, list[AgentFile]] = dataclasses.field(default_factory=dict)

    def config_for(self, layer: str, host: str) -> AgentFile | None:
        """Return the file that configures ``host``: its own, else the layer's default."""
        own = self.configs.get(layer, {}).get(host)
        return own if own is not None else self.defaults.get(layer)

    def policies_of(self, layer: str) -> list[AgentFile]:
        return self.policies.get(layer, [])


def layer_hosts(fleet: Fleet) -> dict[str, list[str]]:
    """Return the hosts whose agent belongs to each layer."""
    return {
        "continuum": [fleet.continuum.host],
        "cluster": sorted(described.host for described in fleet.clusters.values()),
        "node": sorted(fleet.nodes),
    }


def read_agent_files(repo: Path, fleet: Fleet, *, strict: bool = False) -> tuple[AgentFiles, list[Problem]]:
    """Read and check every file under ``configurations/`` and ``policies/``.

    Unknown configuration keys are warnings, errors when ``strict``.
    """
    problems: list[Problem] = []
    hosts = layer_hosts(fleet)
    files = AgentFiles()
    problems += _unknown_layers(repo, CONFIGURATIONS_DIR) + _unknown_layers(repo, POLICIES_DIR)
    for layer in LAYERS:
        configs: dict[str, AgentFile] = {}
        for path in _files(repo / CONFIGURATIONS_DIR / layer):
            found = _read_config(path, f"{CONFIGURATIONS_DIR}/{layer}/{path.name}", layer, hosts[layer], problems, strict)
            if found is None:
                continue
            host, agent_file = found
            target = files.defaults if host is None else configs
            name = layer if host is None else host
            if name in target:
                problems.append(Problem(agent_file.path, message=f"{target[name].path} already configures {'the default' if host is None else repr(host)}; keep one file"))
            else:
                target[name] = agent_file
        files.configs[layer] = configs
        files.policies[layer] = [
            policy
            for path in _files(repo / POLICIES_DIR / layer)
            if (policy := _read_policy(path, f"{POLICIES_DIR}/{layer}/{path.name}", layer, problems)) is not None
        ]
    problems += _check_sizes(files, fleet)
    return files, problems


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted((directory / entry.name for entry in os.scandir(directory) if entry.is_file() and not entry.name.startswith(".")), key=lambda path: path.name)


def _unknown_layers(repo: Path, folder: str) -> list[Problem]:
    directory = repo / folder
    if not directory.is_dir():
        return []
    return [
        Problem(f"{folder}/{entry.name}", message=f"unknown layer {entry.name!r}; the folders of {folder}/ are {', '.join(LAYERS)}")
        for entry in sorted(os.scandir(directory), key=lambda entry: entry.name)
        if not entry.name.startswith(".") and entry.name not in LAYERS
    ]


def _read_text(path: Path, relative: str, problems: list[Problem]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as error:
        problems.append(Problem(relative, message=f"cannot read file: {error.strerror}"))
        return None


def _config_host(name: str) -> str | None:
    """Return the host a configuration file is named after, "" for the default, None if neither."""
    if name == DEFAULT_CONFIG:
        return ""
    for suffix in (CONFIG_SUFFIX, "-config.yml"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _read_config(path: Path, relative: str, layer: str, hosts: list[str], problems: list[Problem], strict: bool) -> tuple[str | None, AgentFile] | None:
    host = _config_host(path.name)
    if host is None:
        problems.append(Problem(relative, message=f"file name {path.name!r} names no host; name it <host name>{CONFIG_SUFFIX} (the file the agent on that host reads) or {DEFAULT_CONFIG} for every host without one"))
        return None
    if host and host not in hosts:
        close = difflib.get_close_matches(host, hosts, n=1)
        hint = f"; did you mean {close[0]}{CONFIG_SUFFIX}?" if close else f"; the {layer} hosts are {', '.join(hosts)}"
        problems.append(Problem(relative, message=f"host {host!r} runs no {layer} agent, so no agent reads this file{hint}"))
        return None
    raw = _read_text(path, relative, problems)
    if raw is None:
        return None
    document, found = read_document(relative, raw)
    problems.extend(found)
    if document is None:
        return None
    if not isinstance(document.data, dict):
        problems.append(Problem(relative, 1, 1, message=f"expected a mapping of configuration keys, found {type_phrase(document.data)}"))
        return None
    problems += _check_config(document, layer, strict)
    key = f"{host}{CONFIG_SUFFIX}" if host else DEFAULT_CONFIG
    return (host or None), AgentFile(layer, key, relative, document.text)


def _check_config(document: Document, layer: str, strict: bool) -> list[Problem]:
    problems = []
    data = document.data
    declared = data.get("continuum_layer")
    if declared is not None and declared != layer:
        line, column = document.locate(("continuum_layer",))
        problems.append(Problem(document.path, line, column, "Configuration", "continuum_layer", f"is {declared!r} but the file sits in the {layer} folder; write {layer!r} or move the file"))
    directory = data.get("policy_directory")
    if directory is not None and directory != layout.POLICIES_PATH:
        line, column = document.locate(("policy_directory",))
        message = f"is {directory!r}, but the policies ConfigMap is mounted at {layout.POLICIES_PATH}; the agent will not see the plugins of {POLICIES_DIR}/{layer}/"
        problems.append(Problem(document.path, line, column, "Configuration", "policy_directory", message, "warning"))
    for name in data:
        if name not in KNOWN_KEYS:
            line, column = document.locate((name,))
            close = difflib.get_close_matches(str(name), KNOWN_KEYS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(KNOWN_KEYS)}"
            problems.append(Problem(document.path, line, column, "Configuration", str(name), f"unknown key{hint}", "error" if strict else "warning"))
    return problems


def _read_policy(path: Path, relative: str, layer: str, problems: list[Problem]) -> AgentFile | None:
    if not path.name.endswith(POLICY_SUFFIXES):
        problems.append(Problem(relative, message=f"{path.name!r} is neither a policy plugin (.py) nor a YAML file; the agents load only those"))
        return None
    if not _KEY.match(path.name):
        problems.append(Problem(relative, message=f"file name {path.name!r} is not a valid ConfigMap key; use letters, digits, '-', '_' and '.'"))
        return None
    raw = _read_text(path, relative, problems)
    if raw is None:
        return None
    if path.name.endswith(".py"):
        try:
            text = decode(raw)
            # Parsed, never run: a syntax error here would stop the plugin loading in every agent.
            ast.parse(text, filename=relative)
        except UnicodeDecodeError as error:
            problems.append(Problem(relative, message=f"file is not valid UTF-8 (offset {error.start}); save it as UTF-8"))
            return None
        except SyntaxError as error:
            problems.append(Problem(relative, error.lineno or 0, error.offset or 0, message=f"invalid Python: {error.msg}"))
            return None
        return AgentFile(layer, path.name, relative, text)
    document, found = read_document(relative, raw)
    problems.extend(found)
    return None if document is None else AgentFile(layer, path.name, relative, document.text)


def _check_sizes(files: AgentFiles, fleet: Fleet) -> list[Problem]:
    """Refuse ConfigMaps the API server would reject; node configurations add up per cluster."""
    groups: dict[str, list[AgentFile | None]] = {
        f"{CONFIGURATIONS_DIR}/continuum": [files.config_for("continuum", fleet.continuum.host)],
        f"{POLICIES_DIR}/continuum": list(files.policies_of("continuum")),
        f"{POLICIES_DIR}/cluster": list(files.policies_of("cluster")),
        f"{POLICIES_DIR}/node": list(files.policies_of("node")),
    }
    for cluster_id, described in fleet.clusters.items():
        groups[f"{CONFIGURATIONS_DIR}/cluster (cluster {cluster_id})"] = [files.config_for("cluster", described.host)]
        groups[f"{CONFIGURATIONS_DIR}/node (cluster {cluster_id})"] = [files.config_for("node", node.host) for node in fleet.nodes_of(cluster_id)]
    problems = []
    for where, members in groups.items():
        size = sum(len(member.text.encode("utf-8")) for member in members if member is not None)
        if size > MAX_CONFIGMAP_BYTES:
            problems.append(Problem(where, message=f"these files add up to {size} bytes in one ConfigMap; the limit is {MAX_CONFIGMAP_BYTES}; make them smaller"))
    return problems


__all__ = ["AgentFile", "AgentFiles", "read_agent_files", "layer_hosts", "LAYERS", "CONFIGURATIONS_DIR", "POLICIES_DIR", "DEFAULT_CONFIG", "CONFIG_SUFFIX"]
