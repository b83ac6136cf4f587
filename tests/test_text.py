import codecs

import pytest

from grader.text import UnreadableText, decode_bytes, normalize, sentence_spans, tokenize


@pytest.mark.parametrize("data, expected, encoding", [
    ("Stakhanov’s quota".encode("utf-8"), "Stakhanov’s quota", "utf-8"),
    (codecs.BOM_UTF8 + "café".encode("utf-8"), "café", "utf-8-sig"),
    ("Five-Year Plan — quotas".encode("utf-16"), "Five-Year Plan — quotas", "utf-16"),
    ("quotas and norms".encode("utf-16-le"), "quotas and norms", "utf-16-le"),
    (b"\x93Life has become better\x94 \x96 Stalin", "“Life has become better” – Stalin", "cp1252"),
    ("Müller's façade".encode("latin-1"), "Müller's façade", "cp1252"),
])
def test_decode_bytes_handles_common_encodings(data, expected, encoding):
    assert decode_bytes(data) == (expected, encoding)


@pytest.mark.parametrize("data", [b"\x00\x01\x02\x03binary\x00\xff\x10", bytes(range(0, 32)) * 20, b"PK\x03\x04\x00\x00\x08\x00"])
def test_decode_bytes_rejects_binary(data):
    with pytest.raises(UnreadableText):
        decode_bytes(data)


def test_normalize_quotes_dashes_and_whitespace():
    raw = "\u201cLife\u201d\u00a0has \u2014 become\t\tbetter\u2026\r\n\r\n\r\n\u2018joyous\u2019\u200b  "
    assert normalize(raw) == "\"Life\" has - become better...\n\n'joyous'"


def test_tokenize_splits_negated_contractions_and_keeps_offsets():
    text = "Workers didn't meet Stakhanov's quotas"
    tokens = tokenize(text)
    assert [t.word for t in tokens] == ["workers", "did", "not", "meet", "stakhanov", "quotas"]
    assert all(text[t.start:t.end].lower().startswith(t.word[:3]) or t.word == "not" for t in tokens)


def test_content_words_drop_function_words_and_map_numbers():
    assert [t.stem for t in tokenize("The 5-year plan and the quotas") if t.is_content] == ["five", "year", "plan", "quota"]


def test_sentence_spans_split_sentences_and_list_items():
    text = "First point. Second point!\n- third item\n- fourth item"
    assert [text[a:b].strip() for a, b in sentence_spans(text)] == ["First point.", "Second point!", "- third item", "- fourth item"]
