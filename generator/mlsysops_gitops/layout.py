"""Fixed names shared by every stage: folders, namespace, labels and mount paths.

The mount paths and the node selector label are the ones the MLSysOps agents read
(``DESCRIPTION_PATH`` defaults to ``/etc/mlsysops/descriptions``). Changing them breaks
the agents, not only this tool.
"""

from __future__ import annotations

# Input folders, relative to the repository root.
DESCRIPTIONS_DIR = "descriptions"
CONTINUUM_DIR = "descriptions/continuum"
CLUSTERS_DIR = "descriptions/clusters"
NODES_DIR = "descriptions/nodes"
SETTINGS_FILE = "mlsysops-gitops.yaml"
YAML_SUFFIXES = (".yaml", ".yml")

# Output folders; render owns everything below them.
BASE_DIR = "base"
OVERLAYS_DIR = "overlays"
ARGOCD_DIR = "argocd"
OUTPUT_DIRS = (BASE_DIR, OVERLAYS_DIR, ARGOCD_DIR)
OWNED_PATHS = (DESCRIPTIONS_DIR, SETTINGS_FILE, *OUTPUT_DIRS)

# Kubernetes names the agents and the upstream installer use.
NAMESPACE = "mlsysops-framework"
SERVICE_ACCOUNT = "mlsysops-agents-sa"
CLUSTER_ROLE = "mlsysops-framework-role"
CLUSTER_ROLE_BINDING = "mlsysops-framework-crb"
LAYER_LABEL = "mlsysops.eu/continuumLayer"
CLUSTER_LABEL = "mlsysops.eu/cluster"
COMPONENT_LABEL = "app.kubernetes.io/component"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
PART_OF = "mlsysops"
MANAGED_BY = "mlsysops-gitops"

DESCRIPTION_PATH = "/etc/mlsysops/descriptions"
CONFIG_PATH = "/etc/mlsysops/config"
POLICIES_PATH = "/etc/mlsysops/policies"
KUBECONFIG_DIR = "/etc/kubeconfigs"
KARMADA_KUBECONFIG_KEY = "karmada-api.kubeconfig"

# Secrets created out of band and referenced by name; their values never reach Git.
KARMADA_KUBECONFIG_SECRET = "karmada-api-kubeconfig"
REDIS_SECRET = "mlsysops-redis"
AGENTS_SECRET = "mlsysops-agents-xmpp"
MLCONNECTOR_DB_SECRET = "mlsysops-mlconnector-db"
# Optional: the ML connector's other variables (S3 storage, image registry), as env entries.
MLCONNECTOR_ENV_SECRET = "mlsysops-mlconnector-env"
PASSWORD_KEY = "password"

ARGOCD_NAMESPACE = "argocd"
IN_CLUSTER = "in-cluster"
