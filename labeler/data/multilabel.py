"""Held-back multi-label truth from one label cell (``data.label_field``), and what was odd about it.

A cell is read as a label list whatever its shape; nothing odd is silent: every case below is counted per
kind (``LabelNotes``) and named in one line of ``Pool.summary()``. Rows are never rejected for their labels
(the text can still be labeled); a row whose labels cannot be read has no truth (``None``), like a row
without the column.

============================  ==========================================================================
cell                          read as
============================  ==========================================================================
a list (or JSON list text)    its items as strings; an empty list is the answer "None of these" (``[]``)
a config label (string)       that one label
a string with ``|`` ``;``     split there (in that order of preference; a config label that holds the
``,``                         character is never split)
a string whose parts are      no truth, counted as an unknown separator (e.g. ``billing/refund``): taking
config labels split at some   it as one label outside the config would turn the row into "None of these"
other character
a list of lists or objects    no truth, counted
null / NaN / blank string     no truth (not counted: a row without a label)
============================  ==========================================================================

With the config's labels known, labels outside them are dropped and counted (with the rows they leave
empty: those read as "None of these", as ``labeler simulate`` and the simulated annotator answer them).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any, Sequence

SEPARATORS = ("|", ";", ",")
_OTHER_SEPARATOR = re.compile(r"[^\w\-]+")  # a run of anything but letters, digits, "_" and "-"

# kinds, in the order the summary names them
STRING_AMONG_LISTS = "string among lists"
SPLIT = "split at a separator"
JSON_TEXT = "JSON list written as text"
EMPTY_LIST = "empty list"
UNKNOWN_SEPARATOR = "unknown separator"
NOT_LABELS = "not a list of labels"
OUTSIDE = "label outside task.labels"
LEFT_EMPTY = "left empty"
KINDS = (STRING_AMONG_LISTS, SPLIT, JSON_TEXT, EMPTY_LIST, UNKNOWN_SEPARATOR, NOT_LABELS, OUTSIDE, LEFT_EMPTY)


class LabelNotes(Counter):
    """Counts per kind over a whole column (``strings`` and ``lists``: how many cells had each shape; a string
    and a split string are the normal shape of a CSV column and only named when lists are there too)."""

    example: str = ""  # the first cell with an unknown separator

    def line(self) -> str | None:
        """One line naming every count, or None when there is nothing to say."""
        parts = []
        if self["strings"] and self["lists"]:
            parts.append(f"{self['strings']} strings among lists (read as a JSON list, one label, or split at | ; ,)")
        if self[EMPTY_LIST]:
            parts.append(f"{self[EMPTY_LIST]} empty lists (the answer 'None of these')")
        if self[UNKNOWN_SEPARATOR]:
            parts.append(f"{self[UNKNOWN_SEPARATOR]} with a separator the reader does not know, e.g. "
                         f"{self.example!r} (no truth; use a list or | between labels)")
        if self[NOT_LABELS]:
            parts.append(f"{self[NOT_LABELS]} not a list of labels (no truth)")
        if self[OUTSIDE]:
            left = f", leaving {self[LEFT_EMPTY]} rows with none ('None of these')" if self[LEFT_EMPTY] else ""
            parts.append(f"{self[OUTSIDE]} labels outside task.labels dropped in {self['outside_rows']} rows{left}")
        return ("held-back labels: " + "; ".join(parts)) if parts else None

    def as_dict(self) -> dict[str, Any]:
        return {**{k: int(v) for k, v in self.items() if v}, **({"example": self.example} if self.example else {})}

    @classmethod
    def from_dict(cls, data: dict | None) -> "LabelNotes":
        data = dict(data or {})
        notes = cls({k: v for k, v in data.items() if k != "example"})
        notes.example = str(data.get("example", ""))
        return notes


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


def _items(values) -> list[str] | None:
    """A list's items as label strings; None when an item is a list or an object."""
    out = []
    for v in values:
        if isinstance(v, (list, tuple, dict, set)):
            return None
        if _missing(v):
            continue
        out.append(str(v).strip())
    return out


def parse_labels(value: Any, label_names: Sequence[str] | None, notes: LabelNotes) -> list[str] | None:
    """The label list of one cell (``None``: no truth), counting what was odd in ``notes``; with
    ``label_names``, labels outside them are dropped (and counted)."""
    if _missing(value):
        return None
    known = set(label_names) if label_names is not None else None
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy / pyarrow arrays from Parquet or HF
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        notes["lists"] += 1
        labels = _items(value)
    elif isinstance(value, str):
        labels = _from_string(value.strip(), known, notes)
        if labels is _UNKNOWN:
            return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        notes["strings"] += 1
        labels = [str(int(value) if float(value).is_integer() else value)]
    else:
        labels = None
    if labels is None:
        notes[NOT_LABELS] += 1
        return None
    labels = list(dict.fromkeys(labels))  # a label twice is one label
    if not labels:
        notes[EMPTY_LIST] += 1
        return []
    if known is not None:
        kept = [lab for lab in labels if lab in known]
        if len(kept) < len(labels):
            notes[OUTSIDE] += len(labels) - len(kept)
            notes["outside_rows"] += 1
            notes[LEFT_EMPTY] += not kept
        labels = kept
    return labels


_UNKNOWN = object()


def _from_string(text: str, known: set[str] | None, notes: LabelNotes):
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            notes[JSON_TEXT] += 1
            notes["strings"] += 1
            return _items(parsed)
    notes["strings"] += 1
    if known is not None and text in known:
        return [text]
    for sep in SEPARATORS:
        if sep in text:
            notes[SPLIT] += 1
            return [part.strip() for part in text.split(sep) if part.strip()]
    if known is not None and text not in known:
        parts = [p for p in _OTHER_SEPARATOR.split(text) if p]
        if len(parts) >= 2 and all(p in known for p in parts):
            notes[UNKNOWN_SEPARATOR] += 1
            notes.example = notes.example or text[:60]
            return _UNKNOWN
    return [text]
