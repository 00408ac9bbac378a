"""The schema command: write the JSON Schema of each description kind for editors.

Each schema describes a whole file (its one top-level key), so yaml-language-server can
check a description as it is typed, given the modeline
``# yaml-language-server: $schema=<path to MLSysOpsNode.schema.json>``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from mlsysops_gitops.descriptions import application
from mlsysops_gitops.descriptions.models import KINDS, file_schema
from mlsysops_gitops.repository import files

# Every kind of description file, and the model of its top-level key's value.
MODELS: dict[str, type[BaseModel]] = {**KINDS, application.KIND: application.Application}


def schema_texts() -> dict[str, bytes]:
    """Return each kind's schema file, by file name (``MLSysOpsNode.schema.json``)."""
    texts = {}
    for kind in sorted(MODELS):
        schema = file_schema(kind, MODELS[kind])
        texts[f"{kind}.schema.json"] = (json.dumps(schema, indent=2) + "\n").encode("utf-8")
    return texts


def run_schema(out: Path) -> files.Changes:
    """Write the schema files into ``out``; return which were created or updated."""
    fresh = schema_texts()
    current = {name: (out / name).read_bytes() for name in fresh if (out / name).is_file()}
    changes = files.compare(current, fresh)
    files.apply(out, fresh, changes)
    return changes
