"""What ``labeler init`` guesses from a sample of the data: the text column(s), an id column, a label column.

Columns are matched by name, in any case, at the top level or nested (``ticket.body``: a JSON object's fields are
read under dotted names, ``labeler.data.readers.with_nested``): the first of ``TEXT_NAMES`` is the body, else the
string column with the longest texts; a heading (``HEADING_NAMES``) goes before the body it heads unless the body
repeats it; an id column is one named like ids whose sampled values are unique.
"""

from __future__ import annotations

from pathlib import Path

from labeler.errors import LabelerError

TEXT_NAMES = ("text", "content", "body", "message", "sentence", "review", "document", "utterance", "comment",
              "description", "question", "title", "subject")
HEADING_NAMES = ("title", "subject", "headline")  # read before the body they head, unless the body repeats them
ID_NAMES = ("id", "_id", "uuid", "record_id", "doc_id", "example_id", "path", "filename", "file_name")
LABEL_NAMES = ("label", "labels", "category", "intent", "class", "target", "topic")


def _leaf(column) -> str:
    """A column's own name, in lower case, to match against the names above: ``ticket.Body`` -> ``body`` (nested
    JSON fields are read under dotted names; exports often capitalise their headers: ``Subject``, ``Body``)."""
    return str(column).rsplit(".", 1)[-1].lower()


def named(columns: list[str], name: str) -> str | None:
    """The first column called ``name``, at the top level or nested (``ticket.subject``)."""
    return name if name in columns else next((c for c in columns if _leaf(c) == name), None)


def guess_text_field(columns: list[str], rows: list[dict], data_path: Path) -> str:
    stringy = [c for c in columns if string_share(rows, c) >= 0.8]
    candidates = [c for c in stringy if _leaf(c) not in ID_NAMES and _leaf(c) not in LABEL_NAMES]
    for name in TEXT_NAMES:
        found = named(stringy, name)
        if found is not None:
            if name in HEADING_NAMES:  # a title found first: the longer column it heads is the body (an abstract)
                longer = [c for c in candidates
                          if _leaf(c) not in HEADING_NAMES and mean_length(rows, c) > mean_length(rows, found)]
                if longer:
                    return max(longer, key=lambda c: mean_length(rows, c))
            return found
    if not candidates:
        raise LabelerError(f"no text-like column in {data_path} (columns: {', '.join(map(str, columns))}); "
                           f"name one with --text-field")
    return max(candidates, key=lambda c: sum(len(r[c]) for r in rows if isinstance(r.get(c), str)))


def with_heading(body: str, columns: list[str], rows: list[dict]) -> list[str]:
    """``[heading, body]`` when a heading column (a title, a subject) is there and the body does not already
    hold it (AG News' ``text`` starts with its ``title``) in most sampled rows; ``[body]`` otherwise."""
    if _leaf(body) in HEADING_NAMES:
        return [body]
    for name in HEADING_NAMES:
        found = named(columns, name)
        if found is not None and string_share(rows, found) >= 0.8:
            inside = share_inside(rows, found, [body])
            if inside is not None and inside <= 0.5:
                return [found, body]
    return [body]


def share_inside(rows: list[dict], column: str, fields: list[str]) -> float | None:
    """The share of sampled rows whose ``column`` text is already inside the ``fields`` read (AG News' ``title``
    inside its ``text``); None when the column is blank in every row."""
    pairs = [(r[column].strip(), " ".join(v for f in fields if isinstance(v := r.get(f), str))) for r in rows
             if isinstance(r.get(column), str) and r[column].strip()]
    return sum(value in text for value, text in pairs) / len(pairs) if pairs else None


def _id_like(name: str) -> bool:
    """A column named as ids are: ``id``, ``uuid``, ``article_id``, ``messageId``, ``Ticket ID``."""
    low = str(name).lower()
    return low in ID_NAMES or low.endswith(("_id", "-id", " id", ".id")) or str(name).endswith("Id")


def guess_id_field(columns: list[str], rows: list[dict], fields: list[str]) -> str | None:
    candidates = [c for c in ID_NAMES if c in columns] + [c for c in columns if c not in ID_NAMES and _id_like(c)]
    for name in candidates:
        if name not in fields:
            values = [r.get(name) for r in rows]
            if all(v is not None and not isinstance(v, (dict, list)) for v in values) \
                    and len(set(map(str, values))) == len(values):
                return name
    return None


def mean_length(rows: list[dict], column: str) -> float:
    values = [len(r[column]) for r in rows if isinstance(r.get(column), str)]
    return sum(values) / len(values) if values else 0.0


def string_share(rows: list[dict], column: str) -> float:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return sum(isinstance(v, str) for v in values) / len(values) if values else 0.0
