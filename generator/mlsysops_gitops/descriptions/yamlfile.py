"""Strict YAML reading that can locate every value by line and column.

PyYAML's C composer builds the node tree, and this module turns nodes into plain Python
values itself. That way it can reject what ``yaml.safe_load`` silently accepts: duplicate
keys (PyYAML keeps the last one), keys that are not strings, aliases that expand
exponentially, nesting deep enough to overflow libyaml's C stack, and several documents
in one file. YAML 1.1 booleans such as ``yes`` and ``off`` are recorded for the schema
check, which knows whether the field expects a string or a boolean. Numbers that YAML 1.1
and YAML 1.2 readers read differently (``010``, ``0x10``, ``1:30``, ``4_0``, ``0o10``)
are rejected unquoted.

Line numbers cost nothing on the happy path: a ``Document`` composes its text again
only when a problem has to be located, instead of keeping every node of every file.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlsysops_gitops.errors import Problem

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover (PyYAML built without libyaml)
    _Loader = yaml.SafeLoader

# Every value built counts, each alias expansion included. A node description has about
# a hundred values, so a file past this limit is an alias bomb, not a description.
MAX_VALUES = 100_000
# Descriptions nest about six levels deep. The builder recurses once per level.
MAX_DEPTH = 64
# libyaml's C composer recurses once per level too and crashed the interpreter past about
# 20,000 levels with an 8 MiB stack (PyYAML 6.0.3). Each level needs one of these
# characters, so a file with fewer of them is composed without measuring its depth first.
_NESTING_CHARACTERS = "[{-?:"
_UNMEASURED_NESTING = 1000

# PyYAML resolves these plain scalars to booleans (YAML 1.1); YAML 1.2 parsers read them
# as strings, so one file would mean two things depending on the reader.
YAML11_BOOLEANS = frozenset(
    spelling for word in ("yes", "no", "on", "off") for spelling in (word, word.capitalize(), word.upper())
)
_TRUE = frozenset(("true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"))
_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + name for name in ("str", "int", "float", "bool", "null"))
_MERGE = _TAG + "merge"
# Scalar types SafeLoader builds; !!map or !!seq on a scalar would build an empty collection.
_SCALAR_TAGS = frozenset(_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "binary"))
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
# Plain scalars PyYAML reads as strings but YAML 1.2 readers as numbers: 0o10 (octal in
# YAML 1.2 only) and decimals with a leading zero that are no YAML 1.1 octal, such as 09.
_YAML12_ONLY_NUMBER = re.compile(r"0o[0-7]+|[-+]?0[0-9]+")
_SIGNED_ZERO = frozenset("+-0")

Loc = tuple[str | int, ...]


_TAG_PHRASES = {_INT: "an integer", _FLOAT: "a number", _BOOL: "a boolean", _NULL: "null", _TAG + "timestamp": "a date", _TAG + "binary": "binary data"}
_TYPE_PHRASES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a mapping", list: "a list", type(None): "nothing"}


def type_phrase(value: Any) -> str:
    """Name the type of a value built from YAML for a message: ``5`` is "an integer"."""
    return _TYPE_PHRASES.get(type(value), f"a {type(value).__name__}")


def field_path(loc: Loc) -> str:
    """Return ``loc`` as a field path: ``("sensors", 0, "camera")`` becomes ``sensors[0].camera``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = part
    return path


