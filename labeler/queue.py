"""Which records humans should review next.

A query strategy is a pure function of probability matrices that returns an ``(N,)`` score, higher =
review first. Single-label ``P`` rows sum to 1; multi-label ``P`` holds independent per-label
probabilities. Scores:

* ``least_confidence``  ``1 - max_k p_k``                                   (single-label)
* ``margin``            ``1 - (p_(1) - p_(2))``, top two probabilities       (single-label)
* ``entropy``           ``-sum_k p_k ln p_k`` (nats, ``0 ln 0 = 0``)          (single-label)
* ``disagreement``      mean KL divergence of each non-abstaining signal to the signals' mean,
                        ``(1/S) sum_s KL(p_s || mean_s p_s)`` (the generalised Jensen-Shannon
                        divergence); 0 where fewer than two signals vote. Multi-label: per-label
                        Bernoulli KL, averaged over labels.                  (both)
* ``threshold_distance`` ``1 - min_k |p_k - t_k| / max(t_k, 1 - t_k)``: 1 when some label sits on its
                        threshold, 0 when every label is 0 or 1 (t = 0.5: ``1 - 2 min_k |p_k - 0.5|``).
                        The minimum, not the mean: one undecided label is reason enough to review.
                        ``t`` is one threshold or one per label (the fast model's fitted cuts).
                                                                             (multi-label)

``select_batch`` turns scores into a batch: exploration (uniform random picks), diversity (k-means over
embeddings of the most uncertain candidates, most uncertain record per cluster) and, before any human
label exists, a cold start (the most confident record per predicted class; see design/TARGETS.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from labeler.errors import LabelerError

_EPS = 1e-12


# -- strategies ---------------------------------------------------------------------------------------
def least_confidence(P: np.ndarray) -> np.ndarray:
    """``1 - max_k p_k`` per row."""
    P = _check_P(P)
    return 1.0 - P.max(axis=1) if P.shape[0] else np.zeros(0)


def margin(P: np.ndarray) -> np.ndarray:
    """``1 - (p_(1) - p_(2))`` per row, from the two largest probabilities."""
    P = _check_P(P)
    if P.shape[1] < 2:
        raise ValueError("margin needs at least 2 labels")
    top2 = np.sort(P, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(P: np.ndarray) -> np.ndarray:
    """Shannon entropy ``-sum_k p_k ln p_k`` per row, in nats."""
    P = _check_P(P)
    return -np.sum(np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0), axis=1)


def disagreement(
    P: np.ndarray, signal_probas: Mapping[str, np.ndarray] | None = None, multi_label: bool = False
) -> np.ndarray:
    """Mean KL of each voting signal to the voting signals' mean (0 where < 2 signals vote).

    ``signal_probas``: name -> ``(N, K)``, a NaN row = abstain. ``P`` only fixes the shape.
    """
    P = _check_P(P)
    if not signal_probas:
        raise ValueError("disagreement needs the per-signal matrices (signal_probas)")
    stack = np.stack([np.asarray(m, dtype=np.float64) for m in signal_probas.values()])  # (S, N, K)
    if stack.shape[1:] != P.shape:
        raise ValueError(f"signal matrices have shape {stack.shape[1:]}, P has {P.shape}")
    votes = ~np.isnan(stack).all(axis=2)  # (S, N)
    n_votes = votes.sum(axis=0)
    filled = np.where(votes[..., None], np.nan_to_num(stack, nan=0.0), 0.0)
    mean = filled.sum(axis=0) / np.maximum(n_votes, 1)[:, None]  # (N, K)
    if multi_label:
        kl = (_kl_terms(filled, mean) + _kl_terms(1.0 - filled, 1.0 - mean)).mean(axis=2)
    else:
        kl = _kl_terms(filled, mean).sum(axis=2)  # (S, N)
    kl = np.where(votes, kl, 0.0).sum(axis=0) / np.maximum(n_votes, 1)
    return np.where(n_votes >= 2, np.maximum(kl, 0.0), 0.0)


def threshold_distance(P: np.ndarray, threshold: float | np.ndarray = 0.5) -> np.ndarray:
    """``1 - min_k |p_k - t_k| / max(t_k, 1 - t_k)`` per row (multi-label); ``threshold``: a scalar or (K,)."""
    P = _check_P(P)
    t = _cuts(threshold, P.shape[1])
    if P.shape[0] == 0:
        return np.zeros(0)
    return 1.0 - (np.abs(P - t) / np.maximum(t, 1.0 - t)).min(axis=1)


def _cuts(threshold: float | np.ndarray, k: int) -> np.ndarray:
    """One threshold per label, each in (0, 1): a scalar is repeated, a (K,) vector is checked."""
    t = np.asarray(threshold, dtype=np.float64)
    if t.ndim > 1 or (t.ndim == 1 and t.shape != (k,)):
        raise ValueError(f"threshold must be a number or one per label ({k},), got shape {t.shape}")
    if not ((t > 0.0) & (t < 1.0)).all():
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    return np.broadcast_to(t, (k,))


def _kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise ``p ln(p / q)`` with ``0 ln 0 = 0``."""
    safe_p = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * (np.log(safe_p) - np.log(np.maximum(q, _EPS))), 0.0)


