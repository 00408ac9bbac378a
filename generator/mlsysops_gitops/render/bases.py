"""Kustomize bases under ``base/``: one per component of the MLSysOps framework.

Facts the agents depend on (environment variable names, mount paths, node selectors,
ports) follow the upstream installer's manifests. What differs on purpose: images are
pinned, passwords and the Karmada kubeconfig come from Secrets, and the start-up
``sleep`` init containers are gone because Argo CD sync waves order the start.
"""

from __future__ import annotations

import string
from importlib import resources
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.render.manifests import Tree, common_labels, kustomization, metadata
from mlsysops_gitops.settings import Settings

REDIS_PORT = 6379
XMPP_PORT = 5222
EJABBERD_HTTP_PORT = 5280
NORTHBOUND_API_PORT = 8000

AGENT_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}

# Settings each agent receives as environment variables, when set. The agents read the
# OpenTelemetry variables to configure the collectors they deploy.
_AGENT_SETTINGS = (
    "MLS_OTEL_HIGHER_EXPORT",
    "MLS_OTEL_CLUSTER_PORT",
    "MLS_OTEL_CONTINUUM_PORT",
    "MLS_OTEL_PROMETHEUS_LISTEN_IP",
    "MLS_OTEL_PROMETHEUS_LISTEN_PORT",
    "MLS_OTEL_CONTINUUM_EXPORT_IP",
    "MLS_OTEL_CONTINUUM_EXPORT_PORT",
    "MLS_OTEL_MIMIR_EXPORT_ENDPOINT",
    "MLS_OTEL_LOKI_EXPORT_ENDPOINT",
    "MLS_OTEL_TEMPO_EXPORT_ENDPOINT",
    "MLS_OTEL_NODE_EXPORTER_FLAGS",
    "LOCAL_OTEL_ENDPOINT",
    "MLS_MLCONNECTOR_ENDPOINT",
)

# Base folder of each component, relative to base/.
FRAMEWORK = "framework"
EJABBERD = "ejabberd"
REDIS = "redis"
NORTHBOUND_API = "northbound-api"
CONTINUUM_AGENT = "continuum-agent"
CLUSTER_AGENT = "cluster-agent"
NODE_AGENT = "node-agent"
COMPONENTS = (FRAMEWORK, EJABBERD, REDIS, NORTHBOUND_API, CONTINUUM_AGENT, CLUSTER_AGENT, NODE_AGENT)

# ConfigMaps the agents mount; the overlays generate them.
DESCRIPTIONS_CONFIGMAP = {
    CONTINUUM_AGENT: "continuum-system-description",
    CLUSTER_AGENT: "cluster-system-description",
    NODE_AGENT: "node-system-descriptions",
}


def configmap_names(agent: str) -> tuple[str, str]:
    """Return the configuration and policy ConfigMap names of an agent layer."""
    layer = agent.removesuffix("-agent")
    return f"{layer}-agents-config", f"{layer}-agents-policies"


def render_bases(tree: Tree, settings: Settings) -> None:
    """Add every base to ``tree``."""
    _framework(tree)
    _ejabberd(tree, settings)
    _redis(tree, settings)
    _northbound_api(tree, settings)
    _agent(tree, settings, CONTINUUM_AGENT, layer="continuum")
    _agent(tree, settings, CLUSTER_AGENT, layer="cluster")
    _agent(tree, settings, NODE_AGENT, layer="node")


def _base(tree: Tree, component: str, *objects: dict[str, Any], **extra: Any) -> None:
    folder = f"{layout.BASE_DIR}/{component}"
    tree.add_yaml(f"{folder}/{component}.yaml", *objects)
    tree.add_yaml(
        f"{folder}/kustomization.yaml",
        kustomization(resources=[f"{component}.yaml"], labels=common_labels(component), **extra),
    )


def _framework(tree: Tree) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(layout.NAMESPACE, namespace=None)}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(layout.SERVICE_ACCOUNT)}
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(layout.CLUSTER_ROLE, namespace=None),
        "rules": _agent_rules(),
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(layout.CLUSTER_ROLE_BINDING, namespace=None),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": layout.CLUSTER_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": layout.SERVICE_ACCOUNT, "namespace": layout.NAMESPACE}],
    }
    _base(tree, FRAMEWORK, namespace, account, role, binding)


