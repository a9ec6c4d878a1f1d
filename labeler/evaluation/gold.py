"""The project's gold set: human labels on records drawn uniformly at random from the pool.

Records whose id hashes below ``queue.gold_share`` form the gold reserve (``labeler.loop.engine.gold_reserve``).
Every push fills ``gold_share`` of the batch from the reserve in draw order; the queue never picks from it
and no model is trained on it. Answered reserve records split into gold (evaluation, ``compare``, join and
replace decisions) and calibration (``training.calib_share`` of them, by a second hash). Every other human
label was chosen by the queue and is training data only. Because the reserve depends only on the ids and
the share, the share is recorded at the first push and may not change afterwards.
"""

from __future__ import annotations

import numpy as np

from labeler.loop.engine import CALIB, GOLD, TRAIN, hash_unit, split_of
from labeler.errors import LabelerError
from labeler.loop.human_labels import label_matrix
from labeler.project import Project

RESERVE_SEED = 0  # fixed: the reserve must not move when queue.seed changes


def gold_share(config) -> float:
    """The configured share, checked against the one recorded at the project's first push."""
    share = float(config.queue.gold_share)
    recorded = Project(config).read_state().get("gold_share")
    if recorded is not None and abs(float(recorded) - share) > 1e-12:
        raise LabelerError(f"queue.gold_share is {share:g} but this project's gold set was drawn with {recorded:g}; "
                           "changing it would move trained-on records into gold: keep the old value")
    return share


def in_reserve(record_id: str, share: float) -> bool:
    return hash_unit(RESERVE_SEED, str(record_id), GOLD) < share


def splits_for(config, ids) -> dict[str, str]:
    """``gold`` / ``calib`` / ``train`` for each labeled id."""
    share = gold_share(config)
    calib = float(config.training.calib_share)
    return {str(i): split_of(str(i), in_reserve(i, share), calib, RESERVE_SEED) for i in ids}


def split_rows(config, ids: list[str], rows: np.ndarray) -> np.ndarray:
    """The split name of each labeled row (``rows`` index ``ids``)."""
    split = splits_for(config, [ids[r] for r in rows])
    return np.array([split[ids[r]] for r in rows], dtype=object)


def rows_in_split(config, ids: list[str], labels_df, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of ``ids`` in ``split`` with a submitted human label, in pool order, and their targets."""
    rows, y = label_matrix(labels_df, ids, config.label_names, config.task.multi_label)
    if y is None:
        return rows, None
    order = np.argsort(rows, kind="stable")  # pool order: the answers' arrival order never matters
    rows, y = rows[order], y[order]
    keep = split_rows(config, ids, rows) == split
    return rows[keep], (y[keep] if keep.any() else None)


def gold_rows(config, ids: list[str], labels_df=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of ``ids`` in the gold split with a submitted human label, and their targets."""
    labels_df = Project(config).load_labels() if labels_df is None else labels_df
    return rows_in_split(config, ids, labels_df, GOLD)


def enough_gold(config, n: int) -> tuple[bool, str]:
    """(enough, message) for ``n`` gold labels against ``training.min_gold``."""
    need = int(config.training.min_gold)
    if n >= need:
        return True, f"{n} random gold labels"
    share = float(config.queue.gold_share)
    per_push = int(np.floor(share * config.queue.batch_size + 0.5))
    pace = f" (about {-(-(need - n) // per_push)} more rounds at {per_push} per batch)" if per_push else \
        " (queue.gold_share is 0: no batch adds gold; set it above 0)"
    return False, f"not enough gold labels for a verdict: {n} of {need} random gold labels{pace}"


__all__ = ["CALIB", "GOLD", "TRAIN", "gold_share", "in_reserve", "splits_for", "split_rows", "rows_in_split", "gold_rows",
           "enough_gold"]
