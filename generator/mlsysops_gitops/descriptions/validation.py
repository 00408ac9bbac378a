"""Validate one parsed description against its model and explain each failure in its terms.

Pydantic finds every type error, enum error, missing field and unknown field in one pass
(``extra="forbid"`` at every level). This module turns each of them into a ``Problem``
located by line and column, with what was found and what is expected, and adds the YAML
1.1 booleans that only the schema can judge.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable
from typing import Any

import pydantic

from mlsysops_gitops.descriptions.models import KINDS, Description, model_at
from mlsysops_gitops.descriptions.yamlfile import Document, Loc, field_path
from mlsysops_gitops.errors import Problem


class Empty:
    """The value a YAML null is read as: no field of any description accepts it."""

    def __repr__(self) -> str:
        return "null"


EMPTY = Empty()

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
    "dict_type": "a mapping of fields",
    "finite_number": "a finite number",
}
# PyYAML (YAML 1.1) reads a float only with a dot and a signed exponent: 2.4e9 is a string.
_EXPONENT = re.compile(r"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$")
_QUOTED = re.compile(r"'([^']*)'")


def validate_spec(document: Document, kind: str, value: Any, *, strict: bool) -> tuple[Description | None, list[Problem]]:
    """Validate the value of a file's top-level key; return the spec (None on error) and the problems."""
    model = KINDS[kind]
    try:
        spec: Description | None = model.model_validate(value)
        details: list[dict[str, Any]] = []
    except pydantic.ValidationError as error:
        spec, details = None, error.errors(include_url=False)

    unknown = [tuple(detail["loc"]) for detail in details if detail["type"] == "extra_forbidden"]
    failed = {tuple(detail["loc"]): detail for detail in details if detail["type"] != "extra_forbidden"}
    problems = [_unknown_field(document, kind, loc, strict) for loc in unknown]
    problems += _yaml11_booleans(document, kind, failed, unknown)
    problems += [_problem(document, kind, loc, explain(detail)) for loc, detail in failed.items()]

    if any(problem.severity == "error" for problem in problems):
        return None, problems
    if spec is None:
        # Only unknown fields failed: validate again without them to get the spec.
        spec = model.model_validate(_without(value, unknown))
    return spec, problems


def explain(detail: dict[str, Any]) -> str:
    """Return what is wrong with one value and what is expected instead."""
    kind, value = detail["type"], detail.get("input")
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "literal_error":
        allowed = _QUOTED.findall(detail.get("ctx", {}).get("expected", ""))
        shown = repr(value) if isinstance(value, str) else _shown(value)
        message = f"invalid value {shown}; expected {_choices(allowed)}"
        close = difflib.get_close_matches(value, allowed, n=1) if isinstance(value, str) else []
        return message + (f"; did you mean {close[0]!r}?" if close else "")
    expected = _EXPECTED.get(kind)
    if expected is None:
        return f"{detail['msg'][0].lower()}{detail['msg'][1:]}, got {_shown(value)}"
    return f"expected {expected}, got {_shown(value)}{_hint(kind, value)}"


def _hint(kind: str, value: Any) -> str:
    if value is EMPTY:
        return "; give a value or remove the key"
    if kind == "string_type" and isinstance(value, (int, float, bool, datetime.date)):
        return "; quote it to make it a string"
    if kind in ("int_type", "float_type") and isinstance(value, str):
        if kind == "float_type" and _EXPONENT.match(value.strip()):
            return "; YAML 1.1 (PyYAML) reads an exponent without a dot and a sign as text: write it like 2.4e+9, or in full"
        if _is_number(value):
            return "; remove the quotes"
    return ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _shown(value: Any) -> str:
    if value is EMPTY:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, datetime.date):
        return f"{value.isoformat()} (a date)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _choices(allowed: list[str]) -> str:
    quoted = [repr(choice) for choice in allowed]
    return quoted[0] if len(quoted) == 1 else f"one of {', '.join(quoted)}"


def _unknown_field(document: Document, kind: str, loc: Loc, strict: bool) -> Problem:
    parent = model_at(KINDS[kind], loc[:-1])
    known = list(parent.model_fields) if parent else []
    name = str(loc[-1])
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif known:
        hint = f"; expected one of {', '.join(known)}"
    else:
        hint = ""
    severity = "error" if strict else "warning"
    line, column = document.locate((kind, *loc), key=True)
    return Problem(document.path, line, column, kind, field_path(loc), f"unknown field{hint}", severity)


def _yaml11_booleans(document: Document, kind: str, failed: dict[Loc, dict[str, Any]], unknown: list[Loc]) -> list[Problem]:
    """Report each unquoted yes/no/on/off that the schema reads, in the terms of the field's type.

    A failure pydantic reported at the same place is replaced, since its message would
    only describe the boolean the word became.
    """
    problems = []
    for full_loc, word in document.yaml11_booleans.items():
        loc = full_loc[1:]
        if any(loc[: len(field)] == field for field in unknown):
            continue
        value = "true" if _value_at(document.data, full_loc) is True else "false"
        detail = failed.pop(loc, None)
        if detail is None:
            message = f"unquoted {word!r} is {value} for YAML 1.1 readers such as PyYAML, which the agents use, but a string for YAML 1.2 readers; write {value}"
        elif detail["type"] in ("string_type", "literal_error"):
            message = f"unquoted {word!r} is read as the boolean {value}, not as a string; quote it ('{word}')"
        else:
            expected = explain(detail).split(", got")[0]
            message = f"unquoted {word!r} is read as the boolean {value}; {expected}"
        problems.append(_problem(document, kind, loc, message))
    return problems


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def _without(value: Any, locs: Iterable[Loc]) -> Any:
    """Return a copy of ``value`` without the fields at ``locs``."""
    value = _copy(value)
    for loc in locs:
        parent = _value_at(value, loc[:-1])
        del parent[loc[-1]]
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _problem(document: Document, kind: str, loc: Loc, message: str, severity: str = "error") -> Problem:
    line, column = document.locate((kind, *loc))
    return Problem(document.path, line, column, kind, field_path(loc), message, severity)
