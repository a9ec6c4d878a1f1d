"""The pool in memory (``Pool``, a list of ``Record``) and its Parquet file (``Pool.save`` / ``Pool.load``)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from labeler.data.multilabel import LabelNotes
from labeler.data.rows import INVALID_UTF8
from labeler.errors import LabelerError

META_KEY = b"labeler.pool"
# 2: a blank single-label cell reads as no label (was the label ''); 3: a CSV or sheet header's repeated or blank
# names are renamed (the last repeat won), a saved dataset's ClassLabel values read as their names
POOL_VERSION = 3


@dataclass(slots=True)
class Record:
    """One text to label. ``fields``: every text field (``""`` where absent); ``text``: what models read;
    ``label`` (single-label) / ``labels`` (multi-label): held-back truth from ``data.label_field``."""

    id: str
    text: str
    fields: dict[str, str]
    row: int
    duplicates: int = 1
    too_long: bool = False
    label: str | None = None
    labels: list[str] | None = None


@dataclass
class Pool:
    records: list[Record]
    rejects: dict[str, int]
    rows_read: int
    text_fields: list[str]
    source: str = ""
    label_notes: dict = field(default_factory=dict)  # multi-label truth: odd cells per kind (labeler.data.multilabel)
    changed: str | None = None  # what a fresh read found against the last one ("200 new records since ..."); not saved
    _index: dict[str, int] | None = field(default=None, init=False, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Record:
        return self.records[i]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.records]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.records]

    @property
    def collapsed(self) -> int:
        """Rows merged into an earlier identical record."""
        return sum(r.duplicates - 1 for r in self.records)

    @property
    def index(self) -> dict[str, int]:
        """Record id -> position."""
        if self._index is None:
            self._index = {r.id: i for i, r in enumerate(self.records)}
        return self._index

    def summary(self) -> str:
        too_long = sum(r.too_long for r in self.records)
        rejected = ", ".join(f"{n} {reason}" for reason, n in sorted(self.rejects.items())) or "none"
        labels = LabelNotes.from_dict(self.label_notes).line()
        hint = " - set data.encoding to the file's encoding, e.g. latin-1" if self.rejects.get(INVALID_UTF8) else ""
        return (f"{len(self)} records from {self.rows_read} rows ({self.collapsed} duplicates collapsed; "
                f"rejected: {rejected}{hint}; {too_long} over max_chars)" + (f"; {labels}" if labels else "")
                + (f"; {self.changed}" if self.changed else ""))

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, path: str | Path, cache_key: str = "") -> None:
        """Write ``pool.parquet``: columns ``id`` (string), ``text`` (string), ``fields``
        (struct of one string per text field), ``row`` (int64, 1-based source row), ``duplicates``
        (int64), ``too_long`` (bool), ``label`` (string, null) and ``labels`` (list<string>, null);
        schema metadata ``labeler.pool`` holds JSON {version, source, text_fields, rows_read, rejects, cache_key}."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        recs = self.records
        struct = pa.struct([(name, pa.string()) for name in self.text_fields])
        table = pa.table({
            "id": pa.array([r.id for r in recs], pa.string()),
            "text": pa.array([r.text for r in recs], pa.string()),
            "fields": pa.array([r.fields for r in recs], struct),
            "row": pa.array([r.row for r in recs], pa.int64()),
            "duplicates": pa.array([r.duplicates for r in recs], pa.int64()),
            "too_long": pa.array([r.too_long for r in recs], pa.bool_()),
            "label": pa.array([r.label for r in recs], pa.string()),
            "labels": pa.array([r.labels for r in recs], pa.list_(pa.string())),
        })
        meta = {"version": POOL_VERSION, "source": self.source, "text_fields": self.text_fields,
                "rows_read": self.rows_read, "rejects": self.rejects, "cache_key": cache_key,
                "label_notes": self.label_notes}
        table = table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # per process: `torchrun` runs several
        pq.write_table(table, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "Pool":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
            meta = json.loads(table.schema.metadata[META_KEY])
        except Exception as exc:  # noqa: BLE001 - any damage means "not a pool file"
            raise LabelerError(f"cannot read pool file {path}: {exc}; delete it to rebuild") from None
        cols = {name: table.column(name).to_pylist() for name in table.column_names}
        records = [
            Record(id=i, text=t, fields=f, row=r, duplicates=d, too_long=tl, label=lab, labels=labs)
            for i, t, f, r, d, tl, lab, labs in zip(cols["id"], cols["text"], cols["fields"], cols["row"],
                                                    cols["duplicates"], cols["too_long"], cols["label"], cols["labels"])
        ]
        return cls(records=records, rejects=meta["rejects"], rows_read=meta["rows_read"],
                   text_fields=meta["text_fields"], source=meta["source"], label_notes=meta.get("label_notes") or {})

    @staticmethod
    def ids_of(path: str | Path) -> list[str]:
        """The ids of a saved pool, its id column alone ([] when it cannot be read: it is rebuilt anyway)."""
        import pyarrow.parquet as pq

        try:
            return [str(i) for i in pq.read_table(path, columns=["id"]).column("id").to_pylist()]
        except Exception:  # noqa: BLE001 - a damaged or older file: nothing to read
            return []

    @staticmethod
    def cache_key_of(path: str | Path) -> str:
        import pyarrow.parquet as pq

        try:
            meta = pq.read_schema(path).metadata or {}
            return json.loads(meta[META_KEY]).get("cache_key", "")
        except Exception:  # noqa: BLE001 - unreadable cache = no cache
            return ""
