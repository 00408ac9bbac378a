"""The description models against the upstream CRDs, and the JSON Schemas the schema command writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import PROJECT, UPSTREAM, UPSTREAM_DESCRIPTIONS
from mlsysops_gitops.descriptions.models import KINDS, file_schema

# Fields this tool adds to the CRDs: the host name, which must equal the file's stem.
EXTENSIONS = {("MLSysOpsContinuum", "name"), ("MLSysOpsCluster", "name")}


def _crd_schema(kind: str) -> dict[str, Any]:
    crd = yaml.safe_load((UPSTREAM / "crds" / f"{kind}.yaml").read_text(encoding="utf-8"))
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def _resolve(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _compare(crd: dict[str, Any], ours: dict[str, Any], definitions: dict[str, Any], path: tuple[str, ...]) -> None:
    ours = _resolve(ours, definitions)
    where = ".".join(path)
    assert ours.get("type") == crd["type"], where
    if "enum" in crd:
        assert ours.get("enum", [ours.get("const")]) == crd["enum"], where
    if crd["type"] == "array":
        _compare(crd["items"], ours["items"], definitions, (*path, "[]"))
    if crd["type"] != "object":
        return
    crd_properties = dict(crd.get("properties", {}))
    if path[-2:] == ("renewable", "[]"):
        # The CRD nests production inside name's schema (one indent too deep); the model
        # makes it name's sibling, as the CRD clearly means.
        crd_properties["production"] = crd_properties["name"].pop("production")
    extensions = {name for kind, name in EXTENSIONS if path == (kind,)}
    assert set(ours["properties"]) == set(crd_properties) | extensions, where
    assert set(ours.get("required", [])) == set(crd.get("required", [])), where
    assert ours["additionalProperties"] is False, where
    for name, child in crd_properties.items():
        _compare(child, ours["properties"][name], definitions, (*path, name))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_model_matches_crd(kind: str) -> None:
    schema = file_schema(kind)

    _compare(_crd_schema(kind), schema["properties"][kind], schema["$defs"], (kind,))


@pytest.fixture
def schemas(tmp_path: Path, invoke: Callable[..., Any]) -> Path:
    out = tmp_path / "schemas"
    result = invoke("schema", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_schema_command_writes_one_file_per_kind(schemas: Path, invoke: Callable[..., Any]) -> None:
    names = sorted(path.name for path in schemas.iterdir())
    again = invoke("schema", "--out", str(schemas))

    assert names == ["MLSysOpsApplication.schema.json", "MLSysOpsCluster.schema.json", "MLSysOpsContinuum.schema.json", "MLSysOpsNode.schema.json"]
    assert again.stderr.splitlines() == [f"identical {schemas / name}" for name in names]


@pytest.mark.parametrize("kind", [*sorted(KINDS), "MLSysOpsApplication"])
def test_schema_is_valid_json_schema(schemas: Path, kind: str) -> None:
    schema = json.loads((schemas / f"{kind}.schema.json").read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(schema)


_FOLDERS = {"continuum": "MLSysOpsContinuum", "clusters": "MLSysOpsCluster", "nodes": "MLSysOpsNode"}
EXAMPLES = sorted((*UPSTREAM_DESCRIPTIONS.glob("*/*.yaml"), *(PROJECT / "descriptions").glob("*/*.yaml")))


@pytest.mark.parametrize("path", EXAMPLES, ids=[f"{path.parent.parent.parent.name}/{path.parent.name}/{path.name}" for path in EXAMPLES])
def test_examples_satisfy_schema(schemas: Path, path: Path) -> None:
    kind = _FOLDERS[path.parent.name]
    validator = jsonschema.Draft202012Validator(json.loads((schemas / f"{kind}.schema.json").read_text(encoding="utf-8")))

    assert list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == []


def test_schema_rejects_what_validation_rejects(schemas: Path) -> None:
    validator = jsonschema.Draft202012Validator(json.loads((schemas / "MLSysOpsNode.schema.json").read_text(encoding="utf-8")))
    node = yaml.safe_load((UPSTREAM_DESCRIPTIONS / "nodes" / "mls-test-vm1.yaml").read_text(encoding="utf-8"))
    spec = node["MLSysOpsNode"]

    unknown = {"MLSysOpsNode": {**spec, "mobility": True}}
    nested_unknown = {"MLSysOpsNode": {**spec, "hardware": {**spec["hardware"], "cpu": {"speed": 3}}}}
    null = {"MLSysOpsNode": {**spec, "power": None}}
    quoted_number = {"MLSysOpsNode": {**spec, "hardware": {**spec["hardware"], "memory": "4"}}}

    for document in (unknown, nested_unknown, null, quoted_number):
        assert not validator.is_valid(document), document