STRATEGIES: dict[str, Callable[..., np.ndarray]] = {
    "least_confidence": least_confidence,
    "margin": margin,
    "entropy": entropy,
    "disagreement": disagreement,
    "threshold_distance": threshold_distance,
}
SINGLE_LABEL_STRATEGIES = ("least_confidence", "margin", "entropy", "disagreement")
MULTI_LABEL_STRATEGIES = ("threshold_distance", "disagreement")


RANDOM = "random"  # a policy, not a score: every pick uniform (``select_batch`` with exploration=1)


def check_strategy_name(name: str | None) -> str | None:
    """``name`` if it is a known strategy (or ``random``, or None); else a ``LabelerError`` listing them."""
    if name is not None and name != RANDOM and name not in STRATEGIES:
        raise LabelerError(f"unknown query strategy {name!r}; valid: {RANDOM}, {', '.join(STRATEGIES)}")
    return name


def strategy_for(multi_label: bool, name: str | None = None) -> str:
    """The strategy a task uses: ``name`` checked against the task kind, or the kind's default
    (``margin`` single-label, ``threshold_distance`` multi-label). Config, queue and simulate all ask here."""
    check_strategy_name(name)
    if name is None:
        return "threshold_distance" if multi_label else "margin"
    allowed = (RANDOM, *(MULTI_LABEL_STRATEGIES if multi_label else SINGLE_LABEL_STRATEGIES))
    if name not in allowed:
        kind = "multi-label" if multi_label else "single-label"
        raise LabelerError(f"strategy {name!r} does not fit a {kind} task; use one of: {', '.join(allowed)}")
    return name


