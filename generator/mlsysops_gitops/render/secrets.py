"""The Secrets workloads reference by name, and how they come to exist in each cluster.

No value of a Secret is ever rendered. ``secrets_mode`` chooses who creates them:

- ``external``: the operator, out of band; ``mlsysops-gitops secrets`` prints the
  kubectl commands, with placeholders for the values.
- ``external-secrets``: the External Secrets Operator, from ExternalSecret objects
  rendered here that name a SecretStore and one remote key per Secret.
- ``sealed-secrets``: the Sealed Secrets controller, from SealedSecret files the
  operator seals with kubeseal and keeps in ``descriptions/secrets/<destination>/``.

Secrets on the Karmada API server are propagated to every member cluster by the shared
ClusterPropagationPolicy, so in the last two modes a controller must serve the Karmada
API server itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.descriptions.secrets import KARMADA, MANAGEMENT, SECRETS_DIR, SealedSecretFile
from mlsysops_gitops.errors import InputError, Problem
from mlsysops_gitops.render import bases, karmada
from mlsysops_gitops.render.manifests import Tree, common_labels, kustomization, metadata
from mlsysops_gitops.settings import Settings

DESTINATIONS = (MANAGEMENT, KARMADA)
# The base each destination's Secrets are rendered into, when a controller creates them.
DESTINATION_BASES = {MANAGEMENT: bases.MANAGEMENT_SECRETS, KARMADA: bases.KARMADA_SECRETS}


@dataclasses.dataclass(frozen=True)
class SecretSpec:
    """One Secret that workloads reference: its keys, where it must exist, and what fills it."""

    name: str
    # Each key, with a placeholder that describes its value.
    keys: dict[str, str]
    destinations: tuple[str, ...]
    used_by: str
    optional: bool = False


def required_secrets(settings: Settings) -> list[SecretSpec]:
    """Return every Secret the rendered workloads reference, in a fixed order."""
    specs = [
        SecretSpec(
            layout.KARMADA_KUBECONFIG_SECRET,
            {layout.KARMADA_KUBECONFIG_KEY: "<path of the Karmada API server kubeconfig>"},
            (MANAGEMENT,),
            "northbound API and continuum agent",
        ),
        SecretSpec(
            layout.REDIS_SECRET,
            {layout.PASSWORD_KEY: "<file with the Redis password>"},
            (MANAGEMENT, KARMADA),
            "Redis, northbound API and every agent; the same password in both clusters",
        ),
        SecretSpec(
            layout.AGENTS_SECRET,
            {layout.PASSWORD_KEY: "<file with the agents XMPP password>"},
            (MANAGEMENT, KARMADA),
            "every agent, to log in to ejabberd; the same password in both clusters",
        ),
    ]
    if settings.deploys_mlconnector:
        specs.append(
            SecretSpec(
                layout.MLCONNECTOR_DB_SECRET,
                {layout.PASSWORD_KEY: "<file with the ML connector database password>"},
                (MANAGEMENT,),
                "ML connector and its PostgreSQL",
            )
        )
        specs.append(
            SecretSpec(
                layout.MLCONNECTOR_ENV_SECRET,
                {"": "<env file with the ML connector S3 and registry variables>"},
                (MANAGEMENT,),
                "ML connector: AWS_ACCESS_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_BUCKET_DATA, DOCKER_USERNAME, DOCKER_PASSWORD",
                optional=True,
            )
        )
    return specs


def render_secrets(tree: Tree, settings: Settings) -> None:
    """Add the objects from which a controller creates the Secrets, unless the mode is ``external``.

    Raises:
        InputError: in mode ``sealed-secrets``, naming each required Secret with no SealedSecret.
    """
    if settings.secrets_mode == "external":
        return
    specs = required_secrets(settings)
    for destination in DESTINATIONS:
        wanted = [spec for spec in specs if destination in spec.destinations]
        if settings.secrets_mode == "external-secrets":
            objects = [external_secret(spec, settings) for spec in wanted if not spec.optional]
            files = {"external-secrets.yaml": objects}
        else:
            files = _sealed_files(destination, wanted, settings.sealed_secrets)
        _secrets_base(tree, DESTINATION_BASES[destination], files)


def external_secret(spec: SecretSpec, settings: Settings) -> dict[str, Any]:
    """Build the ExternalSecret that fills ``spec`` from one remote key, a property per Secret key."""
    remote_key = f"{settings.external_secrets_key_prefix}{spec.name}"
    return {
        "apiVersion": settings.external_secrets_api_version,
        "kind": "ExternalSecret",
        "metadata": metadata(spec.name, annotations=karmada.SKIP_DRY_RUN),
        "spec": {
            "refreshInterval": settings.external_secrets_refresh_interval,
            "secretStoreRef": {"name": settings.external_secrets_store, "kind": settings.external_secrets_store_kind},
            "target": {"name": spec.name, "creationPolicy": "Owner"},
            "data": [{"secretKey": key, "remoteRef": {"key": remote_key, "property": key}} for key in spec.keys],
        },
    }


def _sealed_files(destination: str, wanted: list[SecretSpec], sealed: tuple[SealedSecretFile, ...]) -> dict[str, Any]:
    mine = {file.name: file for file in sealed if file.destination == destination}
    missing = [spec.name for spec in wanted if not spec.optional and spec.name not in mine]
    if missing:
        folder = f"{SECRETS_DIR}/{destination}"
        raise InputError(
            Problem(folder, kind="SealedSecret", field=name, message=f"no SealedSecret named {name!r} in {folder}/; seal one with kubeseal for the {destination} cluster's controller")
            for name in missing
        )
    return {f"{name}.yaml": file.text for name, file in sorted(mine.items())}


def _secrets_base(tree: Tree, component: str, files: dict[str, Any]) -> None:
    folder = f"{layout.BASE_DIR}/{component}"
    for name, content in files.items():
        if isinstance(content, str):
            tree.add(f"{folder}/{name}", content)
        else:
            tree.add_yaml(f"{folder}/{name}", *content)
    tree.add_yaml(
        f"{folder}/kustomization.yaml",
        kustomization(namespace=layout.NAMESPACE, resources=sorted(files), labels=common_labels(component)),
    )
