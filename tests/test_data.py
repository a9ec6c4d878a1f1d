"""Reading the pool: every format, stable ids, duplicates, each reject reason, odd texts, the cache."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labeler.config import load_config
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
    POOL_FILE,
    REJECT_REASONS,
    REJECTS_FILE,
    Pool,
    load_pool,
    sample_rows,
)
from labeler.errors import LabelerError

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
ODD_TEXTS = ["emoji 🎉🙂 ok", "中文文本，日本語のテキスト", "עברית מימין לשמאל", "العربية", "line one\nline two",
             'quotes " and , commas', "tab\there", "x" * 30]


def make_config(tmp_path: Path, data: dict, labels=("a", "b"), multi_label=False, **sections):
    raw = {"data": data, "task": {"labels": list(labels), "multi_label": multi_label}, **sections}
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def pool_of(tmp_path, data: dict, **kwargs) -> Pool:
    return load_pool(make_config(tmp_path, data, **kwargs), use_cache=False)


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path: Path, header, rows, delimiter=",") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)  # "\r\n" endings: fields holding \r or \n get quoted
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def rejects_of(config) -> list[dict]:
    return [json.loads(line) for line in (config.project.dir / REJECTS_FILE).read_text(encoding="utf-8").splitlines()]


def hash_id(*fields: str) -> str:
    return "h:" + hashlib.sha1("\x1f".join(fields).encode("utf-8")).hexdigest()[:16]


def counts_add_up(pool: Pool) -> bool:
    return len(pool) + sum(pool.rejects.values()) + pool.collapsed == pool.rows_read


ROWS = [{"id": i, "text": t, "label": "a" if i % 2 else "b"} for i, t in enumerate(ODD_TEXTS)]


# -- formats ------------------------------------------------------------------------------------------
def expected_records():
    return [(str(r["id"]), r["text"], r["label"]) for r in ROWS]


def test_jsonl(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", ROWS)
    pool = pool_of(tmp_path, {"path": "d.jsonl", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label) for r in pool] == expected_records()
    assert pool.rows_read == len(ROWS) and pool.rejects == {} and pool.collapsed == 0


def test_csv_and_tsv(tmp_path):
    for name, delimiter in (("d.csv", ","), ("d.tsv", "\t")):
        write_csv(tmp_path / name, ["id", "text", "label"], [[r["id"], r["text"], r["label"]] for r in ROWS], delimiter)
        pool = pool_of(tmp_path, {"path": name, "id_field": "id", "label_field": "label"})
        assert [(r.id, r.text, r.label) for r in pool] == expected_records()
        assert [r.row for r in pool] == list(range(1, len(ROWS) + 1))


def test_json_array(tmp_path):
    (tmp_path / "d.json").write_text(json.dumps(ROWS + [7], ensure_ascii=False), encoding="utf-8")
    pool = pool_of(tmp_path, {"path": "d.json", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label) for r in pool] == expected_records()
    assert pool.rejects == {NOT_OBJECT: 1}


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    pool = pool_of(tmp_path, {"path": "d.parquet", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label) for r in pool] == expected_records()


def test_saved_hf_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "ds"))
    pool = pool_of(tmp_path, {"path": "ds", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label) for r in pool] == expected_records()
    # a DatasetDict with one split is read; several splits need a choice
    datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS)}).save_to_disk(str(tmp_path / "one"))
    assert len(pool_of(tmp_path, {"path": "one"})) == len(ROWS)
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_list(ROWS), "test": datasets.Dataset.from_list(ROWS)})
    dd.save_to_disk(str(tmp_path / "two"))
    with pytest.raises(LabelerError, match=r"holds splits \['test', 'train'\]; point data.path at one split"):
        pool_of(tmp_path, {"path": "two"})


def test_format_can_be_forced(tmp_path):
    write_jsonl(tmp_path / "d.txt", ROWS)
    with pytest.raises(LabelerError, match="set data.format"):
        pool_of(tmp_path, {"path": "d.txt"})
    assert len(pool_of(tmp_path, {"path": "d.txt", "format": "jsonl"})) == len(ROWS)


# -- ids and duplicates -------------------------------------------------------------------------------
def test_hash_ids_are_stable_and_documented(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"text": "hello"}, {"text": "world"}])
    first = pool_of(tmp_path, {"path": "d.jsonl"})
    assert first.ids == [hash_id("hello"), hash_id("world")]
    assert first.ids == ["h:aaf4c61ddcc5e8a2", "h:7c211433f0207159"]
    write_jsonl(tmp_path / "d.jsonl", [{"text": "world", "extra": 1}, {"text": "hello"}])
    assert pool_of(tmp_path, {"path": "d.jsonl"}).ids == [hash_id("world"), hash_id("hello")]


def test_id_values_become_strings(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"id": 7, "text": "a"}, {"id": "x-1", "text": "b"}, {"id": 3.0, "text": "c"},
                                       {"id": " y ", "text": "d"}])
    assert pool_of(tmp_path, {"path": "d.jsonl", "id_field": "id"}).ids == ["7", "x-1", "3", "y"]


def test_exact_duplicates_collapse_with_a_count(tmp_path):
    rows = [{"id": 1, "text": "same"}, {"id": 2, "text": "other"}, {"id": 3, "text": "same"}, {"id": 1, "text": "same"}]
    write_jsonl(tmp_path / "d.jsonl", rows)
    pool = pool_of(tmp_path, {"path": "d.jsonl", "id_field": "id"})
    assert [(r.id, r.text, r.duplicates) for r in pool] == [("1", "same", 3), ("2", "other", 1)]
    assert pool.collapsed == 2 and pool.rejects == {} and counts_add_up(pool)


def test_duplicate_id_with_different_text_keeps_the_first(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "first"}, {"id": 1, "text": "second"}])
    config = make_config(tmp_path, {"path": "d.jsonl", "id_field": "id"})
    pool = load_pool(config, use_cache=False)
    assert [(r.id, r.text) for r in pool] == [("1", "first")]
    assert pool.rejects == {DUPLICATE_ID: 1}
    [entry] = rejects_of(config)
    assert entry == {"row": 2, "line": 2, "reason": DUPLICATE_ID, "detail": "id '1' was first used at row 1",
                     "preview": '{"id": 1, "text": "second"}', "id": "1"}


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


# -- texts --------------------------------------------------------------------------------------------
def test_a_one_megabyte_text_is_kept_whole_and_flagged(tmp_path):
    big = ("word " * 210_000)[:1_050_000]
    write_jsonl(tmp_path / "d.jsonl", [{"text": big}, {"text": "short"}])
    write_csv(tmp_path / "d.csv", ["text"], [[big], ["short"]])
    for name in ("d.jsonl", "d.csv"):
        pool = pool_of(tmp_path, {"path": name, "max_chars": 20_000})
        assert pool[0].text == big and pool[0].too_long and not pool[1].too_long


def test_several_text_fields(tmp_path):
    rows = [{"subject": "Invoice", "body": "Charged twice"}, {"subject": "", "body": "No subject"},
            {"body": "Subject key absent"}, {"subject": None, "body": None}, {"subject": " ", "body": ""},
            {"other": 1}, {"subject": "S", "body": 5}]
    write_jsonl(tmp_path / "d.jsonl", rows)
    pool = pool_of(tmp_path, {"path": "d.jsonl", "text_fields": ["subject", "body"]})
    assert pool.texts == ["subject: Invoice\nbody: Charged twice", "body: No subject", "body: Subject key absent",
                          "subject: S\nbody: 5"]
    assert pool[1].fields == {"subject": "", "body": "No subject"}
    assert pool[2].fields == {"subject": "", "body": "Subject key absent"}
    assert pool.rejects == {NULL_TEXT: 1, EMPTY_TEXT: 1, MISSING_FIELD: 1}
    assert pool[0].id == hash_id("Invoice", "Charged twice")


def test_truth_labels(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"text": "x", "labels": ["a", "b"]}, {"text": "y", "labels": []},
                                       {"text": "z", "labels": "a"}, {"text": "w", "labels": None}])
    pool = pool_of(tmp_path, {"path": "d.jsonl", "label_field": "labels"}, labels=["a", "b"], multi_label=True)
    assert [r.labels for r in pool] == [["a", "b"], [], ["a"], None]
    assert all(r.label is None for r in pool)
    pool = pool_of(tmp_path, {"path": "d.jsonl", "label_field": "labels"})
    assert [r.label for r in pool] == [None, None, "a", None]


# -- pool file and cache ------------------------------------------------------------------------------
def test_pool_round_trips_through_parquet(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"s": "a", "b": "x", "y": ["l1"]}, {"s": "a", "b": "x"}, {"s": "", "b": "🎉"}])
    config = make_config(tmp_path, {"path": "d.jsonl", "text_fields": ["s", "b"], "label_field": "y"},
                         labels=["l1"], multi_label=True)
    pool = load_pool(config)
    loaded = Pool.load(config.project.dir / POOL_FILE)
    assert loaded.records == pool.records
    assert (loaded.rows_read, loaded.rejects, loaded.text_fields) == (pool.rows_read, pool.rejects, ["s", "b"])
    assert loaded.index == {r.id: i for i, r in enumerate(pool.records)}


def test_the_cache_is_used_until_the_file_or_settings_change(tmp_path, monkeypatch):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "one"}])
    config = make_config(tmp_path, {"path": "d.jsonl"})
    assert load_pool(config).texts == ["one"]
    import labeler.data

    calls = []
    real = labeler.data.read_pool
    monkeypatch.setattr(labeler.data, "read_pool", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert load_pool(config).texts == ["one"] and calls == []
    write_jsonl(path, [{"text": "one"}, {"text": "two"}])
    assert load_pool(config).texts == ["one", "two"] and calls == [1]
    config.data.max_chars = 2
    assert all(r.too_long for r in load_pool(config)) and calls == [1, 1]
    (config.project.dir / POOL_FILE).write_bytes(b"damaged")
    assert len(load_pool(config)) == 2 and calls == [1, 1, 1]


def test_twenty_thousand_texts_load_fast(tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"ticket number {i} about something"} for i in range(20_000)])
    config = make_config(tmp_path, {"path": "d.jsonl", "id_field": "id"})
    start = time.perf_counter()
    pool = load_pool(config)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    assert len(load_pool(config)) == 20_000
    warm = time.perf_counter() - start
    assert len(pool) == 20_000 and cold < 10 and warm < 5


def test_sample_rows_for_init(tmp_path):
    write_csv(tmp_path / "d.csv", ["subject", "body"], [["s1", "b1"], ["s2", "b2"]])
    assert sample_rows(tmp_path / "d.csv", n=1) == (["subject", "body"], [{"subject": "s1", "body": "b1"}])


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
def test_junk_mixed_in_never_loses_a_row(tmp_path, lines):
    (tmp_path / "d.jsonl").write_bytes(b"\n".join(lines))
    try:
        pool = pool_of(tmp_path, {"path": "d.jsonl"})
    except LabelerError:
        return  # no rows, or none usable: reported as one line
    assert counts_add_up(pool)
    assert pool.rows_read == sum(1 for line in b"\n".join(lines).split(b"\n") if line.strip())
    assert sum(1 for _ in (pool.records)) == len(set(pool.ids))


# -- shared data sets ---------------------------------------------------------------------------------
def test_ag_news_from_shared_datasets(tmp_path):
    path = (SHARED / "datasets" / "ag_news" / "test_all.jsonl").resolve()
    if not path.exists():
        pytest.skip(f"shared data set not found at {path} (../shared is absent in this checkout)")
    pool = pool_of(tmp_path, {"path": str(path), "id_field": "id", "label_field": "label"},
                   labels=["World", "Sports", "Business", "Sci/Tech"])
    assert len(pool) == 7600 and pool.rejects == {} and pool.collapsed == 0
    assert {r.label for r in pool} == {"World", "Sports", "Business", "Sci/Tech"}


def test_the_demo_corpus_loads_with_the_demo_config(tmp_path):
    config = load_config(Path(__file__).resolve().parents[1] / "configs" / "demo.yaml",
                         [f"project.dir={tmp_path / 'state'}"])
    if not config.data.path.exists():
        pytest.skip(f"demo corpus not found at {config.data.path}")
    pool = load_pool(config, use_cache=False)
    assert len(pool) > 100 and pool.rejects == {}
    assert {r.label for r in pool} == set(config.label_names)
