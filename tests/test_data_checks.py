"""Data checks a new user meets on day one (issue 24): labels outside the config, a file's encoding, texts too
long for the annotator's screen, a label column with many values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from labeler.config import load_config
from labeler.data import load_pool
from labeler.data.label_checks import labels_outside
from labeler.errors import LabelerError


def _config(tmp_path: Path, data: dict, labels=("billing", "shipping"), multi_label=False, **sections):
    raw = {"data": data, "task": {"labels": list(labels), "multi_label": multi_label},
           "signals": [{"type": "keywords", "params": {"keywords": {labels[0]: ["invoice"]}}}],
           "project": {"dir": str(tmp_path / "state")}, **sections}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- labels outside the config -------------------------------------------------------------------------
def test_bootstrap_counts_the_rows_whose_label_is_not_in_the_config(tmp_path):
    from labeler.cli.bootstrap import command

    labels = ["billing"] * 4 + ["shipping"] * 3 + ["biling"] * 2 + ["retired_intent"] * 3 + [None]
    _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"ticket {i}", "intent": lab} for i, lab in enumerate(labels)])
    cfg = _config(tmp_path, {"path": "d.jsonl", "id_field": "id", "label_field": "intent"})
    result = CliRunner().invoke(command, ["-c", str(cfg), "-q"])
    assert result.exit_code == 0, result.output
    assert ("5 rows carry labels outside the config: 'retired_intent' (3), 'biling' (2, did you mean 'billing'?); "
            "held out of simulate/demo answers") in result.stdout.splitlines()


def test_a_blank_label_cell_is_no_label_not_a_label_outside_the_config(tmp_path):
    """A CSV's empty label cells (most rows of a new project) are rows without a label, as `labeler init
    --labels-from` counts them; before, bootstrap read them as the label '' and named it outside the config."""
    from labeler.cli.bootstrap import command

    (tmp_path / "d.csv").write_text("id,text,intent\n1,refund my invoice,billing\n2,where is my parcel,\n"
                                    "3,parcel lost,shipping\n4,card declined,  \n", encoding="utf-8")
    cfg = _config(tmp_path, {"path": "d.csv", "id_field": "id", "label_field": "intent"})
    result = CliRunner().invoke(command, ["-c", str(cfg), "-q"])
    assert result.exit_code == 0, result.output
    assert "outside the config" not in result.output
    pool = load_pool(load_config(cfg))
    assert [r.label for r in pool.records] == ["billing", None, "shipping", None]


def test_multi_label_rows_with_an_unknown_label_are_counted_once():
    from types import SimpleNamespace as R

    records = [R(label=None, labels=["a", "zz"]), R(label=None, labels=["zz", "yy", "zz"]), R(label=None, labels=["b"]),
               R(label=None, labels=None), R(label=None, labels=[])]
    out = labels_outside(records, ["a", "b"], multi_label=True)
    assert (out.rows, dict(out.values)) == (2, {"zz": 2, "yy": 1})
    assert out.line() == ("2 rows carry labels outside the config: 'zz' (2), 'yy' (1); those labels are dropped "
                          "from simulate/demo answers")
    assert labels_outside(records[2:], ["a", "b"], True).line() is None
    many = [R(label=f"x{i}", labels=None) for i in range(8)]
    assert labels_outside(many, ["a", "b"], False).line(shown=2) == (
        "8 rows carry labels outside the config: 'x0' (1), 'x1' (1) and 6 more values; held out of simulate/demo answers")


# -- data.encoding --------------------------------------------------------------------------------------
def test_a_latin1_file_names_data_encoding_and_reads_with_it(tmp_path):
    (tmp_path / "d.csv").write_bytes("id,text\n1,café crème\n2,plain\n3,Grüße aus Köln\n".encode("latin-1"))
    pool = load_pool(load_config(_config(tmp_path, {"path": "d.csv", "id_field": "id"})), use_cache=False)
    assert pool.ids == ["2"] and pool.rejects == {"invalid UTF-8": 2}
    assert "rejected: 2 invalid UTF-8 - set data.encoding to the file's encoding, e.g. latin-1;" in pool.summary()
    detail = json.loads((tmp_path / "state" / "rejects.jsonl").read_text().splitlines()[0])["detail"]
    assert detail == ("column(s) text hold bytes that are not UTF-8 (set data.encoding if the file has another "
                      "encoding, e.g. latin-1)")
    pool = load_pool(load_config(_config(tmp_path, {"path": "d.csv", "id_field": "id", "encoding": "latin-1"})))
    assert pool.texts == ["café crème", "plain", "Grüße aus Köln"] and pool.rejects == {}
    (tmp_path / "d.jsonl").write_bytes('{"id": 1, "text": "naïve"}\n'.encode("cp1252"))
    pool = load_pool(load_config(_config(tmp_path, {"path": "d.jsonl", "id_field": "id", "encoding": "cp1252"})))
    assert pool.texts == ["naïve"]
    with pytest.raises(LabelerError, match="unknown encoding 'latin-9000'"):
        load_config(_config(tmp_path, {"path": "d.csv", "encoding": "latin-9000"}))


def test_a_binary_file_under_a_text_name_is_one_line(tmp_path):
    import pandas as pd

    pd.DataFrame({"id": ["1"], "text": ["hello"]}).to_parquet(tmp_path / "d.csv")  # Parquet named .csv
    with pytest.raises(LabelerError) as info:
        load_pool(load_config(_config(tmp_path, {"path": "d.csv", "id_field": "id"})), use_cache=False)
    assert str(info.value) == f"{tmp_path / 'd.csv'} is a Parquet file, not CSV text: name it .parquet (or set data.format)"
    (tmp_path / "e.csv").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00,\xd0\n\x03\x00,\x01\n")  # an executable's bytes
    with pytest.raises(LabelerError) as info:
        load_pool(load_config(_config(tmp_path, {"path": "e.csv"})), use_cache=False)
    assert str(info.value) == (f"{tmp_path / 'e.csv'}: its first line is no header of column names (binary data, "
                               "or another format than csv?); column(s) 'text' not found")


# -- long texts, cut for the annotator ------------------------------------------------------------------
def test_a_text_over_max_chars_reaches_the_annotator_cut_with_a_marker(tmp_path):
    from labeler.argilla.push import PushRecord, cut_for_annotator, to_argilla
    from labeler.loop.round import dataset_spec

    huge = "invoice " + "lorem ipsum dolor " * 111_111  # 2,000,006 characters
    _jsonl(tmp_path / "d.jsonl", [{"id": "huge", "text": huge}, {"id": "short", "text": "where is my parcel"}])
    config = load_config(_config(tmp_path, {"path": "d.jsonl", "id_field": "id"}, argilla={"dataset": "cut"}))
    pool = load_pool(config)
    assert pool.texts[0] == huge  # the pool keeps it whole
    spec = dataset_spec(config, [], None)
    shown = [to_argilla(PushRecord(id=r.id, fields=r.fields, value="billing", score=0.9, agent="a"), spec).fields["text"]
             for r in pool.records]
    assert shown[1] == "where is my parcel"
    assert shown[0].endswith(" … [cut: 2,000,006 characters, the first 1,999 shown; the full text stays in the pool]")
    assert shown[0].startswith("invoice lorem ipsum") and len(shown[0]) < 2_100
    assert cut_for_annotator("x" * 30, 20, 10) == "xxxxxxxxxx … [cut: 30 characters, the first 10 shown; the full text stays in the pool]"
    assert cut_for_annotator("x" * 20, 20, 10) == "x" * 20 and cut_for_annotator("y" * 99, None, 10) == "y" * 99


# -- labeler init --labels-from with many values --------------------------------------------------------
READ_LINE = "the models read 'text' (guessed from the first rows; --text-field to choose); ids from 'id'"


def test_init_takes_a_named_label_column_with_many_values_with_a_warning(tmp_path):
    from labeler.cli.init import command
    from labeler.config.starter import labels_from_column

    intents = [f"intent_{i % 117}" for i in range(201)]  # 117 distinct values in 201 rows, as on day one
    data = _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"text {i}", "intent": v} for i, v in enumerate(intents)])
    found = labels_from_column(data, "intent")
    assert len(found.labels) == 117
    assert found.warning == ("warning: 117 distinct values in 201 labeled rows (33 seen once); taken as the labels "
                             "since you named 'intent'. Check the list in the config for typos and values that are "
                             "not labels")
    result = CliRunner().invoke(command, [str(data), "--labels-from", "intent", "-o", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["found 117 labels in column 'intent' of 201 rows", found.warning, READ_LINE]
    assert len(load_config(tmp_path / "c.yaml").label_names) == 117
    _jsonl(tmp_path / "t.jsonl", [{"text": f"unique text {i}"} for i in range(60)])  # nothing repeats: still refused
    with pytest.raises(LabelerError, match=re.escape("holds 60 distinct values in 60 rows: not a label column")):
        labels_from_column(tmp_path / "t.jsonl", "text")


def test_init_warns_of_a_label_value_that_looks_like_a_typo_of_another(tmp_path):
    from labeler.cli.init import command

    intents = ["card_arrival"] * 5 + ["card_arival"] + ["Refund"] * 3 + ["refund"] + ["exchange_rate"] * 4 + ["exchange_via_app"] * 2
    intents += ["h_request_info"] * 9 + ["b_request_info"]  # a namespace: other words, not a typo
    data = _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"text {i}", "intent": v} for i, v in enumerate(intents)])
    result = CliRunner().invoke(command, [str(data), "--labels-from", "intent", "-o", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "found 8 labels in column 'intent' of 26 rows",
        "warning: label 'card_arival' (1 row) looks like 'card_arrival' (5 rows); a typo? fix the data or drop it "
        "from task.labels",
        "warning: label 'refund' (1 row) looks like 'Refund' (3 rows); a typo? fix the data or drop it from task.labels",
        READ_LINE]


def test_init_on_a_file_that_is_not_utf8_writes_the_encoding_it_guessed(tmp_path):
    from labeler.cli.init import command
    from labeler.data.encoding import guess_encoding

    data = tmp_path / "d.csv"
    data.write_bytes("id,text,label\n1,café crème “quoted”,food\n2,plain,other\n".encode("cp1252"))
    result = CliRunner().invoke(command, [str(data), "--labels-from", "label", "-o", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1] == (f"warning: {data} is not valid UTF-8; wrote data.encoding: cp1252 (check "
                                             "the texts, e.g. with `labeler bootstrap`, and change it if they look wrong)")
    config = load_config(tmp_path / "c.yaml")
    assert config.data.encoding == "cp1252" and load_pool(config).texts == ["café crème “quoted”", "plain"]
    (tmp_path / "l.csv").write_bytes("text\nx\x81y\n".encode("latin-1"))  # 0x81: undefined in cp1252
    (tmp_path / "u.jsonl").write_text('{"text": "naïve"}\n', encoding="utf-8")
    assert (guess_encoding(tmp_path / "l.csv"), guess_encoding(tmp_path / "u.jsonl")) == ("latin-1", "utf-8")
    (tmp_path / "u.yaml").unlink(missing_ok=True)
    CliRunner().invoke(command, [str(tmp_path / "u.jsonl"), "--labels", "a,b", "-o", str(tmp_path / "u.yaml")])
    assert "  encoding: utf-8  " in (tmp_path / "u.yaml").read_text()


def test_simulate_says_which_rows_it_leaves_out_in_its_header(tmp_path):
    from labeler.cli.simulate import command

    labels = ["billing"] * 8 + ["shipping"] * 8 + ["biling"] * 2 + ["old_intent"]
    _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"ticket {i}", "intent": lab} for i, lab in enumerate(labels)])
    cfg = _config(tmp_path, {"path": "d.jsonl", "id_field": "id", "label_field": "intent"})
    # --seeds 0 (no seed) stops at its one-line error right after the header: no model is loaded
    result = CliRunner().invoke(command, ["-c", str(cfg), "--seeds", "0", "-q"])
    assert result.stdout.splitlines()[0] == ("3 rows carry labels outside the config: 'biling' (2, did you mean "
                                             "'billing'?), 'old_intent' (1); held out of simulate/demo answers")
    assert result.exit_code == 1 and "needs at least one strategy and one seed" in str(result.exception)


def test_simulate_says_how_many_records_it_leaves_out_for_want_of_a_label(tmp_path):
    from labeler.cli.simulate import command

    rows = [{"id": i, "text": f"{'invoice refund' if i % 2 else 'parcel lost'} number {i}",
             "intent": (["shipping", "billing"][i % 2] if i < 24 else None)} for i in range(30)]
    _jsonl(tmp_path / "d.jsonl", rows)
    cfg = _config(tmp_path, {"path": "d.jsonl", "id_field": "id", "label_field": "intent"})
    result = CliRunner().invoke(command, ["-c", str(cfg), "--rounds", "1", "--seeds", "1", "--batch-size", "4",
                                          "--strategy", "random", "-o", str(tmp_path / "sim")])
    assert result.exit_code == 0, result.output
    assert "6 of 30 records have no label in 'intent': left out (simulate needs the truth to answer)" in result.output


def test_labels_that_differ_only_in_case_and_spacing_are_one_label_written_twice_at_any_counts():
    from labeler.data.label_checks import look_alikes

    counts = {"Billing, invoices": 8, "billing,  Invoices": 8, "card_arrival": 37, "card_arival": 1,
              "card_arrival_late": 20, "intent_1": 9, "intent_11": 1}
    assert look_alikes(counts) == [("billing,  Invoices", "Billing, invoices"), ("card_arival", "card_arrival")]


def test_labels_that_are_codes_without_words_are_a_warning_in_init_and_bootstrap(tmp_path):
    from types import SimpleNamespace

    from labeler.cli.bootstrap import data_lines
    from labeler.cli.init import command
    from labeler.data.label_checks import wordless_labels

    label = lambda name, description=None: SimpleNamespace(name=name, description=description)  # noqa: E731
    codes = [label(str(i)) for i in range(7)]
    warning = ("warning: 7 of 8 labels are codes with no words ('0', '1', '2', '3', '4' and 2 more): the zero-shot "
               "signals read each label's name and description, so give each a description (task.labels: - {name: "
               "'0', description: 'one sentence on what belongs here'})")
    assert wordless_labels(codes + [label("billing")], ["embedding"]) == warning
    assert wordless_labels([label("0", "the bill is wrong"), label("B-2", "a parcel is late")], ["nli"]) is None
    assert wordless_labels(codes, ["keywords"]) is None  # rules read their own patterns, not the label names
    assert wordless_labels([label("card_arrival"), label("Ärger")], ["embedding"]) is None
    data = _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"text {i}", "label": i % 2} for i in range(20)])
    result = CliRunner().invoke(command, [str(data), "--labels-from", "label", "-o", str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    one = ("warning: 2 of 2 labels are codes with no words ('0', '1'): the zero-shot signals read each label's name "
           "and description, so give each a description (task.labels: - {name: '0', description: 'one sentence on "
           "what belongs here'})")
    assert result.stderr.splitlines()[-1] == one
    config = load_config(tmp_path / "c.yaml")
    assert data_lines(config, load_pool(config)) == [one]


def test_bootstrap_says_how_it_reads_texts_past_the_models_token_limit(tmp_path):
    from labeler.cli.bootstrap import command

    memo = "The board met to discuss the budget and the invoice backlog. " * 3  # 48 word pieces with "(i)"
    _jsonl(tmp_path / "d.jsonl", [{"id": i, "text": f"{memo}({i})" if i < 2 else f"ticket {i}"} for i in range(5)])
    cfg = _config(tmp_path, {"path": "d.jsonl", "id_field": "id"},
                  signals=[{"type": "embedding", "params": {"max_seq_length": 16}}])
    result = CliRunner().invoke(command, ["-c", str(cfg), "-q"])
    assert result.exit_code == 0, result.output
    assert ("embedding: 2 of 5 texts are longer than the model's 16 word pieces (median 50): read whole, about "
            "4.0 windows each") in result.stdout.splitlines()
