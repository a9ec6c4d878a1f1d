"""Batch predictions with a run, logged for later drift checks.

``predict_file`` reads a CSV / JSONL / Parquet file with the config's text fields (``labeler.data.read_pool``:
the same ids, composition and rejects as the pool), scores it with the current (or a named) run and writes

    <project dir>/predictions/<timestamp>.parquet   one row per usable input row (columns: ``PREDICTION_COLUMNS``)
    <project dir>/predictions/log.jsonl             append-only index: one JSON line per prediction file

Columns of a prediction file, in order: ``id``, the text fields, ``label`` (the top label; multi-label: the
labels at or above ``task.threshold``, comma-joined), ``score`` (its probability; multi-label the top one),
``p_<label>`` per label, ``model_id`` (the run id), ``input_fingerprint`` (sha256 of the input file's bytes,
16 hex) and ``input_path``.

``drift`` compares a prediction file against the run's own data:

- labels: the predicted label distribution (single-label: top label; multi-label: label frequency) against
  the label distribution of the run's training labels. Reported: total variation distance
  ``TVD = 1/2 sum_k |p_k - q_k|`` and the population stability index per label
  ``PSI_k = (p_k - q_k) ln(p_k / q_k)`` (proportions floored at 1e-4) and their sum.
- confidence: the top probability of each prediction against the run's top probabilities on its gold texts
  (held out, so not optimistic) or, with fewer than ``MIN_GOLD_REFERENCE`` gold labels, on all its labelled
  texts. Reported: the two-sample Kolmogorov-Smirnov statistic and p-value.

Rules of thumb used for the plain-words summary: labels moved when PSI >= 0.25 or TVD >= 0.2 (moderately when
PSI >= 0.1); confidence moved when KS >= 0.2 and p < 0.05.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from labeler.errors import LabelerError

PRED_DIR = "predictions"
LOG_FILE = "log.jsonl"
MIN_GOLD_REFERENCE = 20
EPS = 1e-4
PSI_MAJOR, PSI_MODERATE, TVD_MAJOR = 0.25, 0.1, 0.2
KS_MOVED, KS_ALPHA = 0.2, 0.05
SMALL_SAMPLE = 30


def predictions_dir(config) -> Path:
    return Path(config.project.dir) / PRED_DIR


def file_fingerprint(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def prediction_columns(text_fields: list[str], labels: list[str]) -> list[str]:
    return ["id", *text_fields, "label", "score", *[f"p_{lab}" for lab in labels], "model_id", "input_fingerprint",
            "input_path"]


def _load_run(config, run_id: str | None):
    from labeler.finetune import runs_root
    from training.registry import load_run

    return load_run(run_id or "current", runs_root(config))


@dataclass
class PredictionResult:
    path: Path  # the logged Parquet file
    model_id: str
    input_fingerprint: str
    n: int
    rejected: int
    label_counts: dict[str, int]
    out: Path | None = None

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.label_counts.items() if v)
        extra = f" ({self.rejected} rows rejected)" if self.rejected else ""
        return (f"predicted {self.n} rows{extra} with {self.model_id}: {counts}\n"
                f"logged to {self.path}" + (f"; written to {self.out}" if self.out else ""))


def predict_file(config, input_path: str | Path, run_id: str | None = None, out: str | Path | None = None,
                 run=None):
    """Predict every usable row of ``input_path``; log the predictions; optionally also write ``out``."""
    import pandas as pd

    from labeler.data import detect_format, read_pool

    input_path = Path(input_path)
    if not input_path.exists():
        raise LabelerError(f"input file not found: {input_path}")
    d = config.data
    pool, rejected = read_pool(input_path, detect_format(input_path, "auto"), list(d.text_fields), d.id_field,
                               None, d.max_chars, config.task.multi_label)
    if not pool.records:
        raise LabelerError(f"no usable rows in {input_path}: {pool.summary()}")
    run = run or _load_run(config, run_id)
    labels = config.label_names
    P = run.predict_proba(pool.texts)[:, [run.labels.index(n) for n in labels]]
    fp = file_fingerprint(input_path)
    rows = []
    for rec, p in zip(pool.records, P):
        if config.task.multi_label:
            picked = [labels[k] for k in np.argsort(-p) if p[k] >= config.task.threshold] or [labels[int(np.argmax(p))]]
            label, score = ",".join(picked), float(p.max())
        else:
            k = int(np.argmax(p))
            label, score = labels[k], float(p[k])
        row = {"id": rec.id, **{f: rec.fields.get(f, "") for f in d.text_fields}, "label": label, "score": score}
        row.update({f"p_{lab}": float(v) for lab, v in zip(labels, p)})
        row.update({"model_id": run.run_id, "input_fingerprint": fp, "input_path": str(input_path.resolve())})
        rows.append(row)
    df = pd.DataFrame(rows, columns=prediction_columns(list(d.text_fields), labels))
    pdir = predictions_dir(config)
    pdir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path, n = pdir / f"{stamp}.parquet", 1
    while path.exists():
        n += 1
        path = pdir / f"{stamp}-{n}.parquet"
    df.to_parquet(path, index=False)
    top = P.argmax(axis=1)
    counts = {lab: int((top == k).sum()) for k, lab in enumerate(labels)} if not config.task.multi_label else \
        {lab: int((P[:, k] >= config.task.threshold).sum()) for k, lab in enumerate(labels)}
    entry = {"file": path.name, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "model_id": run.run_id, "input_path": str(input_path.resolve()), "input_fingerprint": fp,
             "n": len(df), "rejected": len(rejected), "label_counts": counts, "mean_score": float(df["score"].mean())}
    with (pdir / LOG_FILE).open("a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            df.to_csv(out, index=False)
        elif out.suffix in (".jsonl", ".json"):
            df.to_json(out, orient="records", lines=True, force_ascii=False)
        else:
            df.to_parquet(out, index=False)
    return PredictionResult(path=path, model_id=run.run_id, input_fingerprint=fp, n=len(df), rejected=len(rejected),
                            label_counts=counts, out=out)


def read_log(config) -> list[dict]:
    path = predictions_dir(config) / LOG_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def resolve_log(config, which: str | Path | None = None) -> Path:
    """A prediction file: ``which`` as a path (absolute, or a name in the predictions folder), or the latest."""
    pdir = predictions_dir(config)
    if which in (None, "", "latest"):
        entries = read_log(config)
        if not entries:
            raise LabelerError(f"no predictions logged under {pdir}; run `labeler predict --input FILE` first")
        return pdir / entries[-1]["file"]
    for cand in (Path(which), pdir / str(which)):
        if cand.exists():
            return cand
    raise LabelerError(f"prediction log {which} not found (looked in . and {pdir})")


# --- drift -------------------------------------------------------------------------------------------------


def label_shift(p: np.ndarray, q: np.ndarray) -> tuple[float, np.ndarray]:
    """``(TVD, PSI per label)`` between proportion vectors ``p`` (new) and ``q`` (reference)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    tvd = 0.5 * float(np.abs(p - q).sum())
    pp, qq = np.maximum(p, EPS), np.maximum(q, EPS)
    return tvd, (pp - qq) * np.log(pp / qq)


