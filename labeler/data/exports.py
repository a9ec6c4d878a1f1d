"""What other tools export, read as rows: a folder of text files (one text per file), a plain text file (one text
per line), a mailbox (one e-mail per row) and an Excel workbook (its first sheet). Each reader returns (the columns
seen, one ``RawRow`` per row), as ``labeler.data.readers``' do.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from labeler.data.html import html_text
from labeler.data.rows import (INVALID_UTF8, NOT_TEXT_FILE, RawRow, decoded_lines, not_decodable, renamed_line,
                               unique_names)
from labeler.errors import LabelerError

TEXT_FILES = (".txt", ".text", ".md", ".eml")  # a folder's files read as texts (format files)
FILE_COLUMNS = ("path", "text", "folder")  # format files: the path in the folder, the text, the top-level subfolder


def visible_files(path: Path) -> list[Path]:
    """The files under a folder, in path order, hidden ones (a leading dot anywhere in the path) left out."""
    return sorted(f for f in path.rglob("*") if f.is_file()
                  and not any(part.startswith(".") for part in f.relative_to(path).parts))


def read_files(path: Path, wanted: list[str], encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    """A folder of text files (``TEXT_FILES``, at any depth, in path order), one row per file: ``path`` (the
    file's path inside the folder: an id), ``text`` (the whole file; an e-mail's subject and body, ``email_text``)
    and ``folder`` (the top-level subfolder it is in, '' for a file at the top: the label, where files are sorted
    into a folder per label). Any other file is a rejected row, named; hidden files and folders (a leading dot) are
    left out."""
    files = visible_files(path)
    rows: list[RawRow] = []
    for f in files:
        rel = f.relative_to(path)
        raw = RawRow(row=len(rows) + 1, line=None, preview=str(rel))
        rows.append(raw)
        if f.suffix.lower() not in TEXT_FILES:
            raw.reason = NOT_TEXT_FILE
            raw.detail = f"{rel}: only {', '.join(TEXT_FILES)} files are read from a folder"
            continue
        data = f.read_bytes().removeprefix(b"\xef\xbb\xbf")
        try:
            text = email_text(data) if f.suffix.lower() == ".eml" else None
            text = data.decode(encoding) if text is None else text  # not an e-mail, or one that cannot be parsed
        except UnicodeDecodeError as exc:
            raw.reason, raw.detail = INVALID_UTF8, f"{rel}: {not_decodable(encoding)}: {exc.reason} at byte {exc.start}"
            continue
        raw.values = {"path": rel.as_posix(), "text": text, "folder": rel.parts[0] if len(rel.parts) > 1 else ""}
    if not any(f.suffix.lower() in TEXT_FILES for f in files):  # not a folder of texts at all: say what it holds
        kinds = Counter(f.suffix.lower() or "no suffix" for f in files)
        held = ", ".join(f"{n} {k}" for k, n in kinds.most_common(5)) if files else "no file"
        raise LabelerError(f"{path}: a folder with no text files ({', '.join(TEXT_FILES)}): it holds {held}; point "
                           "data.path at a data file, a folder of data files of one format, or a folder of text files")
    return dict.fromkeys(FILE_COLUMNS), rows


def email_text(data: bytes) -> str | None:
    """An e-mail file (``.eml``, RFC 822) as what its reader sees: the subject, a blank line, the body (the plain
    text part, else the HTML part as plain text); no headers, no attachments. Each part is decoded by its own
    charset; None when the message cannot be parsed (the file is then read as text)."""
    import email
    from email import policy

    try:
        msg = email.message_from_bytes(data, policy=policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        body = "" if part is None else part.get_content()
    except Exception:  # noqa: BLE001 - an unknown charset or a broken MIME part: the file is read as text instead
        return None
    if part is not None and part.get_content_subtype() == "html":
        body = html_text(body)
    subject = str(msg["subject"] or "").strip()
    return f"{subject}\n\n{body.strip()}" if subject else body.strip()


MBOX_COLUMNS = ("message_id", "from", "date", "subject", "text")  # format mbox; text: subject and body


def read_mbox(path: Path, wanted: list[str], encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    """A mailbox file (``.mbox``: a Thunderbird or Gmail export, a shared inbox), one row per e-mail: its
    ``message_id`` (an id), ``from``, ``date``, ``subject`` and ``text`` (subject and body, ``email_text``). A message
    that cannot be parsed is a rejected row."""
    import mailbox

    rows: list[RawRow] = []
    for key, msg in mailbox.mbox(path, create=False).iteritems():
        raw = RawRow(row=len(rows) + 1, line=None)
        rows.append(raw)
        data = msg.as_bytes()
        text = email_text(data)
        if text is None:
            raw.reason, raw.detail = INVALID_UTF8, f"message {key + 1}: its parts cannot be decoded"
            continue
        raw.values = {"message_id": str(msg["message-id"] or "").strip() or None, "from": msg["from"],
                      "date": msg["date"], "subject": msg["subject"], "text": text}
    return dict.fromkeys(MBOX_COLUMNS), rows


def read_lines(path: Path, wanted: list[str], encoding: str = "utf-8") -> tuple[dict, list[RawRow]]:
    """A plain text file, one text per non-blank line (comments, survey answers): column ``text``. No id column (a
    line's number moves when lines are added): ids are a hash of the text."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    first = next((line.strip() for line in data.split(b"\n") if line.strip()), b"")
    if first[:1] == b"{" and first[-1:] == b"}":
        raise LabelerError(f"{path} looks like JSON Lines, not one text per line: name it .jsonl or set data.format: "
                           "jsonl")
    rows: list[RawRow] = []
    for raw, line in decoded_lines(data, encoding):
        rows.append(raw)
        if line is not None:
            raw.values = {"text": line.strip()}
    return {"text": None}, rows


def read_xlsx(path: Path, wanted: list[str], sheet: str | None = None) -> tuple[dict, list[RawRow]]:
    """An Excel workbook's sheet (``sheet``, ``data.sheet``; None: the first): its first row names the columns,
    every other non-empty row is a row. Cells are read as a CSV's are, as text (``cell_text``: 7 not 7.0, a date in
    ISO form); an empty cell is none."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl's own errors for a file that is no workbook
        raise LabelerError(f"{path}: not a readable Excel workbook ({' '.join(str(exc).split())})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise LabelerError(f"{path} has no sheet {sheet!r} (data.sheet); its sheets: "
                               f"{', '.join(map(repr, book.sheetnames))}")
        lines = (book[sheet] if sheet is not None else book.worksheets[0]).iter_rows(values_only=True)
        header = unique_names([cell_text(c) for c in next(lines, ()) or ()])
        rows: list[RawRow] = []
        for number, cells in enumerate(lines, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # an empty line is not a row
            rows.append(RawRow(row=len(rows) + 1, line=number,
                               values={name: cell_text(c) for name, c in zip(header, cells)}))
    finally:
        book.close()
    return dict.fromkeys(header), rows


def cell_text(value):
    """A spreadsheet cell as a CSV cell would hold it: None for an empty one, else text."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def _workbook_head(path) -> tuple[list[str], list] | None:
    """(a workbook's sheet names, its first sheet's header cells as text), for ``labeler init``'s notes; None when
    ``path`` is no workbook or cannot be read (reading it says what is wrong)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        header = next(book.worksheets[0].iter_rows(values_only=True), ()) or ()
        names = book.sheetnames
        book.close()
    except Exception:  # noqa: BLE001 - reading it says what is wrong
        return None
    return names, [cell_text(c) for c in header]


def sheet_note(path) -> str | None:
    """For ``labeler init``: which sheet of a workbook with several is read, else None."""
    head = _workbook_head(path)
    if head is None or len(head[0]) < 2:
        return None
    names = head[0]
    return (f"read the first sheet, {names[0]!r}, of {len(names)} ({', '.join(map(repr, names[1:]))} not read; "
            "data.sheet names another)")


def sheet_header_note(path) -> str | None:
    """For ``labeler init``: how the first sheet's blank or repeated column names are read (``renamed_line``)."""
    head = _workbook_head(path)
    return None if head is None else renamed_line(head[1])
