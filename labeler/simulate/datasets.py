"""The labeled benchmark data sets ``labeler simulate --dataset NAME`` knows, with short label descriptions.

Each entry says where the rows live (relative to the shared data folder, ``<repo>/../shared/datasets``
by default), which rows form the fixed held-out evaluation split (never queried), and a short description
per label that the embedding zero-shot signal embeds with the label name.

=================  ======================================  ===========================================
name               pool (queried)                          eval (held out)
=================  ======================================  ===========================================
``ag_news``        ``ag_news/test_all.jsonl`` split=pool   split=eval (every 5th row per class; 1,520)
``banking77``      ``banking77/train.jsonl`` (10,003)      ``banking77/test.jsonl`` (3,080)
``sms_spam``       ``sms_spam/all.jsonl`` split=pool       split=eval (1,114)
``nlupp_banking``  ``nlupp/banking.jsonl`` folds 2-19      folds 0-1 (multi-label, 48 intents)
``nlupp_hotels``   ``nlupp/hotels.jsonl`` folds 4-19       folds 0-3 (multi-label, 40 intents; 197)
``goemotions``     ``goemotions/train.jsonl`` first 6,000  ``goemotions/test.jsonl`` first 2,000
                                                           (multi-label, 27 emotions + neutral)
=================  ======================================  ===========================================

GoEmotions keeps ``neutral`` as a label, as the paper does (its BERT baseline's macro-F1 0.46 is over the 28
labels), so every row carries at least one label; a project may instead treat it as "none of these" (an
empty set). Its pool is the first 6,000 of the 43,410 training rows, enough to measure and cheap to embed.
NLU++ hotels holds out four folds (not two as banking does) so its eval split is about as large (197 rows).

Descriptions: ``labeler.simulate.descriptions`` (written by hand from the label names; the benchmarks use
the same ones); NLU++ from the source's own ``ontology.json`` ("is the intent to affirm something?" becomes
"to affirm something"), read at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from labeler.errors import LabelerError
from labeler.simulate.descriptions import AG_NEWS, BANKING77, GOEMOTIONS, SMS_SPAM

REPO = Path(__file__).resolve().parents[2]
SHARED_DATASETS = (REPO / ".." / "shared" / "datasets").resolve()


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    label: str | list[str]


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set: ``load(root) -> (pool rows, eval rows)`` and the label descriptions."""

    name: str
    multi_label: bool
    primary_metric: str  # what the curves lead with: accuracy, spam_f1 or micro_f1
    loader: Callable[[Path], tuple[list[Row], list[Row]]]
    descriptions: Callable[[Path], dict[str, str]]
    positive_label: str | None = None  # sms_spam: the class whose F1 is reported

    def load(self, root: str | Path | None = None) -> tuple[list[Row], list[Row]]:
        root = Path(root) if root is not None else SHARED_DATASETS
        if not root.exists():
            raise LabelerError(f"shared data sets not found at {root} (expected <repo>/../shared/datasets)")
        return self.loader(root)


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise LabelerError(f"data file not found: {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _split_field(file: str, label_key: str = "label") -> Callable[[Path], tuple[list[Row], list[Row]]]:
    def load(root: Path):
        pool, held = [], []
        for i, r in enumerate(_jsonl(root / file)):
            row = Row(str(r.get("id", i)), r["text"], r[label_key])
            (held if r["split"] == "eval" else pool).append(row)
        return pool, held

    return load


def _banking77(root: Path):
    def rows(name: str) -> list[Row]:
        return [Row(f"{name}-{i}", r["text"], r["label"]) for i, r in enumerate(_jsonl(root / "banking77" / f"{name}.jsonl"))]

    return rows("train"), rows("test")


def _nlupp(domain: str, prefix: str, eval_folds: tuple[int, ...]) -> Callable[[Path], tuple[list[Row], list[Row]]]:
    def load(root: Path):
        pool, held = [], []
        for i, r in enumerate(_jsonl(root / "nlupp" / f"{domain}.jsonl")):
            row = Row(f"{prefix}-{i}", r["text"], list(r["labels"]))
            (held if int(r["fold"]) in eval_folds else pool).append(row)
        return pool, held

    return load


GOEMOTIONS_POOL, GOEMOTIONS_EVAL = 6000, 2000


def _goemotions(root: Path):
    def rows(name: str, n: int) -> list[Row]:
        return [Row(r["id"], r["text"], list(r["labels"])) for r in _jsonl(root / "goemotions" / f"{name}.jsonl")[:n]]

    return rows("train", GOEMOTIONS_POOL), rows("test", GOEMOTIONS_EVAL)


def _nlupp_descriptions(root: Path) -> dict[str, str]:
    path = root / "nlupp" / "original" / "data" / "ontology.json"
    if not path.exists():
        return {}
    intents = json.loads(path.read_text(encoding="utf-8")).get("intents", {})
    out = {}
    for name, info in intents.items():
        text = str(info.get("description", "")).strip().rstrip("?")
        for prefix in ("is the intent ", "is the intend ", "is the "):
            if text.lower().startswith(prefix):
                text = text[len(prefix):]
                break
        out[name] = text
    return out


DATASETS: dict[str, DatasetSpec] = {
    "ag_news": DatasetSpec("ag_news", False, "accuracy", _split_field("ag_news/test_all.jsonl"), lambda root: AG_NEWS),
    "banking77": DatasetSpec("banking77", False, "accuracy", _banking77, lambda root: BANKING77),
    "sms_spam": DatasetSpec("sms_spam", False, "spam_f1", _split_field("sms_spam/all.jsonl"), lambda root: SMS_SPAM,
                            positive_label="spam"),
    "nlupp_banking": DatasetSpec("nlupp_banking", True, "micro_f1", _nlupp("banking", "nlupp", (0, 1)),
                                 _nlupp_descriptions),
    "nlupp_hotels": DatasetSpec("nlupp_hotels", True, "micro_f1", _nlupp("hotels", "nlupp-hotels", (0, 1, 2, 3)),
                                _nlupp_descriptions),
    "goemotions": DatasetSpec("goemotions", True, "micro_f1", _goemotions, lambda root: GOEMOTIONS),
}


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise LabelerError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}") from None
