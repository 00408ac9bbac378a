"""Validate rendered objects against the real schemas, refusing unknown fields.

Argo CD and Karmada kinds are checked against the ``openAPIV3Schema`` of their CRDs.
Those schemas allow unknown fields by default (JSON Schema does), while the API server
prunes them silently, so ``additionalProperties: false`` is added to every object
schema that lists its properties and does not preserve unknown fields. Core kinds go
through ``kubernetes-validate`` in strict mode.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from conftest import SCHEMAS

# A Kubernetes version whose strict schemas kubernetes-validate ships.
KUBERNETES_VERSION = "1.32.0"


def _closed(schema: Any) -> Any:
    """Return a copy of ``schema`` in which objects with listed properties refuse others."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in closed and "additionalProperties" not in closed and not closed.get("x-kubernetes-preserve-unknown-fields"):
        closed["additionalProperties"] = False
    return closed


@functools.cache
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    """Return a validator per (apiVersion, kind) for every CRD under the shared schemas."""
    validators = {}
    for path in sorted(Path(SCHEMAS).rglob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _closed(version["schema"]["openAPIV3Schema"])
            validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
            validators[(f"{group}/{version['name']}", kind)] = validator_class(schema)
    return validators


# NOTE: CRD schemas declare metadata as a bare object, so the metadata of Argo CD and
# Karmada objects is not checked field by field here.
def validation_errors(obj: dict[str, Any]) -> list[str]:
    """Return every schema violation of ``obj``, each naming the object and the field."""
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    validator = crd_validators().get((obj["apiVersion"], obj["kind"]))
    if validator is not None:
        return [f"{name}: {'.'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(obj)]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{name}: {'.'.join(map(str, error.path))}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError as error:
        return [f"{name}: no schema for {obj['apiVersion']} {obj['kind']}: {error}"]
    return []