@dataclasses.dataclass
class Document:
    """A parsed file: its value, its normalised text and where it has YAML 1.1 booleans."""

    path: str
    text: str
    data: Any = None
    yaml11_booleans: dict[Loc, str] = dataclasses.field(default_factory=dict)
    _root: Node | None = dataclasses.field(default=None, repr=False)

    def locate(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Return the line and column of the value at ``loc``, or of its closest existing parent.

        A scalar or flow value is located where it starts, so that a message points at
        the bad value. A block mapping or list and an empty value are located at their
        key or list item, which names them, and so is any value when ``key`` is true.
        """
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=_Loader)
        node: Node | None = self._root
        mark = node.start_mark if node is not None else None
        for part in loc:
            child = _child(node, part)
            if child is None:
                return _position(mark)
            name, node = child
            mark = name.start_mark
        if not key and node is not None and (node.flow_style if not isinstance(node, ScalarNode) else node.value or node.style):
            mark = node.start_mark
        return _position(mark)


def _position(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)


def _child(node: Node | None, part: str | int) -> tuple[Node, Node] | None:
    """Return the node that names ``part`` inside ``node`` (a key, or the item) and its value."""
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return key, value
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


class _TooManyValues(Exception):
    """Aliases expanded past ``MAX_VALUES``; ``loc`` is where the count ran out, ``alias`` the outermost alias expanding there."""

    def __init__(self, loc: Loc, alias: Loc | None) -> None:
        super().__init__(loc)
        self.loc = loc
        self.alias = alias


class _Reject(Exception):
    """A problem that stops reading the file."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        super().__init__(message)
        self.line, self.column = mark.line + 1, mark.column + 1
        self.message = message


def decode(raw: bytes) -> str:
    """Decode UTF-8, dropping a byte-order mark and turning CRLF and CR line ends into LF."""
    text = raw.decode("utf-8-sig")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_document(
    path: str,
    raw: bytes,
    *,
    kind: str = "",
    empty: Any = None,
    optional: bool = False,
    drop_tags: frozenset[str] = frozenset(),
    yaml11_numbers: bool = False,
) -> tuple[Document | None, list[Problem]]:
    """Parse one file; on failure return no document and the problems found.

    ``kind`` names the problems' subject; ``empty`` is the value built for a YAML null,
    so that a schema can reject ``key:`` with nothing after it. When ``optional`` is true,
    an empty or comment-only file is a document whose data is None instead of a problem.
    Scalars tagged with one of ``drop_tags`` (``!vault``) are left out with their key.
    ``yaml11_numbers`` accepts number forms only YAML 1.1 reads (010, 1:30), for files
    that only PyYAML-based tools such as Ansible read.
    """

    def problem(line: int, column: int, message: str, field: str = "") -> Problem:
        return Problem(path, line, column, kind, field, message)

    try:
        text = decode(raw)
    except UnicodeDecodeError as error:
        return None, [problem(raw[: error.start].count(b"\n") + 1, 1, _encoding_message(raw, error))]

    tabs = [match.start() for match in _TAB_INDENT.finditer(text)]
    if tabs:
        others = f" (and on {len(tabs) - 1} more lines)" if len(tabs) > 1 else ""
        line = text.count("\n", 0, tabs[0]) + 1
        return None, [problem(line, 1, f"tab character in indentation{others}; YAML indents with spaces only")]

    try:
        _check_depth(text)
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [problem(line, column, f"invalid YAML: {error.problem or error}")]
    except yaml.reader.ReaderError as error:
        # Raised for a NUL or other control character, with an offset instead of a mark.
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        return None, [problem(line, column, f"character 0x{code:02x} at offset {error.position}: control characters are not allowed in YAML; remove it")]
    except _Reject as reject:
        return None, [problem(reject.line, reject.column, reject.message)]

    if not nodes or (len(nodes) == 1 and _is_null(nodes[0])):
        if optional:
            return Document(path, text), []
        return None, [problem(1, 1, "file is empty or holds only comments; expected one description")]
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        return None, [problem(mark.line + 1, mark.column + 1, f"file holds {len(nodes)} YAML documents; expected exactly one (remove the '---' separators)")]

    document = Document(path, text)
    builder = _Builder(document, empty, drop_tags, check_numbers=not yaml11_numbers)
    try:
        document.data = builder.build(nodes[0], (), 0)
    except _Reject as reject:
        return None, [problem(reject.line, reject.column, reject.message)]
    except _TooManyValues as error:
        # Aliases share nodes, so a node's own mark is where its anchor is, maybe far from
        # the alias that expanded it: the parser's events still hold the alias's place.
        mark = _alias_mark(text, error.alias) if error.alias is not None else None
        if mark is not None and error.alias is not None:
            line, column, field = mark.line + 1, mark.column + 1, field_path(error.alias[1:] if error.alias[:1] == (kind,) else error.alias)
        else:
            (line, column), field = document.locate(error.loc[:2], key=True), field_path(error.loc[1:2])
        message = f"aliases expand to more than {MAX_VALUES} values; write the values out instead of nesting aliases"
        return None, [problem(line, column, message, field)]
    if builder.problems:
        return None, [problem(line, column, message, field) for line, column, field, message in builder.problems]
    return document, []


def _alias_mark(text: str, target: Loc) -> yaml.Mark | None:
    """Return where the alias whose value sits at ``target`` is written, or None."""
    open_: list[_Open] = []
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionEndEvent):
            open_.pop()
            if open_:
                open_[-1].advance()
            continue
        if not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
            continue
        parent = open_[-1] if open_ else None
        if parent is not None and parent.expects_key:
            parent.key = event.value if isinstance(event, yaml.ScalarEvent) else None
            parent.expects_key = False
            if isinstance(event, yaml.CollectionStartEvent):  # A key that is a collection has no path.
                open_.append(_Open(None, isinstance(event, yaml.MappingStartEvent)))
            continue
        loc = parent.child() if parent is not None else ()
        if isinstance(event, yaml.AliasEvent) and loc == target:
            return event.start_mark
        if isinstance(event, yaml.CollectionStartEvent):
            open_.append(_Open(loc, isinstance(event, yaml.MappingStartEvent)))
        elif parent is not None:
            parent.advance()
    return None