def get_strategy(name: str) -> Callable[..., np.ndarray]:
    """The strategy function called ``name``; an unknown name is a ``LabelerError`` listing the valid ones."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise LabelerError(f"unknown query strategy {name!r}; valid: {', '.join(STRATEGIES)}") from None


def uncertainty(
    P: np.ndarray,
    strategy: str,
    signal_probas: Mapping[str, np.ndarray] | None = None,
    multi_label: bool = False,
    threshold: float = 0.5,
) -> np.ndarray:
    """Score every row of ``P`` with the named strategy, passing each strategy only what it uses."""
    fn = get_strategy(strategy)
    allowed = MULTI_LABEL_STRATEGIES if multi_label else SINGLE_LABEL_STRATEGIES
    if strategy not in allowed:
        kind = "multi-label" if multi_label else "single-label"
        raise LabelerError(f"query strategy {strategy!r} does not fit {kind} tasks; use one of: {', '.join(allowed)}")
    if strategy == "disagreement":
        return fn(P, signal_probas, multi_label=multi_label)
    if strategy == "threshold_distance":
        return fn(P, threshold=threshold)
    return fn(P)


# -- batches ------------------------------------------------------------------------------------------
@dataclass
class Selection:
    """A batch in review order.

    ``indices`` (n,) rows of ``P``; ``priority`` (n,) 1-based ranks (1 = review first); ``scores`` (n,)
    the strategy's uncertainty of each pick; ``reasons`` one of ``cold_start``, ``diverse``,
    ``uncertain``, ``explore`` per pick; ``all_scores`` (N,) the uncertainty of every row.
    """

    indices: np.ndarray
    priority: np.ndarray
    scores: np.ndarray
    reasons: list[str]
    all_scores: np.ndarray

    def __len__(self) -> int:
        return len(self.indices)


def select_batch(
    P: np.ndarray,
    batch_size: int,
    strategy: str = "margin",
    exploration: float = 0.1,
    diversity: float = 0.5,
    embeddings: np.ndarray | None = None,
    exclude: np.ndarray | Iterable[int] | Iterable[str] | None = None,
    seed: int = 0,
    signal_probas: Mapping[str, np.ndarray] | None = None,
    cold_start: bool = False,
    multi_label: bool = False,
    threshold: float = 0.5,
    ids: Sequence[str] | None = None,
    candidate_factor: int = 10,
    short: Mapping[int, int] | None = None,
    coverage: float = 0.0,
    cold_start_by: str = "confident",
) -> Selection:
    """Pick up to ``batch_size`` rows of ``P`` (N, K) that are not excluded, in review order.

    Budget of a batch of ``n = min(batch_size, available)``:

    1. ``round(exploration * n)`` rows drawn uniformly at random (``seed``) from what is left at the end;
    2. with ``cold_start``: ``cold_start_by="confident"``: the most confident record per predicted class
       (multi-label: per label), most confident first; ``"representative"`` (needs ``embeddings``): the
       records nearest the centres of a k-means clustering of the available pool into that many clusters
       (k-means++, seed 0), largest cluster first: a first batch that looks like the pool; ``"random"``:
       a uniform sample (``seed``);
    3. of the rest, ``round(diversity * rest)`` by diversity when ``embeddings`` (N, D) are given: the
       ``candidate_factor * batch_size`` most uncertain candidates are clustered (k-means++ on unit-length
       embeddings, seeded with ``seed``) into that many clusters and each cluster's most uncertain record
       is taken (an empty cluster leaves its place to the next step);
    4. with ``short`` (class index -> labels it still needs) and ``coverage`` > 0: ``round(coverage * rest)``
       rows for the short classes, round-robin from the neediest class (ties: lower index): each turn takes
       the most uncertain available record predicted to be in that class (single-label: its argmax;
       multi-label: ``p_k >= threshold``), so uncertainty still orders the picks within a class;
    5. the remainder straight by uncertainty.

    Review order: cold-start picks first, then every other pick by uncertainty, highest first. Ties are
    broken by the lower index everywhere, so equal inputs give equal batches.
    ``exclude``: a bool mask (N,), row indices, or record ids (then ``ids`` (N,) must be given).
    """
    P = _check_P(P)
    n_rows = P.shape[0]
    if batch_size <= 0:
        raise ValueError(f"batch_size must be > 0, got {batch_size}")
    for name, value in (("exploration", exploration), ("diversity", diversity)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float64)
        if embeddings.ndim != 2 or embeddings.shape[0] != n_rows:
            raise ValueError(f"embeddings must have shape ({n_rows}, D), got {embeddings.shape}")
    scores = uncertainty(P, strategy, signal_probas, multi_label=multi_label, threshold=threshold)
    if not 0.0 <= coverage <= 1.0:
        raise ValueError(f"coverage must be in [0, 1], got {coverage}")
    if cold_start_by not in COLD_STARTS:
        raise ValueError(f"cold_start_by must be one of {', '.join(COLD_STARTS)}, got {cold_start_by!r}")
    if cold_start and cold_start_by == "representative" and embeddings is None:
        raise ValueError("a representative cold start needs the embeddings")
    taken = _exclude_mask(exclude, n_rows, ids)
    return _select(P, scores, taken, batch_size, exploration, diversity, embeddings, seed, cold_start,
                   multi_label, candidate_factor, dict(short or {}), coverage, threshold, cold_start_by)


COLD_STARTS = ("confident", "representative", "random")


def _select(P, scores, taken, batch_size, exploration, diversity, embeddings, seed, cold_start, multi_label,
            candidate_factor, short, coverage, threshold, cold_start_by="confident") -> Selection:
    n = int(min(batch_size, (~taken).sum()))
    n_explore = _round(exploration * n)
    picks: list[tuple[int, str]] = []

    def take(indices: Iterable[int], reason: str) -> None:
        for i in indices:
            picks.append((int(i), reason))
            taken[i] = True

    if cold_start and cold_start_by == "representative":
        take(_representative(embeddings, taken, n - n_explore), "cold_start")
    elif cold_start and cold_start_by == "random":
        pool = np.flatnonzero(~taken)
        take(np.random.default_rng(seed).choice(pool, size=min(n - n_explore, len(pool)), replace=False), "cold_start")
    elif cold_start:
        take(_cold_start(P, taken, n - n_explore, multi_label), "cold_start")
    rest = n - n_explore - len(picks)
    order = np.lexsort((np.arange(len(scores)), -scores))  # by score desc, then index
    if embeddings is not None and rest > 0:
        n_div = _round(diversity * rest)
        if n_div:
            candidates = order[~taken[order]][: max(candidate_factor * batch_size, n_div)]
            take(_diverse(candidates, embeddings, n_div, seed), "diverse")
    rest = n - n_explore - len(picks)
    if short and coverage > 0 and rest > 0:
        take(_coverage(P, order, taken, short, _round(coverage * rest), multi_label, threshold), "coverage")
    rest = n - n_explore - len(picks)
    take(order[~taken[order]][:rest], "uncertain")
    if n_explore:
        pool = np.flatnonzero(~taken)
        take(np.random.default_rng(seed).choice(pool, size=min(n_explore, len(pool)), replace=False), "explore")

    first = [p for p in picks if p[1] == "cold_start"]
    others = sorted((p for p in picks if p[1] != "cold_start"), key=lambda p: (-scores[p[0]], p[0]))
    ordered = first + others
    indices = np.array([i for i, _ in ordered], dtype=np.int64)
    return Selection(
        indices=indices,
        priority=np.arange(1, len(indices) + 1, dtype=np.int64),
        scores=scores[indices] if len(indices) else np.zeros(0),
        reasons=[r for _, r in ordered],
        all_scores=scores,
    )


def _representative(embeddings: np.ndarray, taken: np.ndarray, budget: int) -> list[int]:
    """The available record nearest each k-means centre (``budget`` clusters of the unit-length embeddings,
    k-means++ seeded 0), largest cluster first (ties: lower index)."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    free = np.flatnonzero(~taken)
    if budget <= 0 or not len(free):
        return []
    X = embeddings[free]
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), _EPS)
    k = min(budget, len(np.unique(X.round(6), axis=0)))
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KMeans(n_clusters=k, n_init=1, random_state=0).fit(X)
    dist = ((X - km.cluster_centers_[km.labels_]) ** 2).sum(axis=1)
    sizes = np.bincount(km.labels_, minlength=k)
    out = []
    for c in sorted(range(k), key=lambda c: (-sizes[c], c)):
        members = np.flatnonzero(km.labels_ == c)
        if len(members):
            out.append(int(free[members[np.lexsort((members, dist[members]))[0]]]))
    return out


