"""A small, bounded XML reader built on expat (security.md S1, T03-T06).

It rejects any DOCTYPE (so no entity, internal or external, is ever declared), caps depth,
element count, attribute count and text length, and builds a minimal tree. XML::Simple on
both Perl ends merges attributes and child elements into one hash, so readers of this tree
use :meth:`Node.value` which looks at both (protocol.md §1.4).

Two readers give the same tree. The usual one lets ElementTree's C tree builder (expat
underneath) build the document and then checks the limits on the result: a full Unix
agent inventory (7,600 elements) costs about a third of a Python callback per expat event
(bench/README.md, "Where the time goes"). It is used only when a byte scan proves it
safe: no DOCTYPE or ENTITY declaration in an ASCII-compatible document, and too few
element ends for the element cap to matter, so nothing large is ever built. Every other
document goes through the streaming builder, which checks each limit as it reads.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from operator import attrgetter
from xml.parsers import expat

from ocelot.protocol.collector import collector_paused
from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS, Limits

# The Unix agent strips these before sending (protocol.md §1.4); other agents may not.
# They are never part of a multi-byte UTF-8 sequence, so removing them is safe for the
# ASCII-compatible encodings agents declare. Removed with bytes.translate: a regular
# expression took ten times as long over an inventory's 320 KB (1.7 ms).
_CONTROL = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# A declaration may only come before the root element, so the bytes of a document in an
# ASCII-compatible encoding hold these literally when it declares anything. expat reads
# UTF-8, UTF-16, ASCII and Latin-1 itself and, through Python's codecs, only single-byte
# encodings (multi-byte ones such as UTF-7 are refused), so the scan cannot be fooled by an
# encoded "<" once UTF-16 (a BOM) is sent to the streaming builder.
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_TAIL = attrgetter("tail")


class Node:
    """One element: tag, attributes, text (stripped) and children in document order.

    The fast reader keeps the children of an element that are all plain leaves (no
    attributes, no children of their own: the fields of a section row, most of an
    inventory's 7,600 elements) as (tag, text) pairs, made Nodes only when ``children``
    is asked for; :meth:`fields` and :meth:`value` read the pairs. A Node per field cost
    about a third of reading an inventory (bench/README.md, "Where the time goes").
    """

    __slots__ = ("_children", "_leaves", "attrib", "tag", "text")
    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __init__(
        self,
        tag: str,
        attrib: dict[str, str] | None = None,
        children: list[Node] | None = None,
        text: str = "",
    ) -> None:
        self.tag = tag
        self.attrib = {} if attrib is None else attrib
        self._children = [] if children is None else children
        self._leaves: list[tuple[str, str]] | None = None
        self.text = text

    @property
    def children(self) -> list[Node]:
        if self._leaves is not None:
            self._children = [Node(tag, {}, [], text) for tag, text in self._leaves]
            self._leaves = None
        return self._children

    @children.setter
    def children(self, children: list[Node]) -> None:
        self._children, self._leaves = children, None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return (self.tag, self.attrib, self.text, self.children) == (
            other.tag,
            other.attrib,
            other.text,
            other.children,
        )

    def __repr__(self) -> str:
        fields = f"tag={self.tag!r}, attrib={self.attrib!r}, children={self.children!r}, text={self.text!r}"
        return f"Node({fields})"

    def find_all(self, tag: str) -> list[Node]:
        return [child for child in self.children if child.tag == tag]

    def find(self, tag: str) -> Node | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def value(self, name: str) -> str | None:
        """An attribute or a child element's text, XML::Simple style (attribute first)."""
        if name in self.attrib:
            return self.attrib[name]
        if self._leaves is not None:
            for tag, text in self._leaves:
                if tag == name:
                    return text
            return None
        child = self.find(name)
        if child is None:
            return None
        return child.text

    def fields(self) -> dict[str, str]:
        """Attributes and leaf children merged, as XML::Simple's hash would be."""
        merged = dict(self.attrib)
        if self._leaves is not None:
            for tag, text in self._leaves:
                if tag not in merged:
                    merged[tag] = text
            return merged
        for child in self._children:
            # A child's own pairs tell it is no leaf: no need to make them Nodes.
            if not child._leaves and not child._children and not child.attrib and child.tag not in merged:
                merged[child.tag] = child.text
        return merged


class _Builder:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stack: list[Node] = []
        self.texts: list[list[str]] = []
        self.text_sizes: list[int] = []
        self.root: Node | None = None
        self.count = 0

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > self.limits.max_elements:
            raise TooLargeError("too_many_elements", "the document has too many elements")
        if len(self.stack) >= self.limits.max_depth:
            raise ProtocolError("too_deep", "the document is nested too deeply")
        if len(attrs) > self.limits.max_attributes:
            raise ProtocolError("too_many_attributes", "an element has too many attributes")
        if len(tag) > self.limits.max_name or any(len(name) > self.limits.max_name for name in attrs):
            raise ProtocolError("name_too_long", "an element or attribute name is too long")
        for value in attrs.values():
            if len(value) > self.limits.max_text:
                raise TooLargeError("value_too_long", "an attribute value is too long")
        node = Node(tag, dict(attrs))
        if self.stack:
            self.stack[-1].children.append(node)
        elif self.root is None:
            self.root = node
        self.stack.append(node)
        self.texts.append([])
        self.text_sizes.append(0)

    def end(self, tag: str) -> None:
        node = self.stack.pop()
        node.text = "".join(self.texts.pop()).strip()
        self.text_sizes.pop()

    def data(self, text: str) -> None:
        if not self.stack:
            return
        self.text_sizes[-1] += len(text)
        if self.text_sizes[-1] > self.limits.max_text:
            raise TooLargeError("value_too_long", "a field value is too long")
        self.texts[-1].append(text)


def _refuse_doctype(*_args: object) -> None:
    raise ProtocolError("doctype", "document type declarations are not accepted")


def _parse_streaming(data: bytes, limits: Limits) -> Node:
    builder = _Builder(limits)
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype  # type: ignore[assignment]
    with _parse_errors():
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.Parse(data, True)
    if builder.root is None:
        raise ProtocolError("bad_xml", "the document has no root element")
    return builder.root


@contextmanager
def _parse_errors() -> Iterator[None]:
    """Turns what expat and Python's codecs raise into ProtocolError."""
    try:
        yield
    except (expat.ExpatError, ElementTree.ParseError) as exc:
        raise ProtocolError(
            "bad_xml", f"the XML is not well-formed ({expat.errors.messages[exc.code]})"
        ) from exc
    except (LookupError, ValueError) as exc:
        # pyexpat asks Python's codecs for a declared encoding it does not know itself:
        # an unknown name, a non-text codec (rot13) or a multi-byte one (shift_jis, utf-7).
        raise ProtocolError("bad_encoding", "the XML declares an encoding this server does not read") from exc
    except RecursionError as exc:  # pragma: no cover - depth is capped first
        raise ProtocolError("too_deep", "the document is nested too deeply") from exc


def _fast_path_is_safe(data: bytes, limits: Limits) -> bool:
    if data.startswith(_UTF16_BOMS) or any(marker in data for marker in _DECLARATIONS):
        return False
    # Every element starts with "<", so their count bounds the element count (one pass
    # over the document; end tags and comments count too, which only makes it safer).
    return data.count(b"<") <= limits.max_elements


def _parse_tree(data: bytes, limits: Limits) -> Node:
    with _parse_errors():
        element = ElementTree.fromstring(data)
    max_depth, max_text, max_name = limits.max_depth, limits.max_text, limits.max_name

    def check_attributes(attrib: dict[str, str]) -> None:
        if len(attrib) > limits.max_attributes:
            raise ProtocolError("too_many_attributes", "an element has too many attributes")
        for name, value in attrib.items():
            if len(name) > max_name:
                raise ProtocolError("name_too_long", "an element or attribute name is too long")
            if len(value) > max_text:
                raise TooLargeError("value_too_long", "an attribute value is too long")

    def text_of(source: ElementTree.Element) -> str:
        text = source.text or ""
        if len(source):
            # Text after a child belongs to this element too, as the streaming builder reads it.
            # Mapped in C: a Python generator per section row cost a tenth of the reading.
            text += "".join(filter(None, map(_TAIL, source)))
        if len(text) > max_text:
            raise TooLargeError("value_too_long", "a field value is too long")
        return text.strip()

    if len(element.tag) > max_name:
        raise ProtocolError("name_too_long", "an element or attribute name is too long")
    if element.attrib:
        check_attributes(element.attrib)
    root = Node(element.tag, element.attrib, [], text_of(element))
    # Depth first with an explicit stack: a deep document cannot exhaust Python's stack.
    # Most elements are leaves (the fields of a section row): they are finished in place,
    # as (tag, text) pairs while every child of their parent is a plain leaf (Node).
    stack: list[tuple[ElementTree.Element, Node, int]] = [(element, root, 1)]
    while stack:
        source, node, depth = stack.pop()
        if depth >= max_depth and len(source):
            raise ProtocolError("too_deep", "the document is nested too deeply")
        leaves: list[tuple[str, str]] = []
        children: list[Node] | None = None  # once a child is not a plain leaf
        for child in source:
            # The checks are written out here: a function call per element cost about a
            # tenth of the reading (7,600 elements per inventory).
            tag, attrib = child.tag, child.attrib
            if len(tag) > max_name:
                raise ProtocolError("name_too_long", "an element or attribute name is too long")
            if attrib:
                check_attributes(attrib)
            if len(child):
                target = Node(tag, attrib, [], text_of(child))
                stack.append((child, target, depth + 1))
            else:
                text = child.text
                if text:
                    if len(text) > max_text:
                        raise TooLargeError("value_too_long", "a field value is too long")
                    text = text.strip()
                else:
                    text = ""
                if children is None and not attrib:
                    leaves.append((tag, text))
                    continue
                target = Node(tag, attrib, [], text)
            if children is None:
                children = [Node(leaf, {}, [], value) for leaf, value in leaves]
            children.append(target)
        if children is None:
            node._leaves = leaves
        else:
            node._children = children
    return root


def parse_xml(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Node:
    """Parse XML bytes into a :class:`Node` tree, or raise ProtocolError."""
    if not data.startswith(_UTF16_BOMS):
        data = data.translate(None, _CONTROL)
    # The tree has no cycles: the collector's passes over it are wasted (collector.py).
    with collector_paused():
        if _fast_path_is_safe(data, limits):
            return _parse_tree(data, limits)
        return _parse_streaming(data, limits)


_SPECIAL = re.compile(r"[&<>\r]")
_SPECIAL_IN_ATTRIBUTE = re.compile(r"[&<>\r\"\n\t]")


def _escape(text: str, quote: bool) -> str:
    if (_SPECIAL_IN_ATTRIBUTE if quote else _SPECIAL).search(text) is None:
        return text  # most values: nothing to replace, six scans spared
    # A parser turns a raw CR (or CR LF) into LF everywhere, and a raw tab or newline inside
    # an attribute into a space (XML 1.0 §2.11, §3.3.3): those go out as character references.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if quote:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


@lru_cache(maxsize=4096)
def _escape_attribute(value: str) -> str:
    # Replies repeat the same attribute values (a PROLOG announcing 50 packages carries the
    # same locations 50 times): remembered, they cost a dictionary lookup.
    return _escape(value, True)


def serialize(node: Node, indent: int = 0) -> str:
    """Serialize a tree the way XML::Simple would (children on their own lines)."""
    pad = "  " * indent
    attrs = "".join([f' {name}="{_escape_attribute(value)}"' for name, value in node.attrib.items()])
    if not node.children and not node.text:
        return f"{pad}<{node.tag}{attrs} />\n"
    if not node.children:
        return f"{pad}<{node.tag}{attrs}>{_escape(node.text, False)}</{node.tag}>\n"
    inner = "".join(serialize(child, indent + 1) for child in node.children)
    return f"{pad}<{node.tag}{attrs}>\n{inner}{pad}</{node.tag}>\n"


def to_document(node: Node) -> bytes:
    """A complete UTF-8 document with an XML declaration."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + serialize(node)).encode("utf-8")