@dataclass
class DriftReport:
    model_id: str
    log: str
    n: int
    labels: list[str]
    new_dist: list[float]
    ref_dist: list[float]
    tvd: float
    psi: dict[str, float]
    psi_total: float
    ks: float
    ks_p: float
    conf_new_median: float
    conf_ref_median: float
    conf_reference: str
    label_drift: str  # "none" | "moderate" | "major"
    confidence_drift: bool
    words: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        lines = [f"drift of {self.log} ({self.n} predictions by {self.model_id}) against the run's data",
                 f"  labels: TVD {self.tvd:.3f}, PSI {self.psi_total:.3f}",
                 "  " + f"{'label':<24} {'reference':>9} {'now':>7} {'PSI':>7}"]
        for lab, q, p in zip(self.labels, self.ref_dist, self.new_dist):
            lines.append("  " + f"{lab:<24} {q:>9.1%} {p:>7.1%} {self.psi[lab]:>7.3f}")
        lines.append(f"  confidence: KS {self.ks:.3f} (p {self.ks_p:.3g}); median {self.conf_ref_median:.3f} "
                     f"({self.conf_reference}) -> {self.conf_new_median:.3f}")
        return "\n".join(lines + [""] + self.words)


def reference_confidence(config, run) -> tuple[np.ndarray, str]:
    """The run's top probabilities on its gold texts, or on all its labelled texts when gold is small."""
    from labeler.finetune import labels_path, split_path
    from training.labels import load_labels
    from training.splits import GOLD, Splits

    table = load_labels(labels_path(config), config.label_names, config.task.multi_label)
    gold_ids = set()
    if split_path(config).exists():
        gold_ids = {rid for rid, s in Splits.load(split_path(config)).assignment.items() if s == GOLD}
    gold = table.df[table.df["id"].isin(gold_ids)]
    if len(gold) >= MIN_GOLD_REFERENCE:
        texts, where = gold["text"].tolist(), f"{len(gold)} gold texts"
    else:
        texts, where = table.df["text"].tolist(), f"{len(table.df)} labelled texts"
    P = run.predict_proba(texts)
    return P.max(axis=1), where


