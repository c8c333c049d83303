"""Reading one YAML file safely, keeping the line and column of every value.

PyYAML (with libyaml) only composes the file into nodes here; the nodes are turned into
plain Python values by ``_construct`` below, which is what makes the file safe to read:

* no tags other than YAML's own (so ``!!python/object`` cannot run code);
* no aliases (so "billion laughs" cannot blow the size up);
* duplicate keys are errors, not silently overwritten;
* size and nesting are bounded (libyaml itself stops at 1,000 levels);
* only ``true`` and ``false`` are booleans, as in YAML 1.2 (``no`` is the text "no").

msgspec then checks the values against the Structs in ``questionnaires.schema``; its errors name
a ``$.path``, which ``Source.location`` maps back to the file, line and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from .diagnostics import Location

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 40
MAX_NODES = 200_000

_STANDARD_TAG = "tag:yaml.org,2002:"
# The only node types a questionnaire file may hold: plain data, nothing that builds objects.
_PLAIN_KINDS = frozenset({"map", "seq", "str", "int", "float", "bool", "null", "timestamp"})
_INT = re.compile(r"^[-+]?[0-9_]+$")

YamlPath: TypeAlias = tuple[str | int, ...]
"""Where a value is in its file: the keys and list indices that lead to it from the top."""

Mark: TypeAlias = tuple[int, int, int]
"""A node's line and column (1-based), and the offset of its text after an opening quote
(1 when quoted, 0 when plain, -1 for anything else: there, offsets are not exact)."""


class SourceError(Exception):
    def __init__(self, location: Location, message: str):
        self.location = location
        self.message = message
        super().__init__(f"{location}: error: {message}")


class Source:
    """A loaded file: its plain Python value plus the place of every node in it."""

    def __init__(self, name: str, text: str, value: Any, marks: dict[YamlPath, Mark]):
        self.name = name
        self.text = text
        self.value = value
        self._marks = marks  # path -> (line, column, quote offset), 1-based

    def location(self, path: YamlPath = ()) -> Location:
        """The place of the value at ``path``, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path not in self._marks and path:
            path = path[:-1]
        line, column, _ = self._marks.get(path, (1, 1, 0))
        return Location(self.name, line, column)

    def location_in(self, path: YamlPath, offset: int) -> Location:
        """The place of character ``offset`` inside the string scalar at ``path``.

        Exact for strings written on one line; for block scalars, points at the string.
        """
        path = tuple(path)
        if path not in self._marks:
            return self.location(path)
        line, column, quote = self._marks[path]
        lines = self.text.splitlines()
        if quote >= 0 and line - 1 < len(lines):
            return Location(self.name, line, column + quote + offset)
        return Location(self.name, line, column)


def read_text(path: Path, display: str) -> str:
    """The UTF-8 text of the file at ``path``; raises SourceError naming it ``display``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(Location(display), "file not found") from None
    except IsADirectoryError:
        raise SourceError(Location(display), "is a directory, not a YAML file") from None
    except OSError as exc:
        raise SourceError(Location(display), f"cannot read the file ({exc.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SourceError(
            Location(display),
            f"file is {len(data):,} bytes; questionnaire files are limited to {MAX_BYTES:,}",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SourceError(
            Location(display, line, column),
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def load_source(path: Path, display: str | None = None) -> Source:
    """The file at ``path`` read and parsed; raises SourceError with a location."""
    display = display or str(path)
    return parse_source(read_text(path, display), display)


def parse_source(text: str, name: str) -> Source:
    """The YAML ``text`` of file ``name`` parsed; raises SourceError with a location."""
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise SourceError(Location(name), "the file is empty")
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in str(exc):
            problem = "the file is nested too deeply"
        raise SourceError(location, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourceError(Location(name), f"YAML syntax error: {exc}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise SourceError(Location(name), "the file is empty")
    if len(documents) > 1:
        raise SourceError(
            _mark(name, documents[1]), "a file holds one YAML document; remove the second '---'"
        )
    marks: dict[YamlPath, Mark] = {}
    builder = _Builder(name, marks)
    value = builder.construct(documents[0], (), 0)
    return Source(name, text, value, marks)


def _mark(name: str, node: yaml.Node) -> Location:
    return Location(name, node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, name: str, marks: dict[YamlPath, Mark]):
        self.name = name
        self.marks = marks
        self.seen: set[int] = set()
        self.count = 0

    def construct(self, node: yaml.Node, path: YamlPath, depth: int) -> Any:
        if id(node) in self.seen:
            raise SourceError(
                self.where(path), "YAML aliases (*name) are not allowed; write the value out"
            )
        self.seen.add(id(node))
        self.count += 1
        if self.count > MAX_NODES:
            raise SourceError(_mark(self.name, node), "the file has too many values")
        if depth > MAX_DEPTH:
            raise SourceError(_mark(self.name, node), "the file is nested too deeply")
        tag = node.tag or ""
        kind = tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else None
        if kind not in _PLAIN_KINDS:
            raise SourceError(_mark(self.name, node), f"YAML tags such as '{tag}' are not allowed")
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, yaml.MappingNode):
            self.marks[path] = (line, column, -1)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise SourceError(_mark(self.name, key_node), "keys must be plain text")
                if key_node.tag == _STANDARD_TAG + "merge":
                    raise SourceError(_mark(self.name, key_node), "YAML merge keys (<<) are not allowed")
                key = key_node.value
                if key in result:
                    raise SourceError(_mark(self.name, key_node), f"duplicate key '{key}'")
                self.marks[path + (key,)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    -1,
                )
                result[key] = self.construct(value_node, path + (key,), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            self.marks[path] = (line, column, -1)
            return [
                self.construct(item, path + (i,), depth + 1) for i, item in enumerate(node.value)
            ]
        if not isinstance(node, yaml.ScalarNode):  # composing makes no other kind of node
            raise AssertionError(f"unexpected YAML node {node!r}")
        # A scalar: keep its own position, so that errors inside expressions can point into it.
        quote = 1 if node.style in ("'", '"') else (0 if not node.style else -1)
        if node.start_mark.line != node.end_mark.line:
            quote = -1
        self.marks[path] = (line, column, quote)
        return self.scalar(kind, node, path)

    def scalar(self, kind: str, node: yaml.ScalarNode, path: YamlPath) -> Any:
        text = node.value
        if kind == "str" or kind == "timestamp":
            return text
        if kind == "null":
            return None
        if kind == "bool":
            # YAML 1.2 booleans only: `no`, `yes`, `on` and `off` stay text, so that option
            # ids such as `no` and `yes` mean what they say.
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            return text
        if kind == "int":
            cleaned = text.replace("_", "")
            if not _INT.match(text) or len(cleaned) > 30:
                raise SourceError(_mark(self.name, node), f"'{text}' is not a plain whole number")
            return int(cleaned)
        if kind == "float":
            try:
                return float(text.replace("_", ""))
            except ValueError:
                raise SourceError(_mark(self.name, node), f"'{text}' is not a number") from None
        raise SourceError(_mark(self.name, node), f"values of type '{kind}' are not allowed")

    def where(self, path: YamlPath) -> Location:
        while path and path not in self.marks:
            path = path[:-1]
        line, column, _ = self.marks.get(path, (1, 1, 0))
        return Location(self.name, line, column)
