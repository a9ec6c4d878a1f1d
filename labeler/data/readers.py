"""One reader per format: each returns (the columns seen, one ``RawRow`` per data row).

CSV is decoded with surrogateescape so that one bad byte only rejects the row whose used cells hold it (its
separator, when not a comma, is read off the header line: ``csv_delimiter``); JSON Lines are parsed line by line;
a JSON array, Parquet and a saved Hugging Face dataset are read whole; a folder of text files gives one row per
file (``read_files``); an Excel workbook, its first sheet (``read_xlsx``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
from pathlib import Path
from typing import Any

from labeler.data.exports import (TEXT_FILES, read_files, read_lines, read_mbox, read_xlsx, sheet_header_note,
                                   sheet_note, visible_files)
from labeler.data.rows import (
    INVALID_JSON,
    INVALID_UTF8,
    MALFORMED_CSV,
    NOT_OBJECT,
    PREVIEW,
    SURROGATE,
    RawRow,
    decoded_lines,
    not_decodable,
    renamed_line,
    unique_names,
)
from labeler.errors import LabelerError

SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
            ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx", ".xlsm": "xlsx", ".txt": "lines", ".mbox": "mbox"}
FORMATS = ("csv", "jsonl", "parquet", "hf", "files", "xlsx", "lines", "tables", "mbox")
TABLES = ("csv", "jsonl", "parquet", "xlsx")  # the formats a folder of data files (format tables) may hold
DELIMITERS = (",", ";", "\t", "|")  # a CSV file's separator: the comma unless the header line says otherwise


def refuse_parquet(path: Path, data: bytes, kind: str) -> None:
    """A one-line ``LabelerError`` for a Parquet file under a text name (its magic ``PAR1`` at both ends); any other
    odd bytes are the rows' business (rejected per row, or no usable rows: ``read_pool``)."""
    if len(data) >= 8 and data[:4] == b"PAR1" and data[-4:] == b"PAR1":
        raise LabelerError(f"{path} is a Parquet file, not {kind} text: name it .parquet (or set data.format)")


