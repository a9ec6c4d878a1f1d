"""Gold / calibration / train splits that stay put as labels grow.

Each record is ranked within its stratum (its label; for multi-label rows, its rarest label) by a seeded
hash of its id, ``u = sha256(seed, salt, id) in [0, 1)``. The first time a record is seen it joins gold if
it is among the lowest-``u`` new records needed to bring its stratum's gold count to
``round(gold_fraction * stratum size)``; the calibration split is filled the same way from the rest. That is
"hash below the fraction" with a stratification correction that only ever places *new* records.

Every assignment is written to a JSON file and reused: a record's membership never changes between rounds,
even when it is relabelled or temporarily disappears from the table, so gold is never trained on.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from training.errors import TrainingError

GOLD, CALIB, TRAIN = "gold", "calib", "train"
SPLIT_FILE = "splits.json"


@functools.lru_cache(maxsize=1 << 18)  # a round draws the reserve from the same ids several times (10k: 10 ms each)
def hash_unit(seed: int, record_id: str, salt: str = GOLD) -> float:
    """A uniform number in [0, 1) fixed by (seed, salt, id)."""
    digest = hashlib.sha256(f"{seed}:{salt}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Splits:
    """id -> "gold" | "calib" | "train", plus the parameters that made it."""

    seed: int = 0
    gold_fraction: float = 0.2
    calib_fraction: float = 0.1
    assignment: dict[str, str] = field(default_factory=dict)

    def of(self, ids: Sequence[str]) -> np.ndarray:
        return np.array([self.assignment.get(str(i), "") for i in ids], dtype=object)

    def mask(self, ids: Sequence[str], name: str) -> np.ndarray:
        return self.of(ids) == name

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.assignment.values()))

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 1,
            "seed": self.seed,
            "gold_fraction": self.gold_fraction,
            "calib_fraction": self.calib_fraction,
            "assignment": dict(sorted(self.assignment.items())),
        }
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> "Splits":
        try:
            data = json.loads(Path(path).read_text())
            return cls(
                seed=int(data["seed"]),
                gold_fraction=float(data["gold_fraction"]),
                calib_fraction=float(data["calib_fraction"]),
                assignment={str(k): str(v) for k, v in data["assignment"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TrainingError(f"split file {path} is unreadable ({exc}); restore it from version control") from None


def strata(df: pd.DataFrame, multi_label: bool) -> list[str]:
    """The stratum of each row: its label, or for multi-label rows the rarest of its labels ("" for none)."""
    if not multi_label:
        return [str(x) for x in df["label"]]
    freq = Counter(lab for labs in df["labels"] for lab in labs)
    return [min(labs, key=lambda lab: (freq[lab], lab)) if len(labs) else "" for labs in df["labels"]]


def _place(ids_by_stratum, existing, splits: Splits, name: str, fraction: float, salt: str, eligible) -> None:
    """Per stratum, add the lowest-hash eligible new ids to ``name`` until it holds round(fraction * size)."""
    for stratum, ids in ids_by_stratum.items():
        have = sum(1 for i in ids if existing.get(i) == name)
        target = int(round(fraction * len(ids)))
        new = sorted((i for i in ids if i not in existing and eligible(i)), key=lambda i: (hash_unit(splits.seed, i, salt), i))
        for i in new[: max(0, target - have)]:
            splits.assignment[i] = name


def assign_splits(
    df: pd.DataFrame,
    multi_label: bool,
    path: str | Path | None = None,
    seed: int = 0,
    gold_fraction: float = 0.2,
    calib_fraction: float = 0.1,
) -> Splits:
    """Assign every id in ``df`` (columns ``id`` and ``label``/``labels``) and save to ``path``.

    Ids already in the file keep their split. A file made with other parameters is an error: changing the
    seed or fraction would move gold records into training.
    """
    if not (0 <= gold_fraction < 1 and 0 <= calib_fraction < 1 and gold_fraction + calib_fraction < 1):
        raise TrainingError(f"gold_fraction {gold_fraction} and calib_fraction {calib_fraction} must be in [0, 1) and sum below 1")
    if path is not None and Path(path).exists():
        splits = Splits.load(path)
        if (splits.seed, splits.gold_fraction, splits.calib_fraction) != (seed, gold_fraction, calib_fraction):
            raise TrainingError(
                f"split file {path} was made with seed={splits.seed} gold_fraction={splits.gold_fraction} "
                f"calib_fraction={splits.calib_fraction}, not seed={seed} gold_fraction={gold_fraction} "
                f"calib_fraction={calib_fraction}; keep the old values, or delete the file to re-split (gold will change)"
            )
    else:
        splits = Splits(seed=seed, gold_fraction=gold_fraction, calib_fraction=calib_fraction)
    existing = dict(splits.assignment)
    ids = [str(i) for i in df["id"]]
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for i, s in zip(ids, strata(df, multi_label)):
        by_stratum[s].append(i)
    _place(by_stratum, existing, splits, GOLD, gold_fraction, GOLD, lambda i: True)
    _place(by_stratum, existing, splits, CALIB, calib_fraction, CALIB, lambda i: i not in splits.assignment)
    for i in ids:
        splits.assignment.setdefault(i, TRAIN)
    if path is not None:
        splits.save(path)
    return splits
