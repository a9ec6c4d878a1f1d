"""Which text encoding a CSV / JSON Lines file is in, for ``labeler init`` to write as ``data.encoding``.

UTF-8 when the first ``SNIFF`` bytes decode as UTF-8 (a character cut at the end of the sample is fine); else
Windows-1252 when they decode as that (Western European files from Excel and Windows tools), else Latin-1,
which decodes any byte. Parquet files, Excel workbooks and saved Hugging Face datasets carry their own encoding:
UTF-8 (so is a path that is not a file: the reader says what is wrong with it).
"""

from __future__ import annotations

from pathlib import Path

from labeler.data.readers import SUFFIXES

SNIFF = 4 << 20  # bytes read to decide


def guess_encoding(path: str | Path) -> str:
    path = Path(path)
    if not path.is_file() or SUFFIXES.get(path.suffix.lower()) in ("parquet", "xlsx"):  # binary: no text encoding
        return "utf-8"
    data = path.read_bytes()[:SNIFF] if path.stat().st_size <= SNIFF else _head(path)
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(SNIFF)
