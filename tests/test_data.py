"""Reading the pool: every format, stable ids, duplicates, odd texts, the cache (rejects: test_data_rejects.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path

import pytest
import yaml

from labeler.config import load_config
from labeler.data import (
    DUPLICATE_ID,
    EMPTY_TEXT,
    MISSING_FIELD,
    NOT_OBJECT,
    NULL_TEXT,
    POOL_FILE,
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


def test_semicolon_and_pipe_separated_csv_are_read_by_their_header_line(tmp_path):
    from labeler.data.readers import csv_delimiter, separator_note

    assert [csv_delimiter(h) for h in ("id,text", "id;text;label", "text", "a|b,c|d", "a\tb", "a;b,c\n1;2;3;4")] == \
        [",", ";", ",", "|", "\t", ","]  # a tie keeps the comma
    rows = [[r["id"], r["text"], r["label"]] for r in ROWS]  # the texts hold commas, semicolons, tabs, newlines
    for delimiter, note in ((";", "read as semicolon-separated (the separator of the header line)"),
                            ("|", "read as pipe-separated (the separator of the header line)"), (",", None)):
        write_csv(tmp_path / "d.csv", ["id", "text", "label"], rows + [[99, "semi; colon", "a"]], delimiter)
        pool = pool_of(tmp_path, {"path": "d.csv", "id_field": "id", "label_field": "label"})
        assert [(r.id, r.text, r.label) for r in pool] == expected_records() + [("99", "semi; colon", "a")]
        assert separator_note(tmp_path / "d.csv") == note


def test_a_header_that_repeats_or_leaves_out_a_name_loses_no_column(tmp_path):
    """``id,text,text,`` kept only the last 'text' (a dict of the row); now each column has a name of its own."""
    import openpyxl

    from labeler.data.readers import header_note
    from labeler.data.rows import renamed_line, unique_names

    assert unique_names(["id", "text", "text", "", None, "text_2", "text"]) == [
        "id", "text", "text_2", "column 4", "column 5", "text_2_2", "text_3"]
    assert renamed_line(["id", "text"]) is None
    (tmp_path / "d.csv").write_text("id,text,text,\n1,first part,second part,x\n2,more,and more,y\n")
    pool = pool_of(tmp_path, {"path": "d.csv", "text_fields": ["text", "text_2", "column 4"], "id_field": "id"})
    assert [r.text for r in pool] == ["text: first part\ntext_2: second part\ncolumn 4: x",
                                      "text: more\ntext_2: and more\ncolumn 4: y"]
    note = "header: 'text' again in column 3: read as 'text_2'; column 4 has no name: read as 'column 4'"
    assert header_note(tmp_path / "d.csv") == note
    book = openpyxl.Workbook()
    for row in (["id", "text", "text", None], [1, "first part", "second part", "x"]):
        book.active.append(row)
    book.save(tmp_path / "d.xlsx")
    assert [r.text for r in pool_of(tmp_path, {"path": "d.xlsx", "text_fields": ["text_2"], "id_field": "id"})] == \
        ["second part"]
    assert header_note(tmp_path / "d.xlsx") == note


def test_a_folder_of_text_files_is_one_text_per_file(tmp_path):
    folder = tmp_path / "memos"
    for rel, body in {"top.txt": "no folder", "hr/leave.txt": "Leave requests by the 15th.",
                      "it/vpn.md": "VPN down Saturday.", "it/deep/patch.eml": "Subject: patch\n\nUpdate now."}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(body, encoding="utf-8")
    (folder / "hr" / "scan.pdf").write_bytes(b"%PDF-1.4")
    (folder / "hr" / "latin.txt").write_bytes("Caf\xe9 ouvert".encode("latin-1"))
    (folder / ".DS_Store").write_bytes(b"\x00")  # hidden: left out
    config = make_config(tmp_path, {"path": "memos", "text_fields": ["text"], "id_field": "path",
                                    "label_field": "folder"}, labels=("hr", "it"))
    pool = load_pool(config, use_cache=False)
    assert [(r.id, r.text, r.label) for r in pool] == [
        ("hr/leave.txt", "Leave requests by the 15th.", "hr"),
        ("it/deep/patch.eml", "patch\n\nUpdate now.", "it"),  # an e-mail: subject, body
        ("it/vpn.md", "VPN down Saturday.", "it"), ("top.txt", "no folder", None)]
    assert pool.rows_read == 6 and pool.rejects == {"invalid UTF-8": 1, "not a text file": 1} and counts_add_up(pool)
    assert [(e["reason"], e["detail"]) for e in rejects_of(config)] == [
        ("invalid UTF-8", "hr/latin.txt: bytes that are not UTF-8 (set data.encoding if the file has another "
                          "encoding, e.g. latin-1): invalid continuation byte at byte 3"),
        ("not a text file", "hr/scan.pdf: only .txt, .text, .md, .eml files are read from a folder")]
    latin = make_config(tmp_path, {"path": "memos", "text_fields": ["text"], "id_field": "path", "encoding": "latin-1"})
    assert "Café ouvert" in [r.text for r in load_pool(latin, use_cache=False)]
    with pytest.raises(LabelerError, match=r"set data.format \(csv, jsonl, parquet, hf, files, xlsx, lines, tables or "
                                           r"mbox\) \(a folder of such files is read one file per text: point "
                                           r"data.path at the folder; a .txt file is read one text per line\)"):
        pool_of(tmp_path, {"path": "memos/it/vpn.md"})
    (tmp_path / "scans").mkdir()
    for name in ("jan.pdf", "feb.pdf", "logo.png"):
        (tmp_path / "scans" / name).write_bytes(b"%PDF")
    with pytest.raises(LabelerError, match=r"scans: a folder with no text files \(\.txt, \.text, \.md, \.eml\): it "
                                           r"holds 2 \.pdf, 1 \.png; point data.path at a data file, a folder of data "
                                           r"files of one format, or a folder of text files"):
        pool_of(tmp_path, {"path": "scans"})
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabelerError, match=r"empty: a folder with no text files .*: it holds no file;"):
        pool_of(tmp_path, {"path": "empty"})


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


def test_a_saved_datasets_class_labels_are_read_as_their_names(tmp_path):
    """A ``ClassLabel`` column (the Hub's usual label feature) holds integers; its names are the labels, in the
    pool, in ``init --labels-from`` and for multi-label lists; -1 (no label) is no label."""
    datasets = pytest.importorskip("datasets")
    from labeler.config.starter import labels_from_column

    names = ["World", "Sports", "Sci/Tech"]
    feats = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names),
                               "tags": datasets.Sequence(datasets.ClassLabel(names=["a", "b"]))})
    datasets.Dataset.from_dict({"text": ["war", "goal", "chip", "none"], "label": [0, 1, 2, -1],
                                "tags": [[0], [0, 1], [], [1]]}, features=feats).save_to_disk(str(tmp_path / "ds"))
    pool = pool_of(tmp_path, {"path": "ds", "label_field": "label"}, labels=names)
    assert [(r.text, r.label) for r in pool] == [("war", "World"), ("goal", "Sports"), ("chip", "Sci/Tech"),
                                                ("none", None)]
    ml = pool_of(tmp_path, {"path": "ds", "label_field": "tags"}, labels=("a", "b"), multi_label=True)
    assert [r.labels for r in ml] == [["a"], ["a", "b"], [], ["b"]]
    assert labels_from_column(tmp_path / "ds", "label").labels == ["Sci/Tech", "Sports", "World"]
    assert sample_rows(tmp_path / "ds")[1][0] == {"text": "war", "label": "World", "tags": ["a"]}


def test_an_excel_workbooks_first_sheet_is_read_as_a_csv_would_be(tmp_path):
    import datetime

    import openpyxl

    from labeler.data.exports import sheet_note

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Tickets"
    sheet.append(["Ticket ID", "Subject", "Body", "Category", "Opened"])
    sheet.append([101, "Refund", "Where is my refund?", "billing", datetime.datetime(2026, 3, 1, 9, 30)])
    sheet.append([None, None, None, None, None])  # an empty line is not a row
    sheet.append([102.0, "Login", "I cannot log in", "account", None])
    sheet.append([103, "Number", 12345, "", None])  # a number in a text column reads as its text
    sheet.append([104, "Blank", None, "billing", None])
    book.create_sheet("Notes").append(["not read"])
    book.save(tmp_path / "t.xlsx")
    config = make_config(tmp_path, {"path": "t.xlsx", "text_fields": ["Body"], "id_field": "Ticket ID",
                                    "label_field": "Category"}, labels=("billing", "account"))
    pool = load_pool(config, use_cache=False)
    assert [(r.id, r.text, r.label, r.row) for r in pool] == [("101", "Where is my refund?", "billing", 1),
                                                              ("102", "I cannot log in", "account", 2),
                                                              ("103", "12345", None, 3)]
    assert pool.rejects == {NULL_TEXT: 1} and [e["line"] for e in rejects_of(config)] == [6]
    assert sample_rows(tmp_path / "t.xlsx")[1][0]["Opened"] == "2026-03-01T09:30:00"
    assert sheet_note(tmp_path / "t.xlsx") == ("read the first sheet, 'Tickets', of 2 ('Notes' not read; data.sheet "
                                               "names another)")
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    book["Notes"].append(["a note"])  # its header: "not read"; one row
    book.save(tmp_path / "t.xlsx")
    assert [r.text for r in pool_of(tmp_path, {"path": "t.xlsx", "text_fields": ["not read"], "sheet": "Notes"})] == [
        "a note"]
    with pytest.raises(LabelerError, match=r"t\.xlsx has no sheet 'Nope' \(data.sheet\); its sheets: 'Tickets', 'Notes'"):
        pool_of(tmp_path, {"path": "t.xlsx", "sheet": "Nope"})
    from click.testing import CliRunner

    from labeler.cli.init import command

    result = CliRunner().invoke(command, [str(tmp_path / "t.xlsx"), "--labels-from", "Category", "-o",
                                          str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [  # a workbook is binary: no encoding guessed from its bytes
        "found 2 labels in column 'Category' of 4 rows; 1 row without one",
        "read the first sheet, 'Tickets', of 2 ('Notes' not read; data.sheet names another)",
        "the models read 'Subject' + 'Body' (guessed from the first rows; --text-field to choose); ids from "
        "'Ticket ID'"]  # headers matched in any case: Subject heads Body
    assert load_config(tmp_path / "c.yaml").data.encoding == "utf-8"
    assert "  sheet: null             # the workbook's sheet to read; null = the first\n" in (tmp_path / "c.yaml").read_text()
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(LabelerError, match=r"bad\.xlsx: not a readable Excel workbook \("):
        pool_of(tmp_path, {"path": "bad.xlsx"})


def test_format_can_be_forced(tmp_path):
    write_jsonl(tmp_path / "d.dat", ROWS)
    with pytest.raises(LabelerError, match="set data.format"):
        pool_of(tmp_path, {"path": "d.dat"})
    assert len(pool_of(tmp_path, {"path": "d.dat", "format": "jsonl"})) == len(ROWS)
    write_jsonl(tmp_path / "d.txt", ROWS)  # .txt is one text per line, unless its lines are JSON objects
    with pytest.raises(LabelerError, match=r"d\.txt looks like JSON Lines, not one text per line: name it \.jsonl or "
                                           r"set data.format: jsonl"):
        pool_of(tmp_path, {"path": "d.txt"})
    assert len(pool_of(tmp_path, {"path": "d.txt", "format": "jsonl"})) == len(ROWS)


def test_an_email_file_reads_as_its_subject_and_body(tmp_path):
    from email.message import EmailMessage

    (tmp_path / "mail" / "billing").mkdir(parents=True)
    plain = EmailMessage()
    plain["Subject"], plain["From"], plain["Received"] = "Invoice wrong", "ana@example.com", "from mx by relay"
    plain.set_content("My invoice shows 99 EUR instead of 9.")
    plain.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="invoice.pdf")
    html = EmailMessage()
    html["Subject"] = "Wo ist mein Paket?"
    html.set_content("<p>Das Paket ist nicht angekommen.</p><p>Gr\u00fc\u00dfe</p>", subtype="html", charset="utf-8")
    (tmp_path / "mail" / "billing" / "a.eml").write_bytes(bytes(plain))
    (tmp_path / "mail" / "b.eml").write_bytes(bytes(html))
    empty = EmailMessage()
    empty["From"] = "nobody@example.com"
    empty.set_content("")
    (tmp_path / "mail" / "c.eml").write_bytes(bytes(empty))  # no subject, no body: an empty text, not its headers
    pool = pool_of(tmp_path, {"path": "mail", "id_field": "path", "label_field": "folder"}, labels=("billing", "x"))
    assert [(r.id, r.text, r.label) for r in pool] == [
        ("b.eml", "Wo ist mein Paket?\n\nDas Paket ist nicht angekommen.\nGr\u00fc\u00dfe", None),
        ("billing/a.eml", "Invoice wrong\n\nMy invoice shows 99 EUR instead of 9.", "billing")]
    assert pool.rejects == {EMPTY_TEXT: 1}


def test_a_folder_of_data_files_of_one_format_is_one_table(tmp_path):
    """Monthly exports in one folder: read in path order as one table, each row's file in a ``file`` column."""
    from labeler.data.readers import reading_notes

    (tmp_path / "exports").mkdir()
    write_csv(tmp_path / "exports" / "2026-01.csv", ["id", "text", "label"], [[1, "charged twice", "a"]])
    write_csv(tmp_path / "exports" / "2026-02.csv", ["id", "text", "label", "agent"],
              [[2, "parcel late", "b", "ana"], [3, "", "a", "bo"], [1, "charged twice", "a", "cy"]])
    pool = pool_of(tmp_path, {"path": "exports", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label, r.row) for r in pool] == [("1", "charged twice", "a", 1), ("2", "parcel late", "b", 2)]
    assert pool.rejects == {EMPTY_TEXT: 1} and pool.collapsed == 1 and counts_add_up(pool)
    assert sample_rows(tmp_path / "exports")[1][1] == {"id": "2", "text": "parcel late", "label": "b", "agent": "ana",
                                                       "file": "2026-02.csv"}
    assert reading_notes(tmp_path / "exports") == [
        "read the 2 csv files in exports as one table (column 'file' names each row's file)"]
    write_jsonl(tmp_path / "exports" / "2026-03.jsonl", ROWS[:1])
    with pytest.raises(LabelerError, match=r"exports holds data files of 2 formats \(csv, jsonl\); keep one format"):
        pool_of(tmp_path, {"path": "exports"})


def test_a_mailbox_is_one_email_per_row(tmp_path):
    import mailbox
    from email.message import EmailMessage

    box = mailbox.mbox(tmp_path / "inbox.mbox")
    for i, (subject, body) in enumerate([("Invoice wrong", "I was charged twice."), ("Parcel", "It never came.")]):
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["Message-ID"] = subject, f"c{i}@example.com", f"<m{i}@example.com>"
        msg["Date"] = "Mon, 07 Dec 2026 09:00:00 +0000"
        msg.set_content(body)
        box.add(msg)
    box.flush()
    pool = pool_of(tmp_path, {"path": "inbox.mbox", "id_field": "message_id"})
    assert [(r.id, r.text) for r in pool] == [("<m0@example.com>", "Invoice wrong\n\nI was charged twice."),
                                             ("<m1@example.com>", "Parcel\n\nIt never came.")]
    assert sample_rows(tmp_path / "inbox.mbox")[1][1] == {
        "message_id": "<m1@example.com>", "from": "c1@example.com", "date": "Mon, 07 Dec 2026 09:00:00 +0000",
        "subject": "Parcel", "text": "Parcel\n\nIt never came."}


def test_a_txt_file_is_one_text_per_line(tmp_path):
    (tmp_path / "c.txt").write_bytes("great service\r\n\n  slow delivery  \nCaf\xe9 closed\ngreat service\n".encode(
        "utf-8").replace("Café".encode("utf-8"), b"Caf\xe9"))
    pool = pool_of(tmp_path, {"path": "c.txt"})
    assert [(r.text, r.row) for r in pool] == [("great service", 1), ("slow delivery", 2)]
    assert pool.rejects == {"invalid UTF-8": 1} and pool.collapsed == 1 and counts_add_up(pool)
    assert [r.id for r in pool][0] == hash_id("great service")  # ids: the text's hash, not the line's number


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
    import labeler.data.load

    calls = []
    real = labeler.data.load.read_pool
    monkeypatch.setattr(labeler.data.load, "read_pool", lambda *a, **k: calls.append(1) or real(*a, **k))
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


def test_a_fresh_read_says_which_records_came_and_went(tmp_path):
    from labeler.config import load_config
    from labeler.data import load_pool

    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": f"text {i}"}) + "\n" for i in range(5)))
    (tmp_path / "c.yaml").write_text(f"data: {{path: {data}, id_field: id}}\ntask: {{labels: [a, b]}}\n"
                                     f"project: {{dir: {tmp_path / 'p'}}}\n")
    config = load_config(tmp_path / "c.yaml")
    assert load_pool(config).changed is None  # the first read
    data.write_text("".join(json.dumps({"id": i, "text": f"text {i}"}) + "\n" for i in range(2, 9)))
    pool = load_pool(config)
    assert pool.changed == "since the last read: 4 new records, 2 gone from the data (their labels stay)"
    assert pool.summary().endswith("; " + pool.changed)
    assert load_pool(config).changed is None  # the cached pool: nothing new to say
    # status reads the last read's pool, and says when the file has changed since
    from labeler.status import status, summary_lines

    assert status(config)["pool_changed"] is False
    data.write_text(data.read_text() + json.dumps({"id": 99, "text": "text 99"}) + "\n")
    st = status(config)
    assert st["pool"] == 7 and st["pool_changed"] is True
    assert ("data: the file, the data settings or labeler's pool format changed since the pool was read; `labeler "
            "bootstrap` or `labeler round` reads it again") in summary_lines(st)


def test_a_json_object_wrapping_its_records_is_read_from_its_one_list(tmp_path):
    """API exports wrap the records: ``{"count": 2, "tickets": [...]}``; the one list of objects is the rows."""
    from labeler.data.readers import json_records_note

    doc = {"count": 3, "next_page": None, "tickets": ROWS[:2] + [7], "tags": ["a", "b"]}
    (tmp_path / "export.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    pool = pool_of(tmp_path, {"path": "export.json", "id_field": "id", "label_field": "label"})
    assert [(r.id, r.text, r.label) for r in pool] == expected_records()[:2]
    assert pool.rejects == {NOT_OBJECT: 1}  # 7 is no object: a rejected row, as in an array
    assert json_records_note(tmp_path / "export.json") == "read the 3 records under 'tickets'"
    (tmp_path / "one.json").write_text(json.dumps(ROWS[0]), encoding="utf-8")  # one record: JSON Lines' one row
    assert [r.id for r in pool_of(tmp_path, {"path": "one.json", "id_field": "id"})] == ["0"]
    (tmp_path / "two.json").write_text(json.dumps({"open": ROWS[:1], "closed": ROWS[1:2]}), encoding="utf-8")
    with pytest.raises(LabelerError, match=r"two\.json: one object with 2 lists of records \('open', 'closed'\); "
                                           r"write the one to label as a JSON array or JSON Lines"):
        pool_of(tmp_path, {"path": "two.json"})
