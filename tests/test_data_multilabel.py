"""Multi-label truth from a messy label column (issue 23 item 5): lists mixed with strings, empty lists, labels
outside the config, separators the reader knows and one it does not; every odd cell counted by kind and
named in the pool's one-line summary, no row lost."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from labeler.data.multilabel import (EMPTY_LIST, LEFT_EMPTY, NOT_LABELS, OUTSIDE, UNKNOWN_SEPARATOR, LabelNotes,
                                     parse_labels)
from labeler.data import load_pool
from tests.test_data import counts_add_up, make_config, pool_of, write_csv, write_jsonl

LABELS = ["billing", "refund", "shipping", "card arrival"]


def test_parse_labels_by_hand():
    notes = LabelNotes()
    assert parse_labels(["billing", "refund"], LABELS, notes) == ["billing", "refund"]
    assert parse_labels([], LABELS, notes) == []
    assert parse_labels("refund", LABELS, notes) == ["refund"]
    assert parse_labels("card arrival", LABELS, notes) == ["card arrival"]  # a config label with a space: kept whole
    assert parse_labels("billing|refund", LABELS, notes) == ["billing", "refund"]
    assert parse_labels("billing; shipping", LABELS, notes) == ["billing", "shipping"]
    assert parse_labels('["refund", "weather"]', LABELS, notes) == ["refund"]  # JSON text; weather dropped
    assert parse_labels("billing/refund", LABELS, notes) is None  # unknown separator: no truth
    assert parse_labels(["weather"], LABELS, notes) == []  # nothing left: "None of these"
    assert parse_labels([["billing"]], LABELS, notes) is None
    assert parse_labels(None, LABELS, notes) is None and parse_labels("  ", LABELS, notes) is None
    assert parse_labels(["billing", "billing"], LABELS, notes) == ["billing"]
    assert parse_labels("weather", None, notes) == ["weather"]  # no config labels: nothing dropped
    assert (notes[EMPTY_LIST], notes[UNKNOWN_SEPARATOR], notes[NOT_LABELS], notes[OUTSIDE], notes[LEFT_EMPTY]) == \
        (1, 1, 1, 2, 1)
    assert notes.example == "billing/refund"


def test_a_jsonl_column_mixing_lists_strings_and_bad_cells_loads_with_one_line_naming_each_count(tmp_path):
    cells = [["billing"], [], "refund", "billing|shipping", ["refund", "weather"], ["weather", "sports"],
             "billing/refund", [{"a": 1}], None, ["shipping", "billing"], '["card arrival"]']
    rows = [{"id": f"r{i}", "text": f"text {i}", "labels": cell} for i, cell in enumerate(cells)]
    rows.append({"id": "r-no-column", "text": "no label key"})
    data = {"path": str(write_jsonl(tmp_path / "ml.jsonl", rows)), "id_field": "id", "label_field": "labels"}
    pool = pool_of(tmp_path, data, labels=LABELS, multi_label=True)
    assert counts_add_up(pool) and len(pool) == 12 and pool.rejects == {}  # labels never reject a row
    assert [r.labels for r in pool.records] == [
        ["billing"], [], ["refund"], ["billing", "shipping"], ["refund"], [], None, None, None,
        ["shipping", "billing"], ["card arrival"], None]
    assert pool.summary() == (
        "12 records from 12 rows (0 duplicates collapsed; rejected: none; 0 over max_chars); held-back labels: "
        "4 strings among lists (read as a JSON list, one label, or split at | ; ,); 1 empty lists (the answer "
        "'None of these'); 1 with a separator the reader does not know, e.g. 'billing/refund' (no truth; use a "
        "list or | between labels); 1 not a list of labels (no truth); 3 labels outside task.labels dropped in "
        "2 rows, leaving 1 rows with none ('None of these')")


def test_a_csv_of_separated_labels_is_quiet_and_an_unknown_separator_is_named(tmp_path):
    path = write_csv(tmp_path / "ml.csv", ["id", "text", "labels"],
                     [["1", "one", "billing|refund"], ["2", "two", "shipping"], ["3", "three", '["refund"]'],
                      ["4", "four", "[]"], ["5", "five", "refund + billing"], ["6", "six", ""]])
    pool = pool_of(tmp_path, {"path": str(path), "id_field": "id", "label_field": "labels"}, labels=LABELS,
                   multi_label=True)
    assert [r.labels for r in pool.records] == [["billing", "refund"], ["shipping"], ["refund"], [], None, None]
    assert pool.summary().endswith(
        "held-back labels: 1 empty lists (the answer 'None of these'); 1 with a separator the reader does not "
        "know, e.g. 'refund + billing' (no truth; use a list or | between labels)")


def test_a_parquet_list_column_with_empty_lists_and_the_notes_survive_the_pool_cache(tmp_path):
    path = tmp_path / "ml.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["x", "y", "z"],
                             "labels": pa.array([["billing"], [], ["refund", "weather"]], pa.list_(pa.string()))}),
                   path)
    config = make_config(tmp_path, {"path": str(path), "id_field": "id", "label_field": "labels"}, labels=LABELS,
                         multi_label=True)
    pool = load_pool(config)
    assert [r.labels for r in pool.records] == [["billing"], [], ["refund"]]
    line = ("held-back labels: 1 empty lists (the answer 'None of these'); 1 labels outside task.labels dropped in "
            "1 rows")
    assert pool.summary().endswith(line)
    assert load_pool(config).summary().endswith(line)  # read back from pool.parquet
