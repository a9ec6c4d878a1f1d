"""The project's gold set: human labels on records drawn uniformly at random from the pool.

One object owns it: ``GoldReserve`` (the share, the calibration share, the seed), built once per command
(``GoldReserve.from_config`` with the project's state checks the share against the one recorded at the
first push; ``labeler.loop.policy`` reads the state; a ``Policy`` carries the checked share and hands out the same
reserve as ``policy.reserve``) and passed down. No file is read here.

Records whose id hashes below the share form the reserve (``training.splits.hash_unit``, the hash's one
home). Every push fills ``share`` of the batch from the reserve in draw order; the queue never picks from it
and no model is trained on it. Answered reserve records split into gold (evaluation, ``compare``, join and
replace decisions) and calibration (``calib_share`` of them, by a second hash). Every other human label was
chosen by the queue and is training data only. Because the reserve depends only on the ids and the share,
the share is recorded at the first push and may not change afterwards.

What a verdict counts (``verdict_splits``): for a single-label project nothing fitted on the calibration labels
moves an argmax (a run's calibration is a temperature, which keeps every row's order; the signals and the
zero-shot ensemble fit nothing on the reserve), so accuracy and every other argmax metric may be scored on gold
and calibration together, 1.5x the labels at the default shares, without bias. Not where a compared run's
argmax owes something to the calibration labels (``calibration_untouched``): a run that trained on them (a final
fit, or a run trained before they were always held out, which folded fewer than ``min_calibration`` into
training) or selected its checkpoint on them (the transformers backend early-stops on them). Multi-label keeps calibration for its per-label cuts: gold only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from labeler.errors import LabelerError
from labeler.loop.human_labels import label_matrix
from training.splits import CALIB, GOLD, TRAIN, hash_unit

RESERVE_SEED = 0  # fixed: the reserve must not move when queue.seed changes
PPI_UNLABELED = 1000  # unanswered reserve records a prediction-powered accuracy verdict reads (training.ppi)
VALIDATES_ON_CALIB = frozenset({"transformers"})  # backends whose fit selects a checkpoint on the calibration split


def checked_share(config, state: dict) -> float:
    """``queue.gold_share``, checked against the share recorded at the project's first push (``state``:
    the project's state, ``Project.read_state``)."""
    share = float(config.queue.gold_share)
    recorded = state.get("gold_share")
    if recorded is not None and abs(float(recorded) - share) > 1e-12:
        raise LabelerError(f"queue.gold_share is {share:g} but this project's gold set was drawn with {recorded:g}; "
                           "changing it would move trained-on records into gold: keep the old value")
    return share