def drift(config, log: str | Path | None = None, run=None) -> DriftReport:
    """Compare a prediction file's labels and confidence with its run's training data (see module docs)."""
    import pandas as pd
    from scipy.stats import ks_2samp

    path = resolve_log(config, log)
    df = pd.read_parquet(path)
    if df.empty:
        raise LabelerError(f"{path} holds no predictions")
    model_ids = df["model_id"].unique().tolist()
    run = run or _load_run(config, model_ids[0])
    labels = config.label_names
    counts = run.info.get("train_counts") or {}
    ref = np.array([float(counts.get(lab, 0)) for lab in labels])
    if ref.sum() == 0:
        raise LabelerError(f"run {run.run_id} records no training label counts")
    ref = ref / ref.sum()
    probs = df[[f"p_{lab}" for lab in labels]].to_numpy(dtype=float)
    if config.task.multi_label:
        hits = (probs >= config.task.threshold).sum(axis=0).astype(float)
    else:
        hits = np.bincount(probs.argmax(axis=1), minlength=len(labels)).astype(float)
    new = hits / max(hits.sum(), 1.0)
    tvd, psi = label_shift(new, ref)
    conf_ref, where = reference_confidence(config, run)
    conf_new = df["score"].to_numpy(dtype=float)
    ks = ks_2samp(conf_new, conf_ref)
    psi_total = float(psi.sum())
    label_drift = "major" if psi_total >= PSI_MAJOR or tvd >= TVD_MAJOR else ("moderate" if psi_total >= PSI_MODERATE else "none")
    conf_drift = bool(ks.statistic >= KS_MOVED and ks.pvalue < KS_ALPHA)
    rep = DriftReport(
        model_id=run.run_id, log=str(path), n=len(df), labels=labels, new_dist=new.tolist(), ref_dist=ref.tolist(),
        tvd=tvd, psi={lab: float(v) for lab, v in zip(labels, psi)}, psi_total=psi_total, ks=float(ks.statistic),
        ks_p=float(ks.pvalue), conf_new_median=float(np.median(conf_new)), conf_ref_median=float(np.median(conf_ref)),
        conf_reference=where, label_drift=label_drift, confidence_drift=conf_drift,
    )
    rep.words = _words(rep)
    return rep


def _words(r: DriftReport) -> list[str]:
    out = []
    if r.label_drift == "none":
        out.append(f"Labels: no shift (TVD {r.tvd:.2f}, PSI {r.psi_total:.2f}); the predicted mix matches training.")
    else:
        moved = sorted(zip(r.labels, r.ref_dist, r.new_dist), key=lambda t: -abs(t[2] - t[1]))
        parts = [f"{lab} {q:.0%} -> {p:.0%}" for lab, q, p in moved[:3] if abs(p - q) >= 0.02]
        out.append(f"Labels: {r.label_drift} shift (TVD {r.tvd:.2f}, PSI {r.psi_total:.2f}); most moved: {', '.join(parts)}.")
    if not r.confidence_drift:
        out.append(f"Confidence: no shift (KS {r.ks:.2f}, p {r.ks_p:.2g}); median {r.conf_new_median:.2f} "
                   f"vs {r.conf_ref_median:.2f} on the run's {r.conf_reference}.")
    else:
        way = "lower" if r.conf_new_median < r.conf_ref_median else "higher"
        hint = " The model is less sure than on its own data: new kinds of text, or labels it has not seen." \
            if way == "lower" else ""
        out.append(f"Confidence: shifted {way} (KS {r.ks:.2f}, p {r.ks_p:.2g}); median {r.conf_ref_median:.2f} "
                   f"-> {r.conf_new_median:.2f}.{hint}")
    if r.n < SMALL_SAMPLE:
        out.append(f"Only {r.n} predictions: proportions this small are noisy; treat the label figures as indicative.")
    return out