@dataclasses.dataclass
class _Open:
    """A collection being read by ``_alias_mark``: its path (None inside a key) and its next entry."""

    loc: Loc | None
    mapping: bool
    key: str | None = None
    index: int = 0
    expects_key: bool = True

    def __post_init__(self) -> None:
        self.expects_key = self.mapping

    def child(self) -> Loc | None:
        if self.loc is None or (self.mapping and self.key is None):
            return None
        return (*self.loc, self.key if self.mapping else self.index)  # type: ignore[misc]

    def advance(self) -> None:
        if self.mapping:
            self.expects_key = True
        else:
            self.index += 1


def _encoding_message(raw: bytes, error: UnicodeDecodeError) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    byte = raw[error.start]
    return f"file is not valid UTF-8 (byte 0x{byte:02x} at offset {error.start}); save it as UTF-8"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _check_depth(text: str) -> None:
    """Raise ``_Reject`` when values nest deeper than ``MAX_DEPTH``, before libyaml composes them.

    libyaml's parser keeps its own stack, so streaming events measures any depth safely.
    """
    if sum(text.count(character) for character in _NESTING_CHARACTERS) <= _UNMEASURED_NESTING:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Reject(event.start_mark, _depth_message())
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        # Newer libyaml builds stop at their own nesting limit while scanning ahead,
        # before the parser emits the event that crosses ours.
        if "nesting depth" in str(error.problem) and error.problem_mark is not None:
            raise _Reject(error.problem_mark, _depth_message()) from error
        raise


def _depth_message() -> str:
    return f"values nest deeper than {MAX_DEPTH} levels; a description nests a few levels only"