def _cold_start(P: np.ndarray, taken: np.ndarray, budget: int, multi_label: bool) -> list[int]:
    """Most confident available record per predicted class (multi-label: per label), most confident first."""
    if budget <= 0:
        return []
    chosen: dict[int, float] = {}
    if multi_label:
        for k in range(P.shape[1]):
            for i in np.lexsort((np.arange(P.shape[0]), -P[:, k])):
                if not taken[i] and i not in chosen:
                    chosen[int(i)] = float(P[i, k])
                    break
    else:
        predicted, confidence = P.argmax(axis=1), P.max(axis=1)
        for k in range(P.shape[1]):
            rows = np.flatnonzero((predicted == k) & ~taken)
            if len(rows):
                best = rows[np.lexsort((rows, -confidence[rows]))[0]]
                chosen[int(best)] = float(confidence[best])
    return sorted(chosen, key=lambda i: (-chosen[i], i))[:budget]


def _coverage(P: np.ndarray, order: np.ndarray, taken: np.ndarray, short: Mapping[int, int], budget: int,
              multi_label: bool, threshold: float) -> list[int]:
    """Round-robin over the short classes (neediest first): each turn the most uncertain available record
    predicted in that class. ``order`` is every row by uncertainty, highest first."""
    free = order[~taken[order]]
    top = None if multi_label else P[free].argmax(axis=1)
    need = {int(k): int(v) for k, v in short.items() if v > 0}
    cut = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (P.shape[1],))
    queues = {k: (free[P[free, k] >= cut[k]] if multi_label else free[top == k]).tolist() for k in need}
    heads = dict.fromkeys(need, 0)
    out: list[int] = []
    chosen: set[int] = set()
    while len(out) < budget and need:
        for k in sorted(need, key=lambda c: (-need[c], c)):
            q = queues[k]
            while heads[k] < len(q) and q[heads[k]] in chosen:
                heads[k] += 1
            if len(out) >= budget or heads[k] >= len(q):
                continue
            out.append(q[heads[k]])
            chosen.add(q[heads[k]])
            need[k] -= 1
        need = {k: v for k, v in need.items() if v > 0 and heads[k] < len(queues[k])}
    return out


