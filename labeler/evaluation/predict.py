"""Batch predictions with a run, logged for later drift checks.

``predict_file`` reads a CSV / JSONL / Parquet file with the config's text fields (``labeler.data.read_pool``:
the same composition and rejects as the pool, but duplicate texts are kept, one prediction per row, and a file
without the config's id column has its rows named ``row-<n>``), scores it with the current (or a named) run and
writes

    <project dir>/predictions/<timestamp>.parquet   one row per usable input row (columns: ``PREDICTION_COLUMNS``)
    <project dir>/predictions/log.jsonl             append-only index: one JSON line per prediction file

Columns of a prediction file, in order: ``id``, the text fields, ``label`` (the top label; multi-label: the
labels at or above their cuts, a list, most probable first, empty for "None of these"; the cuts are the run's
own (``Run.cuts``), or ``task.threshold`` for every label for a run saved without them), ``score`` (its
probability; multi-label ``training.thresholds.set_scores``: the lowest probability in the set, 1 minus the
highest for "None of these"),
``p_<label>`` per label, ``model_id`` (the run id), ``input_fingerprint`` (sha256 of the input file's bytes,
16 hex) and ``input_path``. The ``--out`` file is the same rows for the user's own use: its id column keeps the
input's name (``data.id_field``), and the input's other columns (metadata, a truth column) follow the text fields,
``input_``-prefixed where a name is taken by a prediction column (``carry_input_columns``).

``labeler.evaluation.drift`` compares a logged prediction file with a reference label mix and the run's confidence on its
own data.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labeler.data import detect_format, read_pool
from labeler.data.readers import reader_for
from labeler.errors import LabelerError
from labeler.loop.runs import run_mismatch, training_errors
from labeler.project import Project
from training.evaluate import predict as predict_sets
from training.registry import cuts_in_order, load_run as load_registered_run
from training.thresholds import set_scores

LOG_FILE = "log.jsonl"
OUT_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet", ".xlsx")  # what `--out` writes


def predictions_dir(config) -> Path:
    return Project(config).predictions


def file_fingerprint(path: str | Path) -> str:
    """The input's content hash; a folder's (a saved dataset, text files) over its files' names and bytes."""
    path, h = Path(path), hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            h.update(file.relative_to(path).as_posix().encode() + b"\0")
        with open(file, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def prediction_columns(text_fields: list[str], labels: list[str]) -> list[str]:
    return ["id", *text_fields, "label", "score", *[f"p_{lab}" for lab in labels], "model_id", "input_fingerprint",
            "input_path"]


def load_run(config, run_id: str | None):
    """A run of this project by id, or the current one."""
    with training_errors():
        return load_registered_run(run_id or "current", Project(config).runs)


@dataclass
class PredictionResult:
    path: Path  # the logged Parquet file
    model_id: str
    input_fingerprint: str
    n: int
    rejected: int
    label_counts: dict[str, int]
    rejects: dict[str, int] | None = None  # rejected rows per reason
    out: Path | None = None
    cut_note: str | None = None  # multi-label: where the cuts came from
    n_none: int = 0  # multi-label: rows with no label at or over its cut ("None of these")
    id_note: str | None = None  # the input had no id column: how rows are named
    carried: list[str] | None = None  # the input's other columns in the --out file ("'label' as 'input_label'")
    mismatch: str | None = None  # the run was trained on other labels than the config's: which it predicted

    def summary(self, shown: int = 10) -> str:
        ranked = sorted(((v, k) for k, v in self.label_counts.items() if v), key=lambda t: (-t[0], t[1]))
        counts = ", ".join(f"{k} {v}" for v, k in ranked[:shown])
        if len(ranked) > shown:
            counts += f" and {len(ranked) - shown} more labels"
        if self.cut_note is not None:
            counts += f"{'; ' if counts else ''}none of these {self.n_none} (cut {self.cut_note})"
        why = ", ".join(f"{n} {reason}" for reason, n in sorted((self.rejects or {}).items()))
        extra = f" ({self.rejected} {'row' if self.rejected == 1 else 'rows'} rejected{': ' + why if why else ''})" \
            if self.rejected else ""
        ids = "".join(f"{note}\n" for note in (self.mismatch, self.id_note) if note)
        kept = f" (with the input's {', '.join(self.carried)})" if self.carried else ""
        return (f"{ids}predicted {self.n} rows{extra} with {self.model_id}: {counts}\n"
                f"logged to {self.path}" + (f"; written to {self.out}{kept}" if self.out else ""))


def run_sets(P: np.ndarray, run, labels: list[str], threshold: float) -> np.ndarray:
    """Multi-label: the 0/1 label sets ``labeler predict`` gives, ``P`` (columns in ``labels``' order) cut at the
    run's own cuts (``threshold`` for every label where it was saved without), at least one label where it says so."""
    return predict_sets(P, True, cuts_in_order(run, labels, threshold), run.at_least_one)


def prediction_scores(P: np.ndarray, sets: np.ndarray | None = None) -> np.ndarray:
    """The ``score`` column: how sure each prediction is. The top probability; multi-label (``sets`` given) how sure
    the set is (``set_scores``: the lowest probability in it, 1 minus the highest for "None of these")."""
    return P.max(axis=1) if sets is None else set_scores(P, sets)


def _json_cells(df):
    """``df`` with each nested object or list (an input's label list) as its JSON text: a CSV or Excel cell holds no
    object (pandas would write Python's repr, ``['a']``)."""
    return df.map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)


