"""``write_starter_config``: field guessing, a commented file that ``load_config`` accepts, no overwrite."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from labeler.config import Config, load_config
from labeler.errors import LabelerError
from labeler.config.starter import labels_from_column, write_starter_config


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_with_a_text_column(tmp_path):
    (tmp_path / "data").mkdir()
    data = jsonl(tmp_path / "data" / "tickets.jsonl", [{"id": i, "text": f"ticket {i}", "label": "billing"} for i in range(5)])
    out = write_starter_config(data, ["billing", "refund"], tmp_path / "configs" / "tickets.yaml").path
    config = load_config(out)
    assert config.data.path == data
    assert config.data.text_fields == ["text"] and config.data.id_field == "id"
    assert config.data.label_field is None  # suggested, commented out
    assert config.label_names == ["billing", "refund"]
    assert config.queue.strategy == "margin" and not config.task.multi_label
    assert [s.type for s in config.signals] == ["embedding"]
    text = out.read_text(encoding="utf-8")
    assert "path: \"../data/tickets.jsonl\"" in text
    assert '# label_field: "label"' in text
    for section in ("data:", "task:", "signals:", "ensemble:", "queue:", "argilla:", "project:"):
        assert f"\n{section}" in text
    assert text.count("#") > 30  # every option explained


def test_csv_without_a_text_column_picks_a_known_name_then_the_longest(tmp_path):
    data = tmp_path / "mail.csv"
    data.write_text("message_id,subject,body,category\n1,Hi,A much longer body text here,sales\n2,Yo,Another body,spam\n")
    starter = write_starter_config(data, ["sales", "spam"], tmp_path / "a.yaml")
    config = load_config(starter.path)
    # an email's subject heads its body: both are read, the subject first; message_id is an id column
    assert config.data.text_fields == ["subject", "body"] and config.data.id_field == "message_id"
    assert starter.line() == ("the models read 'subject' + 'body' (guessed from the first rows; --text-field to "
                              "choose); ids from 'message_id'")
    data.write_text("key,headline,story\nk1,Short,A much longer story than the headline\nk2,Brief,Long again here\n")
    config = load_config(write_starter_config(data, ["x", "y"], tmp_path / "b.yaml").path)
    assert config.data.text_fields == ["headline", "story"] and config.data.id_field is None


def test_a_heading_the_body_repeats_is_not_read_twice_and_unread_columns_are_named(tmp_path):
    rows = [{"Ticket ID": f"T{i}", "title": f"Title {i}", "text": f"Title {i} and a body long enough to read",
             "notes": f"an agent's note number {i}, long enough to be a text", "label": "a",
             "excerpt": "and a body long enough to read"} for i in range(4)]  # inside the text: not unread
    starter = write_starter_config(jsonl(tmp_path / "d.jsonl", rows), ["a", "b"], tmp_path / "c.yaml")
    assert starter.text_fields == ["text"] and starter.id_field == "Ticket ID"
    assert starter.unread == ["notes"]  # 'title' is short; 'label' is the suggested label column
    assert starter.line() == ("the models read 'text' (guessed from the first rows; --text-field to choose); other "
                              "text columns, not read: 'notes'; ids from 'Ticket ID'")
    wide = [{**row, **{f"note_{k}": f"another long note, number {k}, on this ticket" for k in range(8)}} for row in rows]
    starter = write_starter_config(jsonl(tmp_path / "w.jsonl", wide), ["a", "b"], tmp_path / "w.yaml")
    assert "not read: 'notes', 'note_0', 'note_1', 'note_2', 'note_3' and 4 more; ids" in starter.line()


def test_a_title_heads_the_longer_column_it_was_found_before(tmp_path):
    rows = [{"paper_id": f"p{i}", "title": f"On topic {i}", "abstract": f"We study topic {i} at length, with results.",
             "venue": "ACL"} for i in range(4)]
    starter = write_starter_config(jsonl(tmp_path / "papers.jsonl", rows), ["a", "b"], tmp_path / "c.yaml")
    assert starter.text_fields == ["title", "abstract"] and starter.id_field == "paper_id" and starter.unread == []


def test_the_label_column_is_never_guessed_as_a_text(tmp_path):
    rows = [{"subject": s, "body": f"a question about {s} number {i}"} for i, s in enumerate(["maths", "history"] * 3)]
    data = jsonl(tmp_path / "school.jsonl", rows)
    starter = write_starter_config(data, ["maths", "history"], tmp_path / "c.yaml", label_field="subject")
    assert starter.text_fields == ["body"] and load_config(starter.path).data.label_field == "subject"
    assert "no unique id column" in starter.line()


def test_explicit_text_fields_and_multi_label(tmp_path):
    data = tmp_path / "mail.csv"
    data.write_text("id,subject,body\n1,Hi,Body one\n2,Yo,Body two\n")
    out = write_starter_config(data, ["urgent"], tmp_path / "m.yaml", text_fields=["subject", "body"], multi_label=True).path
    config = load_config(out)
    assert config.data.text_fields == ["subject", "body"] and config.data.id_field == "id"
    assert config.task.multi_label and config.queue.strategy == "threshold_distance"
    with pytest.raises(LabelerError, match=r"has no column\(s\) \['title'\]"):
        write_starter_config(data, ["a", "b"], tmp_path / "n.yaml", text_fields=["title"])


def test_ids_that_repeat_are_not_used(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "a"}, {"id": 1, "text": "b"}])
    assert load_config(write_starter_config(data, ["a", "b"], tmp_path / "c.yaml").path).data.id_field is None


def test_awkward_label_names_survive_yaml(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    labels = ["yes", "no", "null", "a: b", "#hash", "say \"hi\"", "Rückerstattung", "退款", "123", "- dash"]
    config = load_config(write_starter_config(data, labels, tmp_path / "c.yaml").path)
    assert config.label_names == labels


def test_refuses_to_overwrite_unless_forced(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    out = tmp_path / "c.yaml"
    out.write_text("mine")
    with pytest.raises(LabelerError, match="already exists; pass --force"):
        write_starter_config(data, ["a", "b"], out)
    assert out.read_text() == "mine"
    write_starter_config(data, ["a", "b"], out, force=True)
    assert load_config(out).label_names == ["a", "b"]


def test_bad_labels_are_reported_before_anything_is_written(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    out = tmp_path / "c.yaml"
    with pytest.raises(LabelerError, match="needs at least 2 labels"):
        write_starter_config(data, ["only"], out)
    with pytest.raises(LabelerError, match="duplicate label names"):
        write_starter_config(data, ["a", "a"], out)
    assert not out.exists()


def test_no_text_like_column(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"n": 1, "m": 2.5}])
    with pytest.raises(LabelerError, match="no text-like column"):
        write_starter_config(data, ["a", "b"], tmp_path / "c.yaml")
    with pytest.raises(LabelerError, match="data file not found"):
        write_starter_config(tmp_path / "nope.csv", ["a", "b"], tmp_path / "c.yaml")


def test_parquet_and_hf_folders(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"content": "hello", "intent": "x"}]), tmp_path / "d.parquet")
    assert load_config(write_starter_config(tmp_path / "d.parquet", ["x", "y"], tmp_path / "p.yaml").path).data.text_fields == ["content"]
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"sentence": "hello", "label": 0}]).save_to_disk(str(tmp_path / "ds"))
    config = load_config(write_starter_config(tmp_path / "ds", ["x", "y"], tmp_path / "h.yaml").path)
    assert config.data.text_fields == ["sentence"] and config.data.path == tmp_path / "ds"


def test_the_starter_is_plain_yaml_with_every_section(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    raw = yaml.safe_load(write_starter_config(data, ["a", "b"], tmp_path / "c.yaml").path.read_text(encoding="utf-8"))
    assert set(raw) == {"data", "task", "signals", "ensemble", "queue", "training", "argilla", "project"}
    # every value written is the config's default (the file only spells them out)
    assert raw["training"] == {"backend": "setfit", "min_per_class": 8, "mode": "join", "min_gold": 50, "seed": 0,
                               "params": {}, "weak_labels": {"fraction": 0.05, "weight": 0.3, "until": None}}
    assert raw["queue"] == {"strategy": "margin", "batch_size": 50, "gold_share": 0.2, "coverage": 0.5, "seed": 0}
    written = load_config(tmp_path / "c.yaml")
    defaults = Config.model_validate({"data": {"path": "d.jsonl"}, "task": {"labels": ["a", "b"]}})
    assert written.training.model_dump(exclude={"runs_dir"}) == defaults.training.model_dump(exclude={"runs_dir"})
    assert written.queue.model_dump(exclude={"strategy"}) == defaults.queue.model_dump(exclude={"strategy"})
    assert "api_key" not in raw["argilla"] and raw["argilla"]["api_key_env"] == "ARGILLA_API_KEY"


# -- --labels-from --------------------------------------------------------------------------------------
def test_labels_from_a_column_by_frequency(tmp_path):
    rows = [{"text": f"t{i}", "intent": lab} for i, lab in enumerate(
        ["b", "a", "b", "c", "a", "b", None, "  ", 7, 7])]  # b 3, a 2, 7 2, c 1; null and blank are no label
    found = labels_from_column(jsonl(tmp_path / "d.jsonl", rows), "intent")
    assert found.labels == ["b", "7", "a", "c"] and found.counts == {"b": 3, "7": 2, "a": 2, "c": 1}
    assert (found.rows, found.labeled, found.several) == (10, 8, 0)
    assert found.summary() == "found 4 labels in column 'intent' of 10 rows; 2 rows without one"


def test_labels_from_a_list_column_are_the_union(tmp_path):
    rows = [{"text": "a", "tags": ["x", "y"]}, {"text": "b", "tags": ["y"]}, {"text": "c", "tags": []},
            {"text": "d", "tags": "z"}, {"text": "e", "tags": ["y", "y"]}]
    found = labels_from_column(jsonl(tmp_path / "d.jsonl", rows), "tags")
    assert found.labels == ["y", "x", "z"] and found.counts == {"y": 3, "x": 1, "z": 1}
    assert found.summary() == "found 3 labels in column 'tags' of 5 rows; 1 row without one; 1 row holds several labels"
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([r for r in rows if isinstance(r["tags"], list)]), tmp_path / "d.parquet")
    assert labels_from_column(tmp_path / "d.parquet", "tags").labels == ["y", "x"]


def test_a_multi_label_value_that_reads_as_no_label_is_named(tmp_path):
    # an export that writes "none" where the row carries no label: a label of its own beside "None of these"
    rows = [{"text": f"t{i}", "tags": tags} for i, tags in enumerate(
        [["billing"], ["none"], ["billing", "shipping"], ["none"], ["N/A"], []])]
    found = labels_from_column(jsonl(tmp_path / "d.jsonl", rows), "tags", multi_label=True)
    assert found.labels == ["billing", "none", "N/A", "shipping"]
    assert found.look_alike_lines()[:2] == [
        "warning: label 'none' (2 rows) reads as no label: in a multi-label project an empty list ([]) is the answer "
        "'None of these'; write [] in the data for those rows, or keep it as a label of its own",
        "warning: label 'N/A' (1 row) reads as no label: in a multi-label project an empty list ([]) is the answer "
        "'None of these'; write [] in the data for those rows, or keep it as a label of its own"]
    assert labels_from_column(jsonl(tmp_path / "s.jsonl", [{"text": "a", "y": "none"}, {"text": "b", "y": "x"}]),
                              "y").look_alike_lines() == []  # single-label: "none" is a label like any other


def test_multi_label_strings_are_split_as_the_reader_splits_them(tmp_path):
    # a CSV's multi-label column: "x;y" is two labels, as the data reader reads it, not a third label that the
    # reader would then never split (a config label holding the separator is kept whole)
    data = tmp_path / "d.csv"
    data.write_text('text,labels\na,x\nb,"x;y"\nc,\nd,"[""y"",""z""]"\ne,[]\nf,"[""x"", [1]]"\ng,z|x\n')
    found = labels_from_column(data, "labels", multi_label=True)
    assert found.labels == ["x", "y", "z"] and found.counts == {"x": 3, "y": 2, "z": 2}
    assert (found.rows, found.labeled, found.several, found.none) == (7, 4, 3, 1)
    assert found.summary() == ("found 3 labels in column 'labels' of 7 rows; 2 rows without one (a blank cell is no "
                               "label; where it means 'None of these', write []); 1 row with none of them (an empty "
                               "list: 'None of these'); 3 rows hold several labels")
    assert found.notes == "held-back labels: 1 not a list of labels (no truth)"
    # single-label keeps every value whole, and says when values read as several labels
    data.write_text('text,labels\na,x\nb,y\nc,z\nd,"x;y"\ne,z|x\nf,"x/y"\ng,"x,w"\n')
    single = labels_from_column(data, "labels")
    assert single.labels == ["x", "x,w", "x/y", "x;y", "y", "z", "z|x"]
    assert (single.several, single.notes) == (2, None)  # "x;y" and "z|x"; "x,w" ("w" is no label), "x/y" stay whole


def test_labels_from_a_missing_or_empty_column_is_one_line(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label,notes\nhello,,\nworld,,\n")
    for column, message in [("category", re.escape("has no column 'category' (columns: label, notes, text)")),
                            ("label", "column 'label' of .* holds no labels \\(2 rows, all empty\\)")]:
        with pytest.raises(LabelerError, match=message) as info:
            labels_from_column(data, column)
        assert "\n" not in str(info.value)
    jsonl(tmp_path / "t.jsonl", [{"text": f"unique text {i}"} for i in range(60)])
    with pytest.raises(LabelerError, match="holds 60 distinct values in 60 rows: not a label column"):
        labels_from_column(tmp_path / "t.jsonl", "text")


def test_init_cli_with_labels_from(tmp_path, capsys):
    from labeler.cli import main

    rows = [{"id": i, "text": f"ticket {i}", "label": lab} for i, lab in enumerate(["billing"] * 3 + ["refund"] * 5)]
    data = jsonl(tmp_path / "d.jsonl", rows)
    out = tmp_path / "c.yaml"
    main(["init", str(data), "--labels-from", "label", "-o", str(out)])
    captured = capsys.readouterr()
    assert captured.err == ("found 2 labels in column 'label' of 8 rows\nthe models read 'text' (guessed from the "
                            "first rows; --text-field to choose); ids from 'id'\n")
    assert captured.out.startswith(f"wrote {out};")
    config = load_config(out)
    assert config.label_names == ["refund", "billing"] and config.data.label_field == "label"
    for argv in (["--labels", "a,b", "--labels-from", "label"], []):
        with pytest.raises(SystemExit) as exit_info:
            main(["init", str(data), *argv, "-o", str(tmp_path / "x.yaml"), "--force"])
        assert exit_info.value.code == 2
        assert "--labels 'a,b,c' or take them from a column with --labels-from" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["init", str(data), "--labels-from", "nope", "-o", str(tmp_path / "y.yaml")])
    assert exit_info.value.code != 0 and not (tmp_path / "y.yaml").exists()
    err = capsys.readouterr().err
    assert "has no column 'nope'" in err and "Traceback" not in err and err.count("\n") == 1


def test_nested_json_fields_are_read_under_dotted_names(tmp_path):
    """A ticketing system's export nests its fields; they are read as ticket.subject, ticket.body, meta.id."""
    from labeler.data import load_pool

    rows = [{"meta": {"id": f"t{i}", "lang": "en"}, "ticket": {"subject": f"Subject {i}",
             "body": f"the body of ticket {i}, long enough to read"}, "label": "a" if i % 2 else "b"} for i in range(4)]
    starter = write_starter_config(jsonl(tmp_path / "t.jsonl", rows), ["a", "b"], tmp_path / "c.yaml", label_field="label")
    assert starter.text_fields == ["ticket.subject", "ticket.body"] and starter.id_field == "meta.id"
    assert starter.unread == []
    pool = load_pool(load_config(starter.path))
    assert pool.ids == ["t0", "t1", "t2", "t3"] and [r.label for r in pool] == ["b", "a", "b", "a"]
    assert pool[0].text == "ticket.subject: Subject 0\nticket.body: the body of ticket 0, long enough to read"
    # the same rows as Parquet: struct columns' fields read the same way
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "t.parquet")
    starter = write_starter_config(tmp_path / "t.parquet", ["a", "b"], tmp_path / "p.yaml", label_field="label")
    assert starter.text_fields == ["ticket.subject", "ticket.body"] and starter.id_field == "meta.id"
    parquet_pool = load_pool(load_config(starter.path))
    assert parquet_pool.ids == pool.ids and parquet_pool.texts == pool.texts
    # and as a folder saved by datasets
    import datasets

    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    starter = write_starter_config(tmp_path / "ds", ["a", "b"], tmp_path / "h.yaml", label_field="label")
    assert starter.text_fields == ["ticket.subject", "ticket.body"] and starter.id_field == "meta.id"
    hf_pool = load_pool(load_config(starter.path))
    assert hf_pool.ids == pool.ids and hf_pool.texts == pool.texts