def _agent_rules() -> list[dict[str, Any]]:
    """Return the permissions the agents use: they deploy workloads and manage MLSysOps objects."""
    manage = ["create", "delete", "get", "list", "patch", "update", "watch"]
    read = ["get", "list", "watch"]
    return [
        {"apiGroups": ["node.k8s.io"], "resources": ["runtimeclasses"], "verbs": manage},
        {"apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "replicasets", "statefulsets"], "verbs": manage},
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": manage},
        {
            "apiGroups": ["mlsysops.eu"],
            "resources": ["mlsysopsapps", "mlsysopsclusters", "mlsysopscontinuums", "mlsysopsdatacenters", "mlsysopsnodes"],
            "verbs": ["*"],
        },
        {
            "apiGroups": [""],
            "resources": ["events", "namespaces/status", "nodes", "nodes/spec", "pods/status", "replicationcontrollers", "replicationcontrollers/status", "resourcequotas"],
            "verbs": read,
        },
        {"apiGroups": [""], "resources": ["configmaps", "namespaces", "pods", "services"], "verbs": ["*"]},
        {"apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": read},
        {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": read},
    ]


def _env(name: str, value: object) -> dict[str, Any]:
    return {"name": name, "value": str(value)}


def _field_env(name: str, field_path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": field_path}}}


def secret_env(name: str, secret: str, key: str = layout.PASSWORD_KEY) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _service(name: str, app: str, ports: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(name),
        "spec": {
            "selector": {"app": app},
            "ports": [{"name": port_name, "port": port, "targetPort": port, "protocol": "TCP"} for port_name, port in ports],
        },
    }


def _deployment(name: str, app: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name),
        "spec": {
            "replicas": 1,
            # Recreate: the pods bind host ports, so two cannot run on one node at once.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": pod_spec},
        },
    }


def _ejabberd(tree: Tree, settings: Settings) -> None:
    template = resources.files("mlsysops_gitops.render").joinpath("data/ejabberd.yml").read_text(encoding="utf-8")
    config = string.Template(template).substitute(xmpp_domain=settings.xmpp_domain)
    container = {
        "name": "ejabberd",
        "image": settings.ejabberd_image,
        "args": ["foreground"],
        "ports": [
            {"name": "xmpp", "containerPort": XMPP_PORT, "hostPort": XMPP_PORT, "protocol": "TCP"},
            {"name": "http", "containerPort": EJABBERD_HTTP_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {"tcpSocket": {"port": XMPP_PORT}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": XMPP_PORT}, "initialDelaySeconds": 30, "periodSeconds": 20},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/opt/ejabberd/conf/ejabberd.yml", "subPath": "ejabberd.yml", "readOnly": True}],
    }
    pod = {"containers": [container], "volumes": [{"name": "config", "configMap": {"name": "ejabberd-config"}}]}
    folder = f"{layout.BASE_DIR}/{EJABBERD}"
    tree.add(f"{folder}/ejabberd.yml", config)
    _base(
        tree,
        EJABBERD,
        _service("ejabberd", "ejabberd", [("xmpp", XMPP_PORT), ("http", EJABBERD_HTTP_PORT)]),
        _deployment("ejabberd", "ejabberd", pod),
        configMapGenerator=[{"name": "ejabberd-config", "files": ["ejabberd.yml"]}],
    )


def _redis(tree: Tree, settings: Settings) -> None:
    container = {
        "name": "redis",
        "image": settings.redis_image,
        "command": ["redis-stack-server"],
        # Kubernetes expands $(REDIS_PASSWORD) from the env below, so the password stays in its Secret.
        "args": ["--requirepass", "$(REDIS_PASSWORD)", "--timeout", "300"],
        "env": [secret_env("REDIS_PASSWORD", layout.REDIS_SECRET)],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "hostPort": REDIS_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": REDIS_PORT}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": REDIS_PORT}, "initialDelaySeconds": 15, "periodSeconds": 20},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    pod = {"containers": [container], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "redis-data"}}]}
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata("redis-data"),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
    }
    _base(tree, REDIS, claim, _service("redis", "redis", [("redis", REDIS_PORT)]), _deployment("redis", "redis", pod))


