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
MLCONNECTOR_PORT = 8090
POSTGRES_PORT = 5432
MLCONNECTOR_DB = "mlconnector"

AGENT_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


# Base folder of each component, relative to base/.
FRAMEWORK = "framework"
EJABBERD = "ejabberd"
REDIS = "redis"
NORTHBOUND_API = "northbound-api"
CONTINUUM_AGENT = "continuum-agent"
CLUSTER_AGENT = "cluster-agent"
NODE_AGENT = "node-agent"
MLCONNECTOR = "mlconnector"
# Secrets rendered by render/secrets.py when a controller creates them (not in mode external).
MANAGEMENT_SECRETS = "management-secrets"
KARMADA_SECRETS = "karmada-secrets"
SERVICES = (EJABBERD, REDIS, NORTHBOUND_API, MLCONNECTOR)
COMPONENTS = (FRAMEWORK, *SERVICES, CONTINUUM_AGENT, CLUSTER_AGENT, NODE_AGENT)

# The optional settings each agent reads, passed as env entries under the installer's
# names when set. Taken from the agents' telemetry controller (mlsysops-framework,
# agents/mlsysops/controllers/telemetry.py, 2025): only node agents export to the cluster
# collector, and only cluster agents to the continuum one. Every agent hands
# LOCAL_OTEL_ENDPOINT and MLS_MLCONNECTOR_ENDPOINT to its policies.
_EXPORTERS = ("MLS_OTEL_MIMIR_EXPORT_ENDPOINT", "MLS_OTEL_LOKI_EXPORT_ENDPOINT", "MLS_OTEL_TEMPO_EXPORT_ENDPOINT", "MLS_OTEL_NODE_EXPORTER_FLAGS")
_EVERY_LAYER = ("MLS_OTEL_PROMETHEUS_LISTEN_IP", "MLS_OTEL_PROMETHEUS_LISTEN_PORT", *_EXPORTERS, "LOCAL_OTEL_ENDPOINT")
AGENT_SETTINGS = {
    CONTINUUM_AGENT: ("MLS_OTEL_CONTINUUM_EXPORT_IP", "MLS_OTEL_CONTINUUM_EXPORT_PORT", *_EVERY_LAYER),
    CLUSTER_AGENT: ("MLS_OTEL_HIGHER_EXPORT", "MLS_OTEL_CONTINUUM_PORT", *_EVERY_LAYER),
    NODE_AGENT: ("MLS_OTEL_HIGHER_EXPORT", "MLS_OTEL_CLUSTER_PORT", *_EVERY_LAYER),
}

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


def service_components(tree: Tree) -> list[str]:
    """Return the bases of the management cluster's services that ``tree`` holds, in a fixed order."""
    return [component for component in (*SERVICES, MANAGEMENT_SECRETS) if f"{layout.BASE_DIR}/{component}/kustomization.yaml" in tree]


def karmada_components(tree: Tree) -> list[str]:
    """Return the bases the Karmada API server receives besides the framework, if ``tree`` contains them."""
    return [component for component in (KARMADA_SECRETS,) if f"{layout.BASE_DIR}/{component}/kustomization.yaml" in tree]