class _Builder:
    """Turns a node tree into dicts, lists and scalars, collecting what it must reject."""

    def __init__(self, document: Document, empty: Any, drop_tags: frozenset[str] = frozenset(), *, check_numbers: bool = True) -> None:
        self.document = document
        self.empty = empty
        self.drop_tags = drop_tags
        self.check_numbers = check_numbers
        self.built = 0
        # Collections being built, to catch an alias inside the value it names (&a [*a]).
        self.open: set[int] = set()
        self.expanded: set[int] = set()
        self.alias: Loc | None = None
        self.problems: list[tuple[int, int, str, str]] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: Node, loc: Loc, depth: int) -> Any:
        self.built += 1
        if self.built > MAX_VALUES:
            raise _TooManyValues(loc, self.alias)
        if depth > MAX_DEPTH:
            raise _Reject(node.start_mark, _depth_message())
        kind = type(node)
        if kind is ScalarNode:
            return self._scalar(node, loc)
        if id(node) in self.open:
            raise _Reject(node.start_mark, "an alias refers to a value that contains the alias itself; write the values out")
        self.open.add(id(node))
        # A collection built before is an alias; the outermost one is where a bomb shows.
        outermost_alias = self.alias is None and id(node) in self.expanded
        if outermost_alias:
            self.alias = loc
        try:
            if kind is MappingNode:
                value: Any = self._mapping(node, loc, depth)
            elif kind is SequenceNode and node.tag == _TAG + "seq":
                value = [self.build(item, (*loc, index), depth + 1) for index, item in enumerate(node.value) if not self._dropped(item)]
            else:
                raise _Reject(node.start_mark, _tag_message(node))
        finally:
            self.open.discard(id(node))
        self.expanded.add(id(node))
        if outermost_alias:
            self.alias = None
        return value

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        if node.tag != _TAG + "map":
            raise _Reject(node.start_mark, _tag_message(node))
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, loc)
            if key is None or self._dropped(value_node):
                continue
            line = key_node.start_mark.line + 1
            if key in first_line:
                self._problem(key_node, (*loc, key), f"duplicate key {key!r} (first on line {first_line[key]}); keep one")
                continue
            first_line[key] = line
            result[key] = self.build(value_node, (*loc, key), depth + 1)
        return result

    def _dropped(self, node: Node) -> bool:
        return bool(self.drop_tags) and type(node) is ScalarNode and node.tag in self.drop_tags

    def _key(self, node: Node, loc: Loc) -> str | None:
        if type(node) is not ScalarNode:
            self._problem(node, loc, "a mapping key is itself a mapping or list; keys are field names")
            return None
        if node.tag == _MERGE:
            raise _Reject(node.start_mark, "merge keys (<<) are not supported; write the keys out")
        if node.tag != _STR:
            value = node.value
            reader = "a YAML 1.1 boolean" if value in YAML11_BOOLEANS else _TAG_PHRASES.get(node.tag, f"a {node.tag.rsplit(':', 1)[-1]}")
            self._problem(node, loc, f"key {value!r} is read as {reader}, not a field name; quote it ('{value}')")
            return None
        return str(node.value)

    def _scalar(self, node: ScalarNode, loc: Loc) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR:
            if not node.style and value[:1] in _SIGNED_ZERO and self.check_numbers and _YAML12_ONLY_NUMBER.fullmatch(value):
                self._problem(node, loc, _yaml12_number_message(value))
            return value
        if tag == _NULL:
            return self.empty
        if tag == _BOOL:
            # libyaml gives plain scalars the style '', the pure-Python parser None.
            if not node.style and value in YAML11_BOOLEANS:
                self.document.yaml11_booleans[loc] = value
            return value in _TRUE
        # Plain decimal numbers, by far the most common, skip SafeConstructor's slow path.
        if tag == _INT and value.isdigit() and (value[0] != "0" or value == "0"):
            return int(value)
        if not node.style and tag in (_INT, _FLOAT) and self.check_numbers and _is_yaml11_number(tag, value):
            number = self.constructor.construct_object(node)
            self._problem(node, loc, _yaml11_number_message(value, number))
            return number
        if tag == _FLOAT and value[-1:].isdigit():
            try:
                return float(value)
            except ValueError:
                pass  # Sexagesimal (1:30.5) and other YAML 1.1 forms below.
        if tag not in _SCALAR_TAGS:
            raise _Reject(node.start_mark, _tag_message(node))
        try:
            return self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as error:
            raise _Reject(node.start_mark, f"cannot read {value!r} as {tag.rsplit(':', 1)[-1]}: {error}") from None

    def _problem(self, node: Node, loc: Loc, message: str) -> None:
        mark = node.start_mark
        self.problems.append((mark.line + 1, mark.column + 1, field_path(loc[1:]), message))


def _is_yaml11_number(tag: str, value: str) -> bool:
    """Whether PyYAML reads ``value`` as a number in a form YAML 1.2 readers read otherwise.

    Octal with a leading zero (010), 0x and 0b prefixes, base 60 (1:30) and digit
    separators (4_0) are YAML 1.1 forms; a YAML 1.2 reader reads 10 or a string.
    """
    digits = value.lstrip("+-")
    leading_zero = tag == _INT and len(digits) > 1 and digits[0] == "0"
    return leading_zero or "_" in digits or ":" in digits


def _yaml11_number_message(value: str, number: Any) -> str:
    return (
        f"unquoted {value!r} is the number {number} for YAML 1.1 readers such as PyYAML, which the agents use, "
        f"but YAML 1.2 readers may read another number or a string; write {number}, or quote it ('{value}') to keep it as text"
    )


def _yaml12_number_message(value: str) -> str:
    digits = value.lstrip("+-")
    number = int(digits[2:], 8) if digits.startswith("0o") else int(value)
    return (
        f"unquoted {value!r} is a string for YAML 1.1 readers such as PyYAML, which the agents use, "
        f"but the number {number} for YAML 1.2 readers; quote it ('{value}') to keep it as text, or write {number}"
    )


def _tag_message(node: Node) -> str:
    return f"unsupported YAML tag {node.tag!r}; descriptions hold plain mappings, lists and scalars"