def _diverse(candidates: np.ndarray, embeddings: np.ndarray, n_clusters: int, seed: int) -> list[int]:
    """Most uncertain candidate of each k-means cluster (``candidates`` come sorted most uncertain first)."""
    if len(candidates) <= n_clusters:
        return [int(i) for i in candidates]
    from sklearn.cluster import KMeans  # full k-means: on <= a few thousand candidates it beats MiniBatchKMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    X = embeddings[candidates]
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), _EPS)
    n_clusters = min(n_clusters, len(np.unique(X.round(6), axis=0)))  # identical embeddings form one cluster
    with threadpool_limits(1), warnings.catch_warnings():  # small inputs: threads only add overhead
        warnings.simplefilter("ignore", ConvergenceWarning)  # near-duplicates: fewer clusters, filled below
        labels = KMeans(n_clusters=n_clusters, n_init=1, random_state=seed).fit_predict(X)
    out, seen = [], set()
    for position, cluster in enumerate(labels):  # candidates are in uncertainty order
        if cluster not in seen:
            seen.add(cluster)
            out.append(int(candidates[position]))
    return out


def _exclude_mask(exclude, n_rows: int, ids: Sequence[str] | None) -> np.ndarray:
    if exclude is None:
        return np.zeros(n_rows, dtype=bool)
    arr = np.asarray(exclude if not isinstance(exclude, (set, frozenset)) else sorted(exclude, key=str))
    if arr.dtype == bool:
        if arr.shape != (n_rows,):
            raise ValueError(f"exclude mask must have shape ({n_rows},), got {arr.shape}")
        return arr.copy()
    mask = np.zeros(n_rows, dtype=bool)
    if arr.size == 0:
        return mask
    if arr.dtype.kind in "US":
        if ids is None:
            raise ValueError("exclude holds record ids: pass ids=(the N ids in row order) too")
        wanted = set(arr.tolist())
        mask[[i for i, rid in enumerate(ids) if rid in wanted]] = True
        return mask
    if arr.dtype.kind not in "iu" or arr.min() < 0 or arr.max() >= n_rows:
        raise ValueError(f"exclude must be a bool mask, row indices in [0, {n_rows}) or ids")
    mask[arr] = True
    return mask


def _round(x: float) -> int:
    """Round half up (Python's round() rounds half to even)."""
    return int(np.floor(x + 0.5))


def _check_P(P: np.ndarray) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2:
        raise ValueError(f"P must be a 2-D (N, K) matrix, got shape {P.shape}")
    if not np.isfinite(P).all():
        raise ValueError("P holds NaN or inf; abstentions must be resolved by the ensemble first")
    if P.size and (P.min() < -1e-9 or P.max() > 1 + 1e-9):
        raise ValueError("P must hold probabilities in [0, 1]")
    return P
