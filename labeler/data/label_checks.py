"""Held-back labels the config does not name: counted and said once, never dropped in silence.

A pool read with ``data.label_field`` keeps each row's label (``Record.label``, or ``Record.labels`` for
multi-label). A value that is not one of the config's labels (a typo, a retired intent) cannot be an
answer: ``labeler simulate`` leaves such a row out (multi-label: drops the unknown labels of the row) and the
demo's simulated annotator skips it. ``labels_outside`` counts them so ``bootstrap`` and ``simulate`` can say so
in one line, with the closest configured name when one is near. ``look_alikes``: the values of a label column
that look like a typo of a more frequent one (``labeler init --labels-from``). ``rename``: a label answered or
held back under a name the config has since changed (``task.labels[].was``), under its name now; the label table,
the raw answers and the pool's truth all read through it.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

SHOWN = 5  # values named in the line; the rest are counted


@dataclass
class OutsideLabels:
    """Rows whose held-back label (any of them, multi-label) is not a configured label, and those values."""

    rows: int = 0
    values: Counter = field(default_factory=Counter)  # value -> rows holding it
    near: dict[str, str] = field(default_factory=dict)  # value -> the closest configured label
    multi_label: bool = False

    def line(self, shown: int = SHOWN) -> str | None:
        """One console line (None when every held-back label is configured)."""
        if not self.rows:
            return None
        top = self.values.most_common()
        named = [f"{v!r} ({n}" + (f", did you mean {self.near[v]!r}?" if v in self.near else "") + ")"
                 for v, n in top[:shown]]
        more = f" and {len(top) - shown} more values" if len(top) > shown else ""
        what = ("those labels are dropped from simulate/demo answers" if self.multi_label
                else "held out of simulate/demo answers")
        rows = "1 row carries a label" if self.rows == 1 else f"{self.rows:,} rows carry labels"
        return f"{rows} outside the config: {', '.join(named)}{more}; {what}"


def labels_outside(records, names, multi_label: bool) -> OutsideLabels:
    """Count the records whose held-back label is not in ``names`` (rows without a label are not counted)."""
    known = set(names)
    out = OutsideLabels(multi_label=multi_label)
    for r in records:
        held = (r.labels or []) if multi_label else ([] if r.label is None else [r.label])
        unknown = list(dict.fromkeys(v for v in held if v not in known))
        if unknown:
            out.rows += 1
            out.values.update(unknown)
    for value in out.values:
        close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.8)
        if close:
            out.near[value] = close[0]
    return out


def look_alikes(counts: dict[str, int], cutoff: float = 0.9) -> list[tuple[str, str]]:
    """(rare, common) pairs of label values that look like a typo of each other (``card_arival`` in 1 row,
    ``card_arrival`` in 37): the rarer one is named first, and is at most a third as frequent. Values that differ
    only in case and spacing (``Billing, invoices``, ``billing,  Invoices``) are one label written two ways at any
    counts; values differing only in digits (``intent_1``, ``intent_11``) or in whole words
    (``hotel_request_info``, ``bank_request_info``: a namespace, not a slip of the hand) are not look-alikes."""
    names = sorted(counts, key=lambda n: (-counts[n], n))
    out = []
    for i, rare in enumerate(names):
        for common in names[:i]:
            if _folded(rare) == _folded(common):
                out.append((rare, common))
                break
            if counts[rare] * 3 > counts[common] or re.sub(r"\d", "", rare) == re.sub(r"\d", "", common):
                continue
            if difflib.SequenceMatcher(None, rare, common).ratio() >= cutoff and not _other_words(rare, common):
                out.append((rare, common))
                break
    return out


def _folded(name: str) -> str:
    return " ".join(name.casefold().split())


def _other_words(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` split into as many words (at ``_``, ``-``, ``/``, ``.``, ``:`` and spaces) and every
    word that differs is another word, not a misspelt one (``h``/``b``; ``arival``/``arrival`` is misspelt)."""
    wa, wb = re.split(r"[\W_]+", a.lower()), re.split(r"[\W_]+", b.lower())
    if len(wa) != len(wb):
        return False
    differ = [(x, y) for x, y in zip(wa, wb) if x != y]
    return bool(differ) and all(min(len(x), len(y)) <= 2 or difflib.SequenceMatcher(None, x, y).ratio() < 0.75
                                for x, y in differ)


def rename(value: Any, names: dict[str, str]) -> Any:
    """A label, or a sequence of labels (deduplicated, in order), under its name now (``names``:
    ``TaskConfig.renamed``); anything else (None, a number) as it is."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and hasattr(value, "__len__")
                                             and not isinstance(value, (dict, bytes))):
        return list(dict.fromkeys(names.get(v, v) for v in value))
    return value


READS_LABEL_WORDS = ("embedding", "nli", "summarize", "templated")  # signal types that read a label's name/description


def wordless_labels(labels, signal_types) -> str | None:
    """A warning when labels are codes (``0``, ``1``, ``B-2``: no letter) with no description while a signal reads
    label words (``READS_LABEL_WORDS``): the zero-shot signals would compare each text with "0", "1"... None when
    every label has words to read or no signal reads them. ``labels``: the config's (``task.labels``)."""
    if not any(t in READS_LABEL_WORDS for t in signal_types):
        return None
    codes = [label.name for label in labels if not label.description and not any(c.isalpha() for c in label.name)]
    if not codes:
        return None
    shown = ", ".join(map(repr, codes[:SHOWN])) + (f" and {len(codes) - SHOWN} more" if len(codes) > SHOWN else "")
    return (f"warning: {len(codes)} of {len(labels)} labels are codes with no words ({shown}): the zero-shot "
            "signals read each label's name and description, so give each a description (task.labels: - {name: "
            "'0', description: 'one sentence on what belongs here'})")
