"""Which records humans should review next: ``select_batch`` turns a query strategy's scores
(``labeler.loop.strategies``) into a batch: exploration (uniform random picks), diversity (k-means over
embeddings of the most uncertain candidates, most uncertain record per cluster), class coverage and, before any
human label exists, a cold start (``COLD_STARTS``: the most confident record per predicted class, a
representative sample, or a random one; see design/TARGETS.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from labeler.loop.strategies import EPS, check_P, uncertainty


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
    P = check_P(P)
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
COVERAGE = "coverage"  # the reason of a pick made for a short class


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
        take(_coverage(P, order, taken, short, _round(coverage * rest), multi_label, threshold), COVERAGE)
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
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), EPS)
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
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), EPS)
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
