"""Reading the pool, row by row: each reject reason, whole-file errors, and random junk never losing a row."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from labeler.data import (
    DUPLICATE_ID,
    EMPTY_TEXT,
    INVALID_JSON,
    INVALID_UTF8,
    MALFORMED_CSV,
    MISSING_FIELD,
    MISSING_ID,
    NON_STRING,
    NOT_OBJECT,
    NULL_TEXT,
    REJECT_REASONS,
    load_pool,
)
from labeler.errors import LabelerError
from tests.test_data import counts_add_up, hash_id, make_config, pool_of, rejects_of, write_csv, write_jsonl


# -- rejects ------------------------------------------------------------------------------------------
def test_every_jsonl_reject_reason_is_counted_and_written(tmp_path):
    lines = [
        b'{"id": 1, "text": "good one"}',
        b'{"id": 2, "text": "   \\n\\t "}',        # empty text
        b'{"id": 3, "text": null}',               # null text
        b'{"id": 4, "body": "no text key"}',      # missing text field
        b'{"id": 5, "text": ["a", "list"]}',      # non-string text
        b'{"id": 6, "text": true}',               # non-string text
        b'{"id": 7, "text": "caf\xe9"}',          # invalid UTF-8
        b'{"id": 8, "text": "unterminated',       # invalid JSON
        b'[1, 2]',                                # not a JSON object
        b'{"text": "no id"}',                     # missing id
        b'{"id": 1, "text": "id reused"}',        # duplicate id with different text
        b'{"id": 12, "text": 42}',                # numbers are stringified: kept
        b'',                                      # a blank line is not a row
        b'{"id": 13, "text": "\\ud800 lone surrogate"}',  # invalid UTF-8 (not encodable)
        b'{"id": 14, "text": "good one"}',        # duplicate text: collapsed
    ]
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    config = make_config(tmp_path, {"path": "d.jsonl", "id_field": "id"})
    pool = load_pool(config, use_cache=False)
    assert [(r.id, r.text, r.duplicates) for r in pool] == [("1", "good one", 2), ("12", "42", 1)]
    assert pool.rejects == {EMPTY_TEXT: 1, NULL_TEXT: 1, MISSING_FIELD: 1, NON_STRING: 2, INVALID_UTF8: 2,
                            INVALID_JSON: 1, NOT_OBJECT: 1, MISSING_ID: 1, DUPLICATE_ID: 1}
    assert pool.rows_read == 14 and counts_add_up(pool)
    entries = rejects_of(config)
    assert [e["line"] for e in entries] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14]
    assert [e["row"] for e in entries] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13]
    assert all(e["reason"] in REJECT_REASONS and e["detail"] for e in entries)
    bad_utf8 = entries[5]
    assert bad_utf8["reason"] == INVALID_UTF8 and bad_utf8["preview"] == '{"id": 7, "text": "caf\ufffd"}'
    assert entries[6]["preview"] == '{"id": 8, "text": "unterminated'


def test_csv_rejects_bad_rows_and_keeps_the_rest(tmp_path):
    data = (b"id,text,label\n"
            b"1,fine,a\n"
            b"2,caf\xe9 latin-1,a\n"      # invalid UTF-8 in the text
            b"3,,b\n"                      # empty
            b"4,too,many,cells\n"          # malformed
            b"5\n"                         # short row: no text cell
            b'6,"multi\nline, quoted",b\n'
            b"7,ok,caf\xe9\n"              # bad bytes in a column that is not read: fine
            b"\n"
            b"8,last,a")
    (tmp_path / "d.csv").write_bytes(data)
    config = make_config(tmp_path, {"path": "d.csv", "id_field": "id"})
    pool = load_pool(config, use_cache=False)
    assert [(r.id, r.text) for r in pool] == [("1", "fine"), ("6", "multi\nline, quoted"), ("7", "ok"), ("8", "last")]
    assert pool.rejects == {INVALID_UTF8: 1, EMPTY_TEXT: 1, MALFORMED_CSV: 1, MISSING_FIELD: 1}
    assert counts_add_up(pool)
    entries = rejects_of(config)
    assert [(e["row"], e["line"], e["reason"]) for e in entries] == [
        (2, 3, INVALID_UTF8), (3, 4, EMPTY_TEXT), (4, 5, MALFORMED_CSV), (5, 6, MISSING_FIELD)]
    assert entries[0]["preview"] == "2,caf\ufffd latin-1,a"


def test_parquet_values_of_other_types(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"text": pa.array([b"bytes ok", b"\xff\xfe", None, b""], pa.binary())})
    pq.write_table(table, tmp_path / "d.parquet")
    pool = pool_of(tmp_path, {"path": "d.parquet"})
    assert pool.texts == ["bytes ok"]
    assert pool.rejects == {INVALID_UTF8: 1, NULL_TEXT: 1, EMPTY_TEXT: 1}
    pq.write_table(pa.table({"text": [1.5, float("nan"), 2.0]}), tmp_path / "n.parquet")
    pool = pool_of(tmp_path, {"path": "n.parquet"})
    assert pool.texts == ["1.5", "2.0"] and pool.rejects == {NULL_TEXT: 1}


# -- whole-file errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, content", [
    ("d.csv", "id,body\n1,x\n"),
    ("d.jsonl", '{"id": 1, "body": "x"}\n'),
])
def test_a_missing_text_column_is_one_line(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    with pytest.raises(LabelerError) as info:
        pool_of(tmp_path, {"path": name})
    message = str(info.value)
    assert "\n" not in message
    assert "column(s) 'text' not found in any row" in message and "body" in message and name in message


def test_missing_id_or_label_column_is_an_error(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"text": "x"}])
    with pytest.raises(LabelerError, match="'uid' not found"):
        pool_of(tmp_path, {"path": "d.jsonl", "id_field": "uid"})
    with pytest.raises(LabelerError, match="'gold' not found"):
        pool_of(tmp_path, {"path": "d.jsonl", "label_field": "gold"})


def test_file_errors_are_one_line(tmp_path):
    for data, match in [
        ({"path": "missing.jsonl"}, "data file not found"),
        ({"path": "bad.parquet"}, "not a readable Parquet file"),
        ({"path": "empty.jsonl"}, "has no rows"),
        ({"path": "junk.jsonl"}, "no usable rows"),
        ({"path": "nodir", "format": "hf"}, "data file not found"),
        ({"path": "notds", "format": "hf"}, "not a saved Hugging Face dataset"),
    ]:
        (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
        (tmp_path / "empty.jsonl").write_text("\n\n")
        (tmp_path / "junk.jsonl").write_text("nope\n{]\n")
        (tmp_path / "notds").mkdir(exist_ok=True)
        with pytest.raises(LabelerError, match=match) as info:
            pool_of(tmp_path, data)
        assert "\n" not in str(info.value)


def test_all_rejected_still_writes_the_rejects_file(tmp_path):
    (tmp_path / "junk.jsonl").write_text("nope\n{]\n")
    config = make_config(tmp_path, {"path": "junk.jsonl"})
    with pytest.raises(LabelerError, match=r"2 invalid JSON.*rejects.jsonl"):
        load_pool(config)
    assert len(rejects_of(config)) == 2


# -- properties ---------------------------------------------------------------------------------------
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(texts, max_size=25), fmt=st.sampled_from(["jsonl", "csv"]))
def test_random_texts_round_trip_and_counts_add_up(tmp_path, values, fmt):
    name = f"d.{fmt}"
    if fmt == "jsonl":
        write_jsonl(tmp_path / name, [{"text": v} for v in values])
    else:
        write_csv(tmp_path / name, ["text"], [[v] for v in values])
    nonblank = [v for v in values if v.strip()]
    if not nonblank:
        with pytest.raises(LabelerError):
            pool_of(tmp_path, {"path": name})
        return
    pool = pool_of(tmp_path, {"path": name})
    assert pool.texts == list(dict.fromkeys(nonblank))
    assert counts_add_up(pool)
    assert pool.ids == [hash_id(v) for v in pool.texts]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(
    st.builds(lambda t: json.dumps({"text": t}).encode(), texts),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}).encode(), st.integers(0, 5), texts),
    st.binary(max_size=20),
    st.just(b'{"text": null}'),
    st.just(b'{"text": 3}'),
), min_size=1, max_size=30))
@example(lines=[b"\xef\xbb\xbf", b'{"text": "0"}'])  # a byte-order mark alone on the first line (found by hypothesis)
def test_junk_mixed_in_never_loses_a_row(tmp_path, lines):
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(lines))
    try:
        pool = pool_of(tmp_path, {"path": "d.jsonl"})
    except LabelerError:
        return  # no rows, or none usable: reported as one line
    assert counts_add_up(pool)
    data = b"\n".join(lines).removeprefix(b"\xef\xbb\xbf")  # a leading byte-order mark is no row (read_jsonl)
    assert pool.rows_read == sum(1 for line in data.split(b"\n") if line.strip())
    assert sum(1 for _ in (pool.records)) == len(set(pool.ids))