def _northbound_api(tree: Tree, settings: Settings) -> None:
    kubeconfig = f"{layout.KUBECONFIG_DIR}/{layout.KARMADA_KUBECONFIG_KEY}"
    container = {
        "name": "northbound-api",
        "image": settings.image("northbound-api"),
        "command": ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", str(NORTHBOUND_API_PORT)],
        "env": [
            _env("REDIS_HOST", settings.karmada_host_ip),
            _env("REDIS_PORT", REDIS_PORT),
            _env("REDIS_DB_NUMBER", 0),
            _env("REDIS_QUEUE_NAME", "valid_descriptions_queue"),
            secret_env("REDIS_PASSWORD", layout.REDIS_SECRET),
            _env("REDIS_CHANNEL_NAME", "my_channel"),
            _env("REDIS_DICT_NAME", "system_app_hash"),
            _env("KUBECONFIG", kubeconfig),
        ],
        "ports": [{"name": "http", "containerPort": NORTHBOUND_API_PORT, "hostPort": NORTHBOUND_API_PORT, "protocol": "TCP"}],
        "readinessProbe": {"tcpSocket": {"port": NORTHBOUND_API_PORT}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": NORTHBOUND_API_PORT}, "initialDelaySeconds": 15, "periodSeconds": 20},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        "volumeMounts": [{"name": "karmada-kubeconfig", "mountPath": layout.KUBECONFIG_DIR, "readOnly": True}],
    }
    pod = {"containers": [container], "volumes": [_kubeconfig_volume()]}
    service = _service("northbound-api", "northbound-api", [("http", NORTHBOUND_API_PORT)])
    _base(tree, NORTHBOUND_API, service, _deployment("northbound-api", "northbound-api", pod))


def _kubeconfig_volume() -> dict[str, Any]:
    return {
        "name": "karmada-kubeconfig",
        "secret": {"secretName": layout.KARMADA_KUBECONFIG_SECRET, "items": [{"key": layout.KARMADA_KUBECONFIG_KEY, "path": layout.KARMADA_KUBECONFIG_KEY}]},
    }


def agent_settings_env(settings: Settings) -> list[dict[str, Any]]:
    """Return the env entries of the optional settings that are set, in a fixed order."""
    entries = []
    for name in _AGENT_SETTINGS:
        value = getattr(settings, name.lower())
        if value is not None:
            entries.append(_env(name, value))
    return entries


def _agent(tree: Tree, settings: Settings, agent: str, *, layer: str) -> None:
    env = [
        _field_env("NODE_NAME", "spec.nodeName"),
        _env("REDIS_HOST", settings.karmada_host_ip),
        _env("REDIS_PORT", REDIS_PORT),
        secret_env("REDIS_PASSWORD", layout.REDIS_SECRET),
        _env("EJABBERD_DOMAIN", settings.xmpp_domain),
        secret_env("NODE_PASSWORD", layout.AGENTS_SECRET),
        _env("DESCRIPTION_PATH", layout.DESCRIPTION_PATH),
    ]
    mounts = [
        {"name": "descriptions", "mountPath": layout.DESCRIPTION_PATH, "readOnly": True},
        {"name": "config", "mountPath": layout.CONFIG_PATH, "readOnly": True},
        {"name": "policies", "mountPath": layout.POLICIES_PATH, "readOnly": True},
    ]
    config, policies = configmap_names(agent)
    volumes = [
        _descriptions_volume(agent),
        {"name": "config", "configMap": {"name": config}},
        {"name": "policies", "configMap": {"name": policies}},
    ]
    if agent == CONTINUUM_AGENT:
        env += [
            _field_env("HOST_IP", "status.hostIP"),
            _env("KARMADA_API_KUBECONFIG", f"{layout.KUBECONFIG_DIR}/{layout.KARMADA_KUBECONFIG_KEY}"),
        ]
        mounts.append({"name": "karmada-kubeconfig", "mountPath": layout.KUBECONFIG_DIR, "readOnly": True})
        volumes.append(_kubeconfig_volume())
    elif agent == CLUSTER_AGENT:
        # The cluster agent runs on the cluster's management node and names itself after it.
        env += [_field_env("CLUSTER_NAME", "spec.nodeName"), _env("PYTHONPATH", "/workdir/fluidity")]
    env += agent_settings_env(settings)

    container = {
        "name": agent,
        "image": settings.image(agent),
        "imagePullPolicy": "IfNotPresent",
        "env": env,
        "resources": AGENT_RESOURCES,
        "volumeMounts": mounts,
    }
    pod_spec: dict[str, Any] = {
        "nodeSelector": {layout.LAYER_LABEL: layer},
        "containers": [container],
        "volumes": volumes,
    }
    if agent != NODE_AGENT:
        pod_spec = {"serviceAccountName": layout.SERVICE_ACCOUNT, **pod_spec}
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(f"mlsysops-{agent}"),
        "spec": {
            # The selector is immutable after creation, so it holds one label that never changes.
            "selector": {"matchLabels": {"app": agent}},
            "template": {"metadata": {"labels": {"app": agent}}, "spec": pod_spec},
        },
    }
    _base(tree, agent, daemonset)


def _descriptions_volume(agent: str) -> dict[str, Any]:
    """Return the descriptions volume: a projection, so overlays can add ConfigMap shards."""
    return {"name": "descriptions", "projected": {"sources": [{"configMap": {"name": DESCRIPTIONS_CONFIGMAP[agent]}}]}}