def render_bases(tree: Tree, settings: Settings) -> None:
    """Add every base to ``tree``."""
    _framework(tree)
    _ejabberd(tree, settings)
    _redis(tree, settings)
    _northbound_api(tree, settings)
    if settings.deploys_mlconnector:
        _mlconnector(tree, settings)
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
    if any("hostPort" in port for container in pod_spec["containers"] for port in container.get("ports", [])):
        # Agents in member clusters reach the service at KARMADA_HOST_IP, the management
        # host, which is also the node that runs the continuum agent.
        pod_spec = {"nodeSelector": {layout.LAYER_LABEL: "continuum"}, **pod_spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name),
        "spec": {
            "replicas": 1,
            # Recreate: two pods must never bind one host port or write one volume at once.
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


def _mlconnector(tree: Tree, settings: Settings) -> None:
    """Add the ML connector and its PostgreSQL database, which the Docker Compose file ran before."""
    database_env = [
        _env("POSTGRES_DB", MLCONNECTOR_DB),
        _env("POSTGRES_USER", MLCONNECTOR_DB),
        secret_env("POSTGRES_PASSWORD", layout.MLCONNECTOR_DB_SECRET),
    ]
    pg_isready = {"exec": {"command": ["pg_isready", "--username", MLCONNECTOR_DB, "--dbname", MLCONNECTOR_DB]}}
    database = {
        "name": "postgres",
        "image": settings.postgres_image,
        # A volume root contains lost+found, and initdb rejects a non-empty directory.
        "env": [*database_env, _env("PGDATA", "/var/lib/postgresql/data/pgdata")],
        "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT, "protocol": "TCP"}],
        "readinessProbe": {**pg_isready, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {**pg_isready, "initialDelaySeconds": 30, "periodSeconds": 20, "timeoutSeconds": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
    }
    database_pod = {"containers": [database], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "mlconnector-db-data"}}]}

    # The connector builds its SQLAlchemy URL from these; the driver must be asynchronous.
    docs = {"httpGet": {"path": "/docs", "port": MLCONNECTOR_PORT}}
    connector = {
        "name": "mlconnector",
        "image": settings.image(MLCONNECTOR),
        "env": [
            _env("DB_DRIVER", "postgresql+asyncpg"),
            _env("DB_HOST_NAME", "mlconnector-db"),
            _env("DB_PORT", POSTGRES_PORT),
            *database_env,
            _env("NORTHBOUND_API_ENDPOINT", f"http://northbound-api.{layout.NAMESPACE}.svc:{NORTHBOUND_API_PORT}"),
        ],
        "envFrom": [{"secretRef": {"name": layout.MLCONNECTOR_ENV_SECRET, "optional": True}}],
        "ports": [{"name": "http", "containerPort": MLCONNECTOR_PORT, "hostPort": MLCONNECTOR_PORT, "protocol": "TCP"}],
        # The connector migrates its database before it listens.
        "readinessProbe": {**docs, "periodSeconds": 10, "timeoutSeconds": 5},
        "livenessProbe": {**docs, "initialDelaySeconds": 60, "periodSeconds": 20, "timeoutSeconds": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    }
    # NOTE: the Compose file also mounted the host's Docker socket, which the connector uses
    # to build model images. This Deployment mounts none, so that feature fails here.
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata("mlconnector-db-data"),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
    }
    _base(
        tree,
        MLCONNECTOR,
        claim,
        _service("mlconnector-db", "mlconnector-db", [("postgres", POSTGRES_PORT)]),
        _deployment("mlconnector-db", "mlconnector-db", database_pod),
        _service("mlconnector", "mlconnector", [("http", MLCONNECTOR_PORT)]),
        _deployment("mlconnector", "mlconnector", {"containers": [connector]}),
    )


def mlconnector_endpoint(settings: Settings, agent: str) -> str:
    """Return the ML connector URL ``agent`` uses: the setting, else the deployed Service."""
    if settings.mls_mlconnector_endpoint is not None:
        return settings.mls_mlconnector_endpoint
    if agent == CONTINUUM_AGENT:
        return f"http://{MLCONNECTOR}.{layout.NAMESPACE}.svc:{MLCONNECTOR_PORT}"
    # Member clusters cannot resolve the management cluster's Service names.
    return f"http://{settings.karmada_host_ip}:{MLCONNECTOR_PORT}"


def agent_settings_env(settings: Settings, agent: str) -> list[dict[str, Any]]:
    """Return the env entries of the optional settings ``agent`` reads that are set, in a fixed order."""
    entries = []
    for name in AGENT_SETTINGS[agent]:
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
    env += agent_settings_env(settings, agent)
    env.append(_env("MLS_MLCONNECTOR_ENDPOINT", mlconnector_endpoint(settings, agent)))

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
            # The selector is immutable after creation, so it contains one label that never changes.
            "selector": {"matchLabels": {"app": agent}},
            "template": {"metadata": {"labels": {"app": agent}}, "spec": pod_spec},
        },
    }
    _base(tree, agent, daemonset)


def _descriptions_volume(agent: str) -> dict[str, Any]:
    """Return the descriptions volume: a projection, so overlays can add ConfigMap shards."""
    return {"name": "descriptions", "projected": {"sources": [{"configMap": {"name": DESCRIPTIONS_CONFIGMAP[agent]}}]}}