def test_init_on_a_folder_of_text_files_takes_labels_from_the_subfolders(tmp_path, capsys):
    from labeler.cli import main

    for label in ("hr", "it"):
        for i in range(3):
            (tmp_path / "memos" / label).mkdir(parents=True, exist_ok=True)
            (tmp_path / "memos" / label / f"m{i}.txt").write_text(f"{label} memo number {i}", encoding="utf-8")
    main(["init", str(tmp_path / "memos"), "--labels-from", "folder", "-o", str(tmp_path / "c.yaml")])
    assert capsys.readouterr().err == ("found 2 labels in column 'folder' of 6 rows\nthe models read 'text' (guessed "
                                       "from the first rows; --text-field to choose); ids from 'path'\n")
    config = load_config(tmp_path / "c.yaml")
    assert (config.data.text_fields, config.data.id_field, config.data.label_field) == (["text"], "path", "folder")
    assert config.label_names == ["hr", "it"]


def test_init_says_when_texts_run_past_what_the_model_reads_at_once(tmp_path, capsys):
    from labeler.cli import main

    memo = "The board met on Tuesday to discuss the budget. " * 30  # 1,440 characters
    rows = [{"id": i, "text": memo if i % 4 else "A short note."} for i in range(8)]
    out = tmp_path / "c.yaml"
    main(["init", str(jsonl(tmp_path / "d.jsonl", rows)), "--labels", "budget,other", "-o", str(out)])
    assert capsys.readouterr().err.splitlines()[-1] == (
        "6 of 8 sampled texts run past about 1,000 characters (median 1,440), the 256 word pieces the embedding model "
        "reads at once: they are read whole, in windows (an encoding each; `bootstrap` counts them), or from the start "
        "only with the signal's params.long_texts: start")
    starter = write_starter_config(jsonl(tmp_path / "e.jsonl", rows[:1] * 20 + rows[1:2]), ["a", "b"],
                                   tmp_path / "e.yaml")
    assert starter.long_note() is None  # 1 of 21 long: under a tenth
