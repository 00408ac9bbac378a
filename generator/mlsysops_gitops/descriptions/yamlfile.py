"""Strict YAML reading that keeps the line and column of every value.

PyYAML's C composer builds the node tree; this module turns nodes into plain Python
values itself, so that it can report what ``yaml.safe_load`` silently accepts:
duplicate keys (PyYAML keeps the last one), unquoted YAML 1.1 booleans such as ``yes``
and ``off``, aliases that expand exponentially, several documents in one file.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import yaml

from mlsysops_gitops.errors import Problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader

# Every node visited counts, aliases included; a hand-written description has a few
# hundred, so a file past this limit is an alias bomb, not a description.
MAX_NODES = 100_000

_YAML11_BOOLEANS = frozenset(
    spelling
    for word in ("yes", "no", "on", "off", "y", "n")
    for spelling in (word, word.capitalize(), word.upper())
)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)

Path = tuple[str | int, ...]


@dataclasses.dataclass
class Document:
    """A parsed file: its value, its normalised text and where each value sits."""

    path: str
    text: str
    data: Any = None
    marks: dict[Path, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def locate(self, loc: Path) -> tuple[int, int]:
        """Return the line and column of ``loc``, or of its closest located parent."""
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), (1, 1))


class _Reject(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def decode(raw: bytes) -> str:
    """Decode UTF-8, dropping a byte-order mark and turning CRLF into LF."""
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


def read_document(path: str, raw: bytes) -> tuple[Document | None, list[Problem]]:
    """Parse one file; on failure return no document and the problems that stopped it."""
    try:
        text = decode(raw)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [Problem(path, line, 1, message=f"file is not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); save it as UTF-8")]

    document = Document(path, text)
    tab = _TAB_INDENT.search(text)
    if tab:
        line = text.count("\n", 0, tab.start()) + 1
        return None, [Problem(path, line, 1, message="tab character in indentation; YAML indents with spaces only")]

    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        reason = error.problem or str(error)
        return None, [Problem(path, line, column, message=f"invalid YAML: {reason}")]

    if not nodes or nodes == [None]:
        return None, [Problem(path, 1, 1, message="file is empty or holds only comments; expected one description")]
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        return None, [Problem(path, mark.line + 1, mark.column + 1, message=f"file holds {len(nodes)} YAML documents; expected exactly one")]

    builder = _Builder(document)
    try:
        document.data = builder.build(nodes[0], ())
    except _Reject as reject:
        return None, [Problem(path, reject.line, reject.column, message=reject.message)]
    return document, []


class _Builder:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, loc: Path) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            mark = node.start_mark
            raise _Reject(mark.line + 1, mark.column + 1, f"aliases expand to more than {MAX_NODES} values; write the values out instead of nesting aliases")
        self.document.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Path) -> dict[Any, Any]:
        if node.tag != _MAP_TAG:
            self._reject_tag(node)
        result: dict[Any, Any] = {}
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                mark = key_node.start_mark
                raise _Reject(mark.line + 1, mark.column + 1, "merge keys (<<) are not supported; write the keys out")
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                raise _Reject(mark.line + 1, mark.column + 1, "mapping keys must be plain scalars")
            key = self._scalar(key_node)
            line = key_node.start_mark.line + 1
            if key in first_seen:
                raise _Reject(line, key_node.start_mark.column + 1, f"duplicate key {key!r} (first defined on line {first_seen[key]}); keep one")
            first_seen[key] = line
            child = (*loc, key)
            self.document.marks[child] = (line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child)
        return result

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _BOOL_TAG and node.style is None and node.value in _YAML11_BOOLEANS:
            mark = node.start_mark
            raise _Reject(mark.line + 1, mark.column + 1, f"unquoted {node.value!r} is a YAML 1.1 boolean; write true or false for a boolean, or quote it ('{node.value}') for a string")
        if not node.tag.startswith("tag:yaml.org,2002:") or node.tag in (_MAP_TAG, _SEQ_TAG):
            self._reject_tag(node)
        return self.constructor.construct_object(node, deep=True)

    @staticmethod
    def _reject_tag(node: yaml.Node) -> None:
        mark = node.start_mark
        raise _Reject(mark.line + 1, mark.column + 1, f"unsupported YAML tag {node.tag!r}; descriptions hold plain mappings, lists and scalars")