def read_csv(path: Path, wanted: list[str], encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    """Decode with surrogateescape so one bad byte only rejects the row whose used cells hold it."""
    data = path.read_bytes()
    refuse_parquet(path, data, "CSV")
    text = data.decode(encoding, errors="surrogateescape").removeprefix("\ufeff")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else csv_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    rows: list[RawRow] = []
    try:
        header = next(reader, None)
        if header is None:
            return {}, []
        header = unique_names(header)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not cells:  # a blank line is not a row
                continue
            raw = RawRow(row=len(rows) + 1, line=line)
            if len(cells) > len(header):
                raw.reason, raw.detail = MALFORMED_CSV, f"{len(cells)} cells, header has {len(header)}"
                raw.preview = _unescape(",".join(cells))[:PREVIEW]
            else:
                raw.values = dict(zip(header, cells))
                bad = [c for c in wanted if SURROGATE.search(raw.values.get(c, ""))]
                if bad:
                    raw.reason, raw.detail = INVALID_UTF8, f"column(s) {', '.join(bad)} hold {not_decodable(encoding)}"
                    raw.preview, raw.values = _unescape(",".join(cells))[:PREVIEW], None
            rows.append(raw)
    except csv.Error as exc:
        raise LabelerError(f"{path}: unreadable CSV near line {reader.line_num}: {exc}") from None
    finally:
        csv.field_size_limit(old_limit)
    return dict.fromkeys(header), rows


def csv_delimiter(text: str) -> str:
    """The separator of a CSV text, from its header line: the comma, unless another of ``DELIMITERS`` occurs more
    often there (a semicolon-separated export of a European spreadsheet; a tab- or pipe-separated dump)."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=counts.__getitem__)  # a tie keeps the first: the comma
    return best if counts[best] > counts[","] else ","


def reading_notes(path, encoding: str = "utf-8") -> list[str]:
    """For ``labeler init``: how the file is read where that is not plain to see: a CSV's separator, the sheet of a
    workbook, the key of a wrapped JSON export, renamed header names."""
    notes = (separator_note(path, encoding), sheet_note(path), json_records_note(path), header_note(path, encoding),
             tables_note(path))
    return [note for note in notes if note]


def tables_note(path) -> str | None:
    """For ``labeler init``: a folder of data files is read as one table."""
    path = Path(path)
    if not path.is_dir() or detect_format(path, "auto") != "tables":
        return None
    files = _table_files(path)
    return (f"read the {len(files)} {SUFFIXES[files[0].suffix.lower()]} files in {path.name} as one table (column "
            "'file' names each row's file)")


def _csv_head(path: Path, encoding: str) -> tuple[str, str] | None:
    """(a CSV or TSV file's first 64 KB as text, its separator as ``read_csv`` picks it), for ``labeler init``'s
    notes; None for any other path."""
    if path.is_dir() or SUFFIXES.get(path.suffix.lower()) != "csv":
        return None
    with open(path, "rb") as f:
        head = f.read(65536).decode(encoding, errors="replace").removeprefix("\ufeff")
    return head, "\t" if path.suffix.lower() == ".tsv" else csv_delimiter(head)


def header_note(path, encoding: str = "utf-8") -> str | None:
    """For ``labeler init``: how a CSV or Excel header's blank or repeated column names are read, else None."""
    path = Path(path)
    if SUFFIXES.get(path.suffix.lower()) == "xlsx":
        return sheet_header_note(path)
    head = _csv_head(path, encoding)
    return None if head is None else renamed_line(next(csv.reader(io.StringIO(head[0], newline=""),
                                                                  delimiter=head[1]), []))


def separator_note(path, encoding: str = "utf-8") -> str | None:
    """For ``labeler init``: a line when a CSV file is read with another separator than the comma, else None."""
    path = Path(path)
    head = _csv_head(path, encoding) if path.suffix.lower() == ".csv" else None  # a .tsv says its separator
    name = None if head is None else {";": "semicolon", "\t": "tab", "|": "pipe"}.get(head[1])
    return f"read as {name}-separated (the separator of the header line)" if name else None


def _unescape(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_jsonl(path: Path, wanted: list[str], encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    refuse_parquet(path, data, "JSON")
    if path.suffix.lower() == ".json" and data.lstrip()[:1] == b"[":
        return _read_json_array(path, data, encoding)
    if path.suffix.lower() == ".json" and data.lstrip()[:1] == b"{":
        key, items = records_key(path, data, encoding)
        if key is not None:
            return _items(items)
    columns: dict = {}
    rows: list[RawRow] = []
    for raw, decoded in decoded_lines(data, encoding):
        rows.append(raw)
        if decoded is None:
            continue
        try:
            value = json.loads(decoded)
        except json.JSONDecodeError as exc:
            raw.reason, raw.detail, raw.preview = INVALID_JSON, f"{exc.msg} at column {exc.colno}", decoded[:PREVIEW]
            continue
        _set_object(raw, value, decoded, columns)
    return columns, rows


def _read_json_array(path: Path, data: bytes, encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    try:
        items = json.loads(data.decode(encoding))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelerError(f"{path}: not a valid JSON array ({exc}); use JSON Lines for row-by-row checks") from None
    return _items(items)


def records_key(path: Path, data: bytes, encoding: str = "utf-8") -> tuple[str | None, list]:
    """A .json document that is one object wrapping its records, as API exports are (``{"count": 120, "tickets":
    [{...}, ...]}``): (the key of its one list of objects, that list); (None, []) when the document is not such an
    object (a JSON Lines file under a .json name, one record). Two or more such lists: a one-line error."""
    try:
        doc = json.loads(data.decode(encoding))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, []  # JSON Lines: read line by line, each bad line a reject
    if not isinstance(doc, dict):
        return None, []
    lists = [k for k, v in doc.items() if isinstance(v, list) and any(isinstance(x, dict) for x in v)]
    if len(lists) > 1:
        raise LabelerError(f"{path}: one object with {len(lists)} lists of records ({', '.join(map(repr, lists))}); "
                           "write the one to label as a JSON array or JSON Lines")
    return (lists[0], doc[lists[0]]) if lists else (None, [])


def json_records_note(path) -> str | None:
    """For ``labeler init``: which key of a wrapping .json object the records were read from, else None."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if data.lstrip()[:1] != b"{":
        return None
    try:
        key, items = records_key(path, data)
    except LabelerError:
        return None  # reading it says what is wrong
    return None if key is None else f"read the {len(items)} records under {key!r}"


def _items(items: list) -> tuple[dict, list[RawRow]]:
    """A JSON array's items as rows (an item that is not an object: a rejected row)."""
    columns: dict = {}
    rows = []
    for i, item in enumerate(items, start=1):
        raw = RawRow(row=i, line=None)
        _set_object(raw, item, None, columns)
        rows.append(raw)
    return columns, rows


def _set_object(raw: RawRow, value: Any, source: str | None, columns: dict) -> None:
    if isinstance(value, dict):
        raw.values = with_nested(value)
        columns.update(dict.fromkeys(raw.values))
    else:
        raw.reason, raw.detail = NOT_OBJECT, f"a JSON {type(value).__name__}"
        raw.preview = (source if source is not None else json.dumps(value, ensure_ascii=False))[:PREVIEW]


def with_nested(value: dict, depth: int = 3) -> dict:
    """A JSON object with its nested objects' fields also under dotted names (``{"ticket": {"body": ..}}`` gives
    ``ticket.body`` too), so a ticketing system's export can name ``data.text_fields: [ticket.subject,
    ticket.body]``; the top-level keys stay as they are."""
    out = dict(value)
    for key, inner in value.items():
        if isinstance(inner, dict) and depth > 0:
            out.update({f"{key}.{k}": v for k, v in with_nested(inner, depth - 1).items()})
    return out


def read_parquet(path: Path, wanted: list[str]) -> tuple[dict, list[RawRow]]:
    """The ``wanted`` columns; a struct column's fields are columns too, under dotted names (``ticket.body``), as
    a JSON object's are (``with_nested``)."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        names = dict.fromkeys(schema.names)
        names.update(dict.fromkeys(_struct_names(schema)))
        top = list(dict.fromkeys(c.split(".")[0] if c not in schema.names else c for c in wanted if c in names))
        table = flat = pq.read_table(path, columns=top)
        columns = {c: table.column(c).to_pylist() for c in table.column_names if c in wanted}
        while any(str(f.type).startswith("struct") for f in flat.schema):
            flat = flat.flatten()
            columns.update({c: flat.column(c).to_pylist() for c in flat.column_names
                            if c in wanted and c not in columns})
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise LabelerError(f"{path}: not a readable Parquet file ({' '.join(str(exc).split())})") from None
    return names, _rows_from_columns(columns, table.num_rows)


def _struct_names(schema, prefix: str = "", depth: int = 3) -> list[str]:
    """Every struct field's dotted name (``ticket.body``), a few levels down."""
    import pyarrow as pa

    out = []
    for field in schema:
        if pa.types.is_struct(field.type) and depth > 0:
            for child in field.type:
                out.append(f"{prefix}{field.name}.{child.name}")
            out += _struct_names(list(field.type), f"{prefix}{field.name}.", depth - 1)
    return out


def read_hf(path: Path, wanted: list[str]) -> tuple[dict, list[RawRow]]:
    """The ``wanted`` columns of a saved dataset; a nested feature's fields are columns too, under dotted names
    (``Dataset.flatten``), as a JSON object's are."""
    ds = load_hf(path)
    flat = ds.flatten()
    names = dict.fromkeys([*ds.column_names, *flat.column_names])
    top = [c for c in wanted if c in ds.column_names]
    nested = [c for c in wanted if c in flat.column_names and c not in ds.column_names]
    columns = {**(ds.select_columns(top)[:] if top else {}), **(flat.select_columns(nested)[:] if nested else {})} \
        if len(ds) else {}
    features = {**flat.features, **ds.features}
    columns = {c: [class_names(features.get(c), v) for v in values] for c, values in columns.items()}
    return names, _rows_from_columns(columns, len(ds))


def class_names(feature, value):
    """A saved dataset's value as its names say: a ``ClassLabel`` integer (or a list of them: multi-label) becomes
    its class name, -1 (no label) None; any other value is returned as it is."""
    inner = getattr(feature, "feature", None)
    if type(inner).__name__ == "ClassLabel" and isinstance(value, list):
        return [inner.int2str(v) for v in value if v is not None and v >= 0]
    if type(feature).__name__ == "ClassLabel" and isinstance(value, int):
        return feature.int2str(value) if value >= 0 else None
    return value


def load_hf(path: Path):
    """A saved ``Dataset``, or the only split of a saved ``DatasetDict``."""
    try:
        import datasets

        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # noqa: BLE001 - FileNotFoundError, or datasets' own errors
        raise LabelerError(f"{path}: not a saved Hugging Face dataset folder ({' '.join(str(exc).split())})") from None
    if isinstance(ds, datasets.DatasetDict):
        if len(ds) != 1:
            raise LabelerError(f"{path} holds splits {sorted(ds)}; point data.path at one split's folder, "
                               f"e.g. {path / sorted(ds)[0]}")
        ds = next(iter(ds.values()))
    return ds


def _rows_from_columns(columns: dict[str, list], n_rows: int) -> list[RawRow]:
    names = list(columns)
    return [RawRow(row=i + 1, line=None, values={n: columns[n][i] for n in names}) for i in range(n_rows)]


def detect_format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():  # a saved Hugging Face dataset, a folder of data files of one format, or of text files
        saved = ("dataset_info.json", "state.json", "dataset_dict.json")
        if any((path / name).exists() for name in saved):
            return "hf"
        if not any(f.suffix.lower() in TEXT_FILES for f in visible_files(path)) and _table_files(path):
            return "tables"
        return "files"
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        hint = (" (a folder of such files is read one file per text: point data.path at the folder; a .txt file is "
                "read one text per line)") if path.suffix.lower() in TEXT_FILES else ""
        raise LabelerError(f"cannot tell the format of {path} from its suffix; set data.format "
                           f"(csv, jsonl, parquet, hf, files, xlsx, lines, tables or mbox){hint}")
    return found


def _table_files(path: Path) -> list[Path]:
    """A folder's data files when they share one format (``TABLES``); several formats: a one-line error."""
    files = [f for f in visible_files(path) if SUFFIXES.get(f.suffix.lower()) in TABLES]
    kinds = sorted({SUFFIXES[f.suffix.lower()] for f in files})
    if len(kinds) > 1:
        raise LabelerError(f"{path} holds data files of {len(kinds)} formats ({', '.join(kinds)}); keep one format "
                           "in the folder (set data.format to choose how the rest is read)")
    return files


def read_tables(path: Path, wanted: list[str], encoding: str = "utf-8",
                sheet: str | None = None) -> tuple[dict, list[RawRow]]:
    """A folder of data files of one format (monthly exports), read as one table in path order, with a ``file``
    column (the file's path in the folder). A rejected row's detail names its file; its line is the file's."""
    columns: dict = {}
    rows: list[RawRow] = []
    for f in _table_files(path):
        rel = f.relative_to(path).as_posix()
        cols, part = reader_for(SUFFIXES[f.suffix.lower()], encoding, sheet)(f, [c for c in wanted if c != "file"])
        columns.update(cols)
        for raw in part:
            raw.row = len(rows) + 1
            if raw.values is not None:
                raw.values["file"] = rel
            else:
                raw.detail = f"{rel}: {raw.detail}" if raw.detail else rel
            rows.append(raw)
    return {**columns, "file": None}, rows


def reader_for(fmt: str, encoding: str = "utf-8", sheet: str | None = None):
    """The reader of a format: ``reader(path, wanted_columns) -> (columns, rows)``; CSV and JSON Lines are
    decoded with ``encoding`` (``data.encoding``); an Excel workbook is read from ``sheet`` (``data.sheet``)."""
    if fmt in ("csv", "jsonl", "files", "lines", "mbox"):
        readers = {"csv": read_csv, "jsonl": read_jsonl, "files": read_files, "lines": read_lines, "mbox": read_mbox}
        return functools.partial(readers[fmt], encoding=encoding)
    if fmt in ("xlsx", "tables"):
        return functools.partial(read_xlsx, sheet=sheet) if fmt == "xlsx" else \
            functools.partial(read_tables, encoding=encoding, sheet=sheet)
    return {"parquet": read_parquet, "hf": read_hf}[fmt]
