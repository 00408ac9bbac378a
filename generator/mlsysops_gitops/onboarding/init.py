"""The files of a new GitOps repository: example descriptions, settings and a README.

The example is one continuum, one member cluster and two nodes, named so that an
operator sees at once which names to replace with the host names of their machines.
"""

from __future__ import annotations

from mlsysops_gitops import layout
from mlsysops_gitops.settings import DEFAULT_AGENTS_TAG

CONTINUUM_HOST = "karmada-host"
CLUSTER_HOST = "edge-master"
CLUSTER_ID = "edge"
NODES = ("edge-worker-1", "edge-worker-2")

_EXAMPLE_NOTE = "# Example: rename this file and its names after your machines' host names.\n"

SETTINGS = f"""\
# Settings of mlsysops-gitops render. Environment variables override these values,
# and command-line options override both; see the tool's README for every setting.

# IP address of the Karmada host, where Redis and ejabberd listen. Required; set it
# here or export KARMADA_HOST_IP.
# karmada_host_ip: 192.0.2.10

# XMPP domain of the agents; defaults to karmada_host_ip.
# ejabberd_domain: mlsysops.example.com

# Argo CD reads this repository from the 'origin' remote's URL on the current branch.
# Set these only to point Argo CD elsewhere (a mirror, a release branch).
# repo_url: https://git.example.com/continuum/gitops.git
# target_revision: main

# Argo CD cluster name of the Karmada API server.
karmada_destination: karmada-apiserver

# Tag of the MLSysOps agent and northbound API images, pinned here so that an upgrade
# is a reviewed change to this file; never 'latest'.
agents_tag: {DEFAULT_AGENTS_TAG}
"""

README = f"""\
# MLSysOps continuum: GitOps repository

This repository holds the installation of an MLSysOps continuum. Argo CD applies it:
the third-party services and the continuum agent to the management cluster, the
cluster and node agents to the Karmada API server, which sends each member cluster its
own agents. These files are never applied by hand.

## What to review

| path | written by | review |
| --- | --- | --- |
| `{layout.DESCRIPTIONS_DIR}/` | people | every change: it says which machines run which agents |
| `{layout.SETTINGS_FILE}` | people | every change: addresses, images, Argo CD source |
| `{layout.BASE_DIR}/`, `{layout.OVERLAYS_DIR}/`, `{layout.ARGOCD_DIR}/` | `mlsysops-gitops render` | skim: they follow from the two above |

A pull request that edits generated files without a matching change to the inputs was
edited by hand. `mlsysops-gitops render --check` lists those files, and the next render
overwrites them.

## Inputs

| path | content |
| --- | --- |
| `{layout.CONTINUUM_DIR}/<host>.yaml` | the continuum (`MLSysOpsContinuum`), named after the management cluster's host |
| `{layout.CLUSTERS_DIR}/<host>.yaml` | one member cluster (`MLSysOpsCluster`), named after the host of its cluster agent |
| `{layout.NODES_DIR}/<host>.yaml` | one node (`MLSysOpsNode`) per machine that runs a node agent |
| `{layout.DESCRIPTIONS_DIR}/configurations/<layer>/<host>-config.yaml` | the configuration of one agent; `default.yaml` serves the other hosts of the layer (`continuum`, `cluster`, `node`) |
| `{layout.DESCRIPTIONS_DIR}/policies/<layer>/` | policy plugins every agent of the layer loads; a change reaches running agents without restarting them |
| `{layout.DESCRIPTIONS_DIR}/applications/<name>.yaml` | applications (`MLSysOpsApplication`), deployed once every agent runs |

The descriptions here are an example. Replace them with your machines: by hand, or
from your Ansible inventory with
`mlsysops-gitops descriptions from-inventory inventory.yaml --force` after removing
the example files.

## Make a change

```sh
export KARMADA_HOST_IP=192.0.2.10   # or set karmada_host_ip in {layout.SETTINGS_FILE}
mlsysops-gitops render              # validates, renders, verifies with kustomize, commits
git push
```

## First deployment

Argo CD reads this repository from the URL of its `origin` remote. On the management
cluster, with Argo CD installed and the Karmada API server registered in Argo CD as
`karmada-apiserver`, create the Secrets the tool's README lists, then:

```sh
kubectl -n argocd patch configmap argocd-cm --patch-file {layout.ARGOCD_DIR}/argocd-cm-health-patch.yaml
kubectl apply -k {layout.ARGOCD_DIR}/
```

No password, key or kubeconfig belongs in this repository.
"""


def example_descriptions() -> dict[str, str]:
    """Return the example descriptions, by path relative to the repository root."""
    files = {
        f"{layout.CONTINUUM_DIR}/{CONTINUUM_HOST}.yaml": f"MLSysOpsContinuum:\n  name: {CONTINUUM_HOST}\n  continuum_id: {CONTINUUM_HOST}\n  clusters:\n    - {CLUSTER_ID}\n",
        f"{layout.CLUSTERS_DIR}/{CLUSTER_HOST}.yaml": f"MLSysOpsCluster:\n  name: {CLUSTER_HOST}\n  cluster_id: {CLUSTER_ID}\n  nodes:\n" + "".join(f"    - {node}\n" for node in NODES),
    }
    for node in NODES:
        files[f"{layout.NODES_DIR}/{node}.yaml"] = (
            f"MLSysOpsNode:\n  name: {node}\n  cluster_id: {CLUSTER_ID}\n  continuum_layer: edge\n"
            "  permitted_actions:\n    - cpu_frequency\n  environment:\n    node_type: native\n    os: ubuntu\n"
            "    container_runtime:\n      - containerd\n  hardware:\n    cpu:\n      cores: 4\n      architecture: arm64\n    memory: 8\n"
        )
    return {path: _EXAMPLE_NOTE + text for path, text in files.items()}
