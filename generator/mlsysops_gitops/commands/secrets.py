"""The secrets command: how to create the Secrets the workloads reference, without a value.

It prints a shell script for the configured ``secrets_mode``. Every value is a
placeholder in angle brackets that names what goes there; this command reads no
credential and prints none.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from mlsysops_gitops import layout
from mlsysops_gitops.render import karmada
from mlsysops_gitops.render.secrets import DESTINATIONS, KARMADA, MANAGEMENT, SECRETS_DIR, SecretSpec, required_secrets
from mlsysops_gitops.settings import Settings, load_settings

MANAGEMENT_CONTEXT = "<management-context>"
KARMADA_CONTEXT = "<karmada-context>"
_TITLES = {
    MANAGEMENT: "Management cluster (Argo CD destination {destination})",
    KARMADA: "Karmada API server (Argo CD destination {destination}); Karmada propagates these to every member cluster",
}


def run_secrets(repo: Path, overrides: dict[str, Any], *, management_context: str | None, karmada_context: str | None) -> str:
    """Return the script that creates the Secrets of ``repo``'s settings.

    Raises:
        InputError: naming every missing or invalid setting.
    """
    settings = load_settings(repo, overrides)
    contexts = {MANAGEMENT: management_context or MANAGEMENT_CONTEXT, KARMADA: karmada_context or KARMADA_CONTEXT}
    return secrets_script(settings, contexts)


def secrets_script(settings: Settings, contexts: dict[str, str]) -> str:
    """Return the shell script for ``settings.secrets_mode``, one section per destination."""
    lines = _header(settings)
    specs = required_secrets(settings)
    for destination in DESTINATIONS:
        context = contexts[destination]
        argocd_name = settings.management_destination if destination == MANAGEMENT else settings.karmada_destination
        lines += ["", f"# {_TITLES[destination].format(destination=argocd_name)}"]
        if settings.secrets_mode != "sealed-secrets":
            lines += _namespace(context, destination)
        for spec in specs:
            if destination in spec.destinations:
                lines += _secret_lines(spec, settings, destination, context)
    return "\n".join(lines) + "\n"


def _header(settings: Settings) -> list[str]:
    header = [f"# Secrets referenced by the rendered workloads; secrets_mode is {settings.secrets_mode}."]
    if settings.secrets_mode == "external":
        header.append("# Run these once per cluster, before the services sync; replace every <...>.")
    elif settings.secrets_mode == "sealed-secrets":
        header.append(f"# Seal each Secret with the controller of its cluster and keep the output in {SECRETS_DIR}/; replace every <...>.")
    else:
        kind, store = settings.external_secrets_store_kind, settings.external_secrets_store
        header.append(f"# The {kind} {store!r} must hold these remote keys; render writes one ExternalSecret per Secret.")
    header.append("# Write each password into a file with printf '%s' so that no newline ends up in the Secret.")
    return header


def _namespace(context: str, destination: str) -> list[str]:
    kubectl = _kubectl(context)
    lines = [f"{kubectl} create namespace {layout.NAMESPACE} --dry-run=client --output=yaml | {kubectl} apply --filename=-"]
    if destination == KARMADA:
        (label, value), = karmada.SKIP_AUTO_PROPAGATION.items()
        lines.append(f"{kubectl} label --overwrite namespace {layout.NAMESPACE} {label}={value}")
    return lines


def _secret_lines(spec: SecretSpec, settings: Settings, destination: str, context: str) -> list[str]:
    note = f"# {spec.name}: {spec.used_by}" + (" (optional)" if spec.optional else "")
    if settings.secrets_mode == "external-secrets":
        if spec.optional:
            return [note + "; no ExternalSecret is rendered for it, create it with kubectl if you need it", *_create(spec, context, dry_run=False)]
        key = f"{settings.external_secrets_key_prefix}{spec.name}"
        return [note] + [f"#   remote key {key}, property {name}" for name in spec.keys]
    if settings.secrets_mode == "sealed-secrets":
        target = f"{SECRETS_DIR}/{destination}/{spec.name}.yaml"
        seal = f"kubeseal --context={shlex.quote(context)} --format=yaml > {target}"
        create = _create(spec, None, dry_run=True)
        create[-1] += f" \\\n  | {seal}"
        return [note, *create]
    return [note, *_create(spec, context, dry_run=False)]


def _create(spec: SecretSpec, context: str | None, *, dry_run: bool) -> list[str]:
    command = f"{_kubectl(context)} --namespace={layout.NAMESPACE} create secret generic {spec.name}"
    sources = []
    for key, placeholder in spec.keys.items():
        # An empty key stands for an env file: one Secret key per VARIABLE=value line.
        quoted = shlex.quote(placeholder)
        sources.append(f"--from-env-file={quoted}" if not key else f"--from-file={key}={quoted}")
    if dry_run:
        sources.append("--dry-run=client --output=yaml")
    return [" \\\n  ".join([command, *sources])]


def _kubectl(context: str | None) -> str:
    return "kubectl" if context is None else f"kubectl --context={shlex.quote(context)}"
