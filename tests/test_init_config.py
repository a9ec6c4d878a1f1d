"""``write_starter_config``: field guessing, a commented file that ``load_config`` accepts, no overwrite."""

from __future__ import annotations

import json

import pytest
import yaml

from labeler.config import load_config
from labeler.errors import LabelerError
from labeler.init_config import write_starter_config


def jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_with_a_text_column(tmp_path):
    (tmp_path / "data").mkdir()
    data = jsonl(tmp_path / "data" / "tickets.jsonl", [{"id": i, "text": f"ticket {i}", "label": "billing"} for i in range(5)])
    out = write_starter_config(data, ["billing", "refund"], tmp_path / "configs" / "tickets.yaml")
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
    config = load_config(write_starter_config(data, ["sales", "spam"], tmp_path / "a.yaml"))
    assert config.data.text_fields == ["body"] and config.data.id_field is None
    data.write_text("key,headline,story\nk1,Short,A much longer story than the headline\nk2,Brief,Long again here\n")
    config = load_config(write_starter_config(data, ["x", "y"], tmp_path / "b.yaml"))
    assert config.data.text_fields == ["story"]


def test_explicit_text_fields_and_multi_label(tmp_path):
    data = tmp_path / "mail.csv"
    data.write_text("id,subject,body\n1,Hi,Body one\n2,Yo,Body two\n")
    out = write_starter_config(data, ["urgent"], tmp_path / "m.yaml", text_fields=["subject", "body"], multi_label=True)
    config = load_config(out)
    assert config.data.text_fields == ["subject", "body"] and config.data.id_field == "id"
    assert config.task.multi_label and config.queue.strategy == "threshold_distance"
    with pytest.raises(LabelerError, match=r"has no column\(s\) \['title'\]"):
        write_starter_config(data, ["a", "b"], tmp_path / "n.yaml", text_fields=["title"])


def test_ids_that_repeat_are_not_used(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"id": 1, "text": "a"}, {"id": 1, "text": "b"}])
    assert load_config(write_starter_config(data, ["a", "b"], tmp_path / "c.yaml")).data.id_field is None


def test_awkward_label_names_survive_yaml(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    labels = ["yes", "no", "null", "a: b", "#hash", "say \"hi\"", "Rückerstattung", "退款", "123", "- dash"]
    config = load_config(write_starter_config(data, labels, tmp_path / "c.yaml"))
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
    assert load_config(write_starter_config(tmp_path / "d.parquet", ["x", "y"], tmp_path / "p.yaml")).data.text_fields == ["content"]
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_list([{"sentence": "hello", "label": 0}]).save_to_disk(str(tmp_path / "ds"))
    config = load_config(write_starter_config(tmp_path / "ds", ["x", "y"], tmp_path / "h.yaml"))
    assert config.data.text_fields == ["sentence"] and config.data.path == tmp_path / "ds"


def test_the_starter_is_plain_yaml_with_every_section(tmp_path):
    data = jsonl(tmp_path / "d.jsonl", [{"text": "a"}])
    raw = yaml.safe_load(write_starter_config(data, ["a", "b"], tmp_path / "c.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {"data", "task", "signals", "ensemble", "queue", "training", "argilla", "project"}
    assert raw["training"] == {"backend": "setfit", "min_per_class": 8, "mode": "join", "gold_fraction": 0.2, "seed": 0,
                               "params": {}}
    assert "api_key" not in raw["argilla"] and raw["argilla"]["api_key_env"] == "ARGILLA_API_KEY"