@dataclass(frozen=True)
class GoldReserve:
    """The random reserve: which records are in it, in which order they are drawn, which split each
    answered one belongs to (gold / calib / train), and when there is enough gold for a verdict."""

    share: float
    calib_share: float = 1 / 3
    seed: int = RESERVE_SEED

    @classmethod
    def from_config(cls, config, state: dict) -> "GoldReserve":
        """The project's reserve, its share checked against the one recorded in ``state``."""
        return cls(checked_share(config, state), float(config.training.calib_share))

    # -- membership: one hash, one comparison ---------------------------------------------------------
    def unit(self, record_id) -> float:
        return hash_unit(self.seed, str(record_id), GOLD)

    def contains(self, record_id) -> bool:
        return self.unit(record_id) < self.share

    def mask(self, ids) -> np.ndarray:
        return self.draw(ids)[0]

    def draw(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """(reserve mask (N,), reserve rows in draw order): the records with ``unit < share``.

        The reserve is a uniform random subset of the pool fixed by the ids alone; drawing it in hash order
        makes every prefix a simple random sample too. The queue never picks from it and no model trains on it.
        """
        u = np.array([self.unit(rid) for rid in ids]) if len(ids) else np.zeros(0)
        mask = u < self.share
        rows = np.flatnonzero(mask)
        return mask, rows[np.argsort(u[rows], kind="stable")]

    def unanswered(self, ids, answered, limit: int = PPI_UNLABELED) -> np.ndarray:
        """Up to ``limit`` reserve rows of ``ids`` nobody answered (``answered``: ids with a human label, or the
        labels table), in draw order: a uniform sample of the pool drawn the way gold was, the unlabeled side of
        a prediction-powered accuracy verdict (``training.ppi``)."""
        if answered is None or hasattr(answered, "columns"):  # no labels table yet, or the table itself
            answered = [] if answered is None or not len(answered) else answered["id"]
        answered = {str(a) for a in answered}
        rows = self.draw(ids)[1]
        return np.array([r for r in rows if str(ids[r]) not in answered][:limit], dtype=np.int64)

    def picks(self, n: int) -> int:
        """How many of a batch of ``n`` come from the reserve: ``round(share * n)``."""
        return int(math.floor(self.share * n + 0.5)) if self.share > 0 else 0

    # -- splits ----------------------------------------------------------------------------------------
    def split_of(self, record_id) -> str:
        """``gold`` or ``calib`` for a reserve record (by a second hash), ``train`` for a queued one."""
        if not self.contains(record_id):
            return TRAIN
        return CALIB if hash_unit(self.seed, str(record_id), CALIB) < self.calib_share else GOLD

    def splits(self, ids) -> dict[str, str]:
        """``gold`` / ``calib`` / ``train`` for each labeled id."""
        return {str(i): self.split_of(i) for i in ids}

    def rows_in_split(self, ids: list[str], labels_df, split: str, label_names, multi_label: bool
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows of ``ids`` in ``split`` with a submitted human label, in pool order, and their targets."""
        rows, y, _ = self.rows_in_splits(ids, labels_df, (split,), label_names, multi_label)
        return rows, y

    def rows_in_splits(self, ids: list[str], labels_df, splits, label_names, multi_label: bool
                       ) -> tuple[np.ndarray, np.ndarray | None, dict[str, int]]:
        """(rows, targets or None, answered per split): the rows of ``ids`` in any of ``splits`` with a submitted
        human label, split after split in the order given, each in pool order (e.g. gold, then calibration)."""
        rows, y = label_matrix(labels_df, ids, label_names, multi_label)
        if y is None:
            return rows, None, {s: 0 for s in splits}
        order = np.argsort(rows, kind="stable")  # pool order: the answers' arrival order never matters
        rows, y = rows[order], y[order]
        which = [self.split_of(ids[r]) for r in rows]
        keep = [np.array([i for i, w in enumerate(which) if w == s], dtype=np.int64) for s in splits]
        picked = np.concatenate(keep)
        return rows[picked], (y[picked] if len(picked) else None), {s: len(k) for s, k in zip(splits, keep)}

    # -- verdicts --------------------------------------------------------------------------------------
    def held(self, ids, splits) -> int:
        """How many records of ``ids`` (the pool) fall in ``splits``: the most labels those splits can ever hold."""
        return sum(self.split_of(i) in splits for i in ids)

    def enough(self, n: int, min_gold: int, batch_size: int, n_calib: int | None = None,
               purpose: str = "for a verdict", ids=None) -> tuple[bool, str]:
        """(enough, message) for ``n`` gold labels against ``min_gold``; the pace at ``batch_size`` per push.
        ``n_calib``: the verdict counts calibration labels too (``verdict_splits``): ``n + n_calib`` against
        ``min_gold``, said as "N random labels (gold G + calibration C)". ``purpose``: what they are needed for.
        ``ids``: the pool's, when known: a pool whose reserve can never hold ``min_gold`` is told so (a small
        pool), not sent for more batches."""
        need, total = int(min_gold), n + (n_calib or 0)
        what = "random gold labels" if n_calib is None else f"(gold {n} + calibration {n_calib})"
        if total >= need:
            return True, f"{n} random gold labels" if n_calib is None else f"{total} random labels {what}"
        held = None if ids is None else self.held(ids, (GOLD,) if n_calib is None else (GOLD, CALIB))
        if held is not None and held < need:
            kind = "gold" if n_calib is None else "random"
            calib = (f", {self.calib_share:.0%} of them kept for calibration"
                     if n_calib is None and self.calib_share else "")
            share = f"queue.gold_share {self.share:g} of {len(ids)} records{calib}"
            fix = f"add records, or set training.min_gold to {held} or fewer" if held else "add records"
            return False, (f"not enough {kind} labels {purpose}: {total} of {need}; the pool holds {held} {kind} "
                           f"records in all ({share}): {fix}")
        # per batch of new records: the reserve's picks, of which gold alone is the (1 - calib_share) part
        per_push = self.picks(int(batch_size)) * (1.0 if n_calib is not None else 1.0 - self.calib_share)
        batches = math.ceil((need - total) / per_push) if per_push > 0 else 0
        pace = (f" (about {batches} more batch{'es' * (batches != 1)} of {int(batch_size)} new records)" if per_push > 0
                else " (queue.gold_share is 0: no batch adds gold; set it above 0)")
        if n_calib is None:
            return False, f"not enough gold labels {purpose}: {n} of {need} random gold labels{pace}"
        return False, f"not enough random labels {purpose}: {total} of {need} {what}{pace}"


# -- the config-level readings every command uses, over one reserve ----------------------------------------
def gold_rows(config, reserve: GoldReserve, ids: list[str], labels_df) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows of ``ids`` in the gold split with a submitted human label (``labels_df``), and their targets."""
    return reserve.rows_in_split(ids, labels_df, GOLD, config.label_names, config.task.multi_label)


def enough_gold(config, reserve: GoldReserve, n: int, n_calib: int | None = None,
                purpose: str = "for a verdict", ids=None) -> tuple[bool, str]:
    """(enough, message) for ``n`` gold labels (plus ``n_calib`` calibration labels where the verdict counts
    them, ``verdict_splits``) against ``training.min_gold``; ``purpose`` names what they are needed for;
    ``ids``: the pool's, where the caller has them (``GoldReserve.enough``)."""
    return reserve.enough(n, config.training.min_gold, config.queue.batch_size, n_calib, purpose, ids)


def calibration_untouched(run) -> str | None:
    """None when ``run``'s argmax owes nothing to the calibration labels, else why it does: it held them out
    (every run since ``info["calibrated"]`` exists; before, fewer than ``min_calibration`` joined training, and a
    final fit trains on every label) and its backend does not select a checkpoint on them (``VALIDATES_ON_CALIB``)."""
    info = getattr(run, "info", None) or {}
    # runs that record "calibrated" hold calibration out at any count; older runs folded fewer than
    # ``min_calibration`` into training and recorded n_calib 0 then
    held_out = "calibrated" in info or int(info.get("n_calib") or 0) > 0
    if info.get("final_fit") or not held_out:
        return f"run {run.run_id} trained on the calibration labels"
    if getattr(run, "backend", None) in VALIDATES_ON_CALIB:
        return f"run {run.run_id} ({run.backend}) early-stops on the calibration labels"
    return None


def verdict_splits(config, runs=()) -> tuple[tuple[str, ...], str]:
    """(the reserve splits a verdict scores on, why calibration is left out or ""): gold and calibration for a
    single-label project whose compared ``runs`` all leave the calibration labels untouched
    (``calibration_untouched``); gold alone for multi-label (calibration fits the per-label cuts) or otherwise."""
    if config.task.multi_label:
        return (GOLD,), "multi-label: the calibration labels fit the per-label cuts"
    why = next((w for w in map(calibration_untouched, runs) if w), None)
    return ((GOLD,), why) if why else ((GOLD, CALIB), "")



def in_reserve(record_id, share: float) -> bool:
    """For a script holding a bare share (no project): ``GoldReserve(share).contains(record_id)``."""
    return GoldReserve(share).contains(record_id)


__all__ = ["CALIB", "GOLD", "TRAIN", "PPI_UNLABELED", "RESERVE_SEED", "VALIDATES_ON_CALIB", "GoldReserve", "calibration_untouched",
           "checked_share", "gold_rows", "enough_gold", "in_reserve", "verdict_splits"]
