"""exec/jsonb_keys.py: jsonb hash keys are equal exactly when the documents are (=)."""
from __future__ import annotations

import pyarrow as pa

from rustmemodb import types
from rustmemodb.exec.functions.jsonb_order import sort_key
from rustmemodb.exec.jsonb_keys import hash_keys, hash_text

DOCS = ['{"a": 1.0}', '{"a": 1}', '{"a": 1.00}', '[1, 2.50]', '[1.0, 2.5]', '"1.0"', '"1"',
        '1e2', '100.0', '-0.0', '0', '[0.0000001, 1E-7]', '12345678901234567890.1230',
        '12345678901234567890.123', '1.05', '{"b": {"c": [10.10]}}', '{"b": {"c": [10.1]}}']


def test_hash_keys_equal_exactly_when_documents_are_equal():
    stored = [types.parse_json(d) for d in DOCS]
    for x in stored:
        for y in stored:
            assert (hash_text(x) == hash_text(y)) == (sort_key(x) == sort_key(y)), (x, y)


def test_a_column_without_numbers_in_doubt_is_its_own_key():
    plain = pa.array(['{"a": 1}', None, '"x.y"', '[1.5, 2.25]', '1.05'], pa.large_string())
    assert hash_keys(plain) is plain
    chunked = pa.chunked_array([plain.slice(0, 2), plain.slice(2)])
    assert hash_keys(chunked) is chunked


def test_documents_are_found_whatever_their_neighbours_and_slices():
    # a top-level 1.0 followed by a document starting with a digit, nulls, a slice
    col = pa.array(['[1]', '1.0', '5', None, '{"b": 2.50}', '"v1.0"'], pa.large_string())
    assert hash_keys(col).to_pylist() == ['[1]', '1', '5', None, '{"b": 2.5}', '"v1.0"']
    assert hash_keys(col.slice(1, 2)).to_pylist() == ['1', '5']
    assert hash_keys(pa.chunked_array([col.slice(0, 2), col.slice(2)])).to_pylist() == \
        ['[1]', '1', '5', None, '{"b": 2.5}', '"v1.0"']
    assert hash_keys(pa.scalar('[2.0]', pa.large_string())).as_py() == '[2]'