def predict_file(config, input_path: str | Path, run_id: str | None = None, out: str | Path | None = None,
                 run=None, echo=None):
    """Predict every usable row of ``input_path``; log the predictions; optionally also write ``out``. ``echo``:
    told what is about to be scored (a SetFit run encodes a few hundred texts a second on a CPU)."""
    import pandas as pd

    input_path = Path(input_path)
    if not input_path.exists():
        raise LabelerError(f"input file not found: {input_path}")
    if out is not None and Path(out).suffix not in OUT_SUFFIXES:
        raise LabelerError(f"--out {out}: write a .csv, .jsonl, .parquet or .xlsx file")
    d = config.data
    # one prediction per usable input row: duplicate texts are kept; a file without the id column is numbered
    pool, rejected = read_pool(input_path, detect_format(input_path, "auto"), list(d.text_fields), d.id_field,
                               None, d.max_chars, config.task.multi_label, encoding=d.encoding, collapse=False,
                               optional_id=True, strip_html=d.strip_html, sheet=d.sheet)
    numbered = bool(d.id_field) and bool(pool.records) and all(r.id == f"row-{r.row}" for r in pool.records)
    if not pool.records:
        raise LabelerError(f"no usable rows in {input_path}: {pool.summary()}")
    run = run or load_run(config, run_id)
    mismatch = run_mismatch(config, run)
    if mismatch and bool(run.multi_label) != bool(config.task.multi_label):
        raise LabelerError(f"{mismatch}; train a new run, or name another with --run")
    labels = list(run.labels) if mismatch else config.label_names  # the labels changed since it trained: its own
    order = [run.labels.index(n) for n in labels]
    if echo is not None:
        echo(f"predicting {len(pool.records):,} rows of {input_path.name} with run {run.run_id} "
             f"({getattr(run, 'backend', 'a model')})")
    P = run.predict_proba(pool.texts)[:, order]
    cut_note, sets = None, None
    if config.task.multi_label:
        cut_note = (f"at task.threshold {config.task.threshold:g} for every label: run {run.run_id} was saved without "
                    "per-label cuts" if run.cuts is None else f"per label, {run.info['cuts'].get('note', '')}")
        if run.at_least_one:
            cut_note += "; at least one label per text: no training text was None of these"
        sets = run_sets(P, run, labels, config.task.threshold)
    scores = prediction_scores(P, sets)
    fp = file_fingerprint(input_path)
    rows = []
    for i, (rec, p) in enumerate(zip(pool.records, P)):
        if config.task.multi_label:
            # a list, most probable first (empty: "None of these"): a label name may hold a comma
            label = [labels[k] for k in np.argsort(-p, kind="stable") if sets[i, k]]
        else:
            label = labels[int(np.argmax(p))]
        score = float(scores[i])
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
        {lab: int(sets[:, k].sum()) for k, lab in enumerate(labels)}
    n_none = int((sets.sum(axis=1) == 0).sum()) if config.task.multi_label else 0
    entry = {"file": path.name, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "model_id": run.run_id, "input_path": str(input_path.resolve()), "input_fingerprint": fp,
             "n": len(df), "rejected": len(rejected), "label_counts": counts, "mean_score": float(df["score"].mean())}
    with (pdir / LOG_FILE).open("a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
    carried: list[str] = []
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        written, carried = carry_input_columns(df, input_path, config, [r.row for r in pool.records],
                                               keep_id_name=not numbered)
        if out.suffix == ".csv":
            _json_cells(written).to_csv(out, index=False)
        elif out.suffix in (".jsonl", ".json"):
            written.to_json(out, orient="records", lines=True, force_ascii=False)
        elif out.suffix == ".xlsx":
            _json_cells(written).to_excel(out, index=False)
        else:  # .parquet
            written.to_parquet(out, index=False)
    return PredictionResult(path=path, model_id=run.run_id, input_fingerprint=fp, n=len(df), rejected=len(rejected),
                            rejects=dict(pool.rejects), label_counts=counts, out=out, cut_note=cut_note, n_none=n_none,
                            carried=carried, mismatch=f"{mismatch}: predicted with its own {len(labels)} labels"
                            if mismatch else None,
                            id_note=f"no {d.id_field!r} column in {input_path.name}: rows are named row-<n>, their "
                                    "row in the file" if numbered else None)


def carry_input_columns(df, input_path: Path, config, rows: list[int], keep_id_name: bool = True):
    """The ``--out`` frame: ``df`` with its id column named as the input's (``data.id_field``) and the input's
    other columns after the text fields, taken from the rows predicted (``rows``: their 1-based numbers in the
    file); a name a prediction column holds is written ``input_<name>``. Returns the frame and a phrase per
    column carried (``'topic'``, ``'label' as 'input_label'``)."""
    import pandas as pd

    d = config.data
    fmt = detect_format(input_path, "auto")
    reader = reader_for(fmt, d.encoding, d.sheet)
    names, raw = reader(input_path, [])  # CSV and JSON Lines: every column; Parquet and HF folders: the names
    if fmt in ("parquet", "hf"):
        names, raw = reader(input_path, list(names))
    columns, by_row = list(names), {r.row: r.values for r in raw if r.values is not None}
    id_name = d.id_field if keep_id_name and d.id_field else "id"
    taken = set(df.columns) | {id_name}
    # a nested object's fields are also read under dotted names (labeler.data.readers.with_nested): the object is
    # carried as it is, not its fields twice
    extra = [c for c in columns if c not in d.text_fields and c != d.id_field
             and not ("." in str(c) and str(c).rsplit(".", 1)[0] in columns)]
    names = {c: f"input_{c}" if c in taken else c for c in extra}
    carried = pd.DataFrame({names[c]: [by_row.get(r, {}).get(c) for r in rows] for c in extra}, index=df.index)
    at = 1 + len(d.text_fields)
    out = pd.concat([df.iloc[:, :at], carried, df.iloc[:, at:]], axis=1).rename(columns={"id": id_name})
    return out, [repr(c) if c == n else f"{c!r} as {n!r}" for c, n in names.items()]


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
