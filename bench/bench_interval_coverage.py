"""Interval coverage: do the intervals reported on random gold hold over many draws of the reserve?

Per data set, per reserve seed (``GoldReserve(share, calib_share, seed)``: a different uniform random reserve
of the pool each time), the simulation's own in-process loop (``labeler.simulate.driver.each_round``: the
config's Policy, the oracle answers, ``fit_queue_model``: the logistic head on the cached embeddings, as a
logreg run) up to each budget. At each budget, on the gold labels (the reserve's answered records outside
calibration):

- reported: zero-shot accuracy (``bootstrap_ci``), the run's accuracy (``bootstrap_ci``), the gain
  (``paired_bootstrap``), exactly the estimators ``compare`` uses; and the final fit's cross-fitted accuracy
  (the same model on every human label plus the same weak labels; ``training.train.cross_fit`` with
  ``--folds`` folds over the answered reserve, then ``bootstrap_ci`` on the out-of-fold predictions, as
  ``train --final-fit`` reports it);
- true: the same quantities on the held-out test split, on the whole reserve (gold's own population: a
  uniform sample of the pool the run never trained on; for the final fit, the reserve records nobody
  answered) and on the pool's records never asked;
- covered: the share of draws whose interval holds the true value, and the mean error (reported - true)
  with its sd: a bias shows as a mean error far from 0 in sd / sqrt(draws) units; and the mean width.
- the same three estimators on gold + calibration (``*_gc``: every answered reserve record, as ``compare``'s
  single-label verdict now counts them; ``labeler.evaluation.compare_on_gold``), against the same truths.

Each draw also keeps every gold and out-of-fold record's correctness (``records``), all an accuracy interval
depends on: ``--rescore FILE...`` recomputes the reported intervals with the current ``training.evaluate``
(the old ones move to ``reported_before``), so a method change is measured on the same draws.

    python bench/bench_interval_coverage.py --datasets ag_news,banking77 --draws 20 [--gold-share 0.1]
    python bench/bench_interval_coverage.py --rescore bench/results/interval_coverage_*.json
    python bench/bench_interval_coverage.py --markdown bench/results/interval_coverage_*.json

Writes bench/results/interval_coverage.json (``--out`` to change).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from derived_sets import SETS as DERIVED, derived_data
from common import RESULTS, require_shared_data, write_json
from labeler import simulate as sim
from labeler.evaluation.gold import CALIB, GOLD, GoldReserve
from labeler.loop.engine import Policy, fit_queue_model
from labeler.simulate.driver import each_round
from training.evaluate import bootstrap_ci, paired_bootstrap
from training.train import cross_fit

OUT = RESULTS / "interval_coverage.json"
PLANS = {"ag_news": (50, (300, 1000)), "banking77": (77, (462, 1155)),  # batch, budgets (labels)
         "mixed140": (150, (600, 1500))}  # bench_derived.py's 140-class set, through `labeler init` (--work)
N_RESAMPLES = 1000


def acc(P: np.ndarray, y: np.ndarray) -> float:
    return float((P.argmax(1) == y).mean()) if len(y) else float("nan")


def bits(correct: np.ndarray) -> str:
    """Per-record correctness as a 0/1 string: every interval method can be recomputed from the saved draws."""
    return "".join("1" if c else "0" for c in correct)


class _Rows:
    """``cross_fit``'s view of the answered records: ids for the folds, pool rows where it reads texts."""

    def __init__(self, ids: list[str], rows: np.ndarray):
        self.ids, self.df = ids, pd.DataFrame({"id": ids, "text": list(rows)})


class _OnRows:
    """A queue model that scores pool rows from the cached embeddings (what ``cross_fit`` calls texts here)."""

    def __init__(self, model, X: np.ndarray):
        self.model, self.X = model, X

    def predict_proba(self, rows) -> np.ndarray:
        return self.model.predict_proba(self.X[np.asarray(rows, dtype=np.int64)])


def one_draw(data, feats, policy, batch: int, budgets, seed: int, folds: int) -> list[dict]:
    ml, thr = data.multi_label, data.threshold
    gold_reserve = GoldReserve(policy.gold_share, policy.calib_share, seed=seed)
    split = np.array([gold_reserve.split_of(i) for i in data.ids], dtype=object)
    boot = dict(n_resamples=N_RESAMPLES, seed=0)
    out = []
    for s in each_round(data, feats, policy, max(budgets) // batch, reserve=gold_reserve):
        labeled, reserve, model, model_P = s.labeled, s.reserve, s.model, s.model_P
        n = int(labeled.sum())
        if n not in budgets:
            continue
        gold = np.flatnonzero(labeled & (split == GOLD))
        y_g = data.y[gold]
        rep = {"zero_shot": bootstrap_ci(feats.P0[gold], y_g, "accuracy", **boot),
               "run": bootstrap_ci(model_P[gold], y_g, "accuracy", **boot),
               "gain": paired_bootstrap(model_P[gold], feats.P0[gold], y_g, "accuracy", **boot)}
        never = ~labeled
        res_rows = np.flatnonzero(reserve)
        true = {"test": {"zero_shot": acc(feats.P0_eval, data.eval_y), "run": acc(model.predict_proba(feats.X_eval),
                                                                                  data.eval_y)},
                "reserve": {"zero_shot": acc(feats.P0[res_rows], data.y[res_rows]),
                            "run": acc(model_P[res_rows], data.y[res_rows])},
                "unasked": {"zero_shot": acc(feats.P0[never], data.y[never]), "run": acc(model_P[never], data.y[never])}}
        for t in true.values():
            t["gain"] = t["run"] - t["zero_shot"]
        # the final fit as `train --final-fit` builds it: every human label (queue-chosen, gold, calibration) plus
        # the same weak labels; training.train.cross_fit over the answered reserve; bootstrap_ci on its out-of-fold
        # predictions. Its "reserve" truth is the reserve records nobody answered (it trained on the rest).
        human = np.flatnonzero(labeled)

        def fit(mask: np.ndarray):
            rows = human[mask]
            m, _ = fit_queue_model(feats.X, rows, data.y[rows], feats.P0, labeled | reserve, policy, ml, thr)
            return _OnRows(m, feats.X)

        which = split[human]
        pos, P_oof = cross_fit(_Rows([data.ids[i] for i in human], human), which, folds, fit, seed=0)
        y_oof = data.y[human[pos]]
        rep["final_fit"] = bootstrap_ci(P_oof, y_oof, "accuracy", **boot)
        final, _ = fit_queue_model(feats.X, human, data.y[human], feats.P0, labeled | reserve, policy, ml, thr)
        open_reserve, open_pool = np.flatnonzero(reserve & never), np.flatnonzero(never & ~reserve)
        true["test"]["final_fit"] = acc(final.predict_proba(feats.X_eval), data.eval_y)
        true["reserve"]["final_fit"] = acc(final.predict_proba(feats.X[open_reserve]), data.y[open_reserve])
        true["unasked"]["final_fit"] = acc(final.predict_proba(feats.X[open_pool]), data.y[open_pool])
        # gold + calibration: every answered reserve record (pool order), what compare's single-label verdict scores
        ev = np.flatnonzero(labeled & ((split == GOLD) | (split == CALIB)))
        y_e = data.y[ev]
        rep |= {"zero_shot_gc": bootstrap_ci(feats.P0[ev], y_e, "accuracy", **boot),
                "run_gc": bootstrap_ci(model_P[ev], y_e, "accuracy", **boot),
                "gain_gc": paired_bootstrap(model_P[ev], feats.P0[ev], y_e, "accuracy", **boot)}
        # prediction-powered gains (training.ppi), as compare scores them: the unanswered reserve in draw order
        unl = gold_reserve.unanswered(data.ids, [data.ids[i] for i in human])
        both_u = (model_P[unl], feats.P0[unl])
        rep |= {"gain_ppi": paired_bootstrap(model_P[gold], feats.P0[gold], y_g, "accuracy", unlabeled=both_u, **boot),
                "gain_gc_ppi": paired_bootstrap(model_P[ev], feats.P0[ev], y_e, "accuracy", unlabeled=both_u, **boot)}
        records = {"zero_shot": bits(feats.P0[gold].argmax(1) == y_g), "run": bits(model_P[gold].argmax(1) == y_g),
                   "final_fit": bits(P_oof.argmax(1) == y_oof),
                   "zero_shot_gc": bits(feats.P0[ev].argmax(1) == y_e), "run_gc": bits(model_P[ev].argmax(1) == y_e)}
        out.append({"seed": seed, "n_labels": n, "n_gold": len(gold), "n_eval": len(ev), "n_answered_reserve": len(pos),
                    "reported": {m: {kk: v if isinstance(v, str) else float(v) for kk, v in d.items()}
                                 for m, d in rep.items()}, "true": true,
                    "records": records})
    return out


ESTIMATES = ("zero_shot", "run", "gain", "final_fit")
GC_ESTIMATES = ("zero_shot_gc", "run_gc", "gain_gc")  # on gold + calibration; truths: those of the base estimate
PPI_ESTIMATES = ("gain_ppi", "gain_gc_ppi")  # prediction-powered (training.ppi); truth: the gain


def summarize(rows: list[dict], key: str = "reported") -> dict:
    """Per truth and estimate: the share of draws whose interval (``key``: ``reported``, or ``reported_before``
    after ``--rescore``) holds the true value, the mean error of the point estimate and its sd, the mean width."""
    out = {}
    present = [m for m in ESTIMATES + GC_ESTIMATES + PPI_ESTIMATES if all(m in r[key] for r in rows)]
    for truth in ("test", "reserve", "unasked"):
        for m in present:
            rep = [r[key][m] for r in rows]
            point = [d["diff"] if m.startswith("gain") else d["value"] for d in rep]
            true = [r["true"][truth][m.removesuffix("_ppi").removesuffix("_gc")] for r in rows]
            inside = [d["lo"] <= t <= d["hi"] for d, t in zip(rep, true)]
            err = np.array(point) - np.array(true)
            out[f"{truth}/{m}"] = {"covered": float(np.mean(inside)), "draws": len(rows),
                                   "mean_error": float(err.mean()), "sd_error": float(err.std(ddof=1)),
                                   "mean_width": float(np.mean([d["hi"] - d["lo"] for d in rep]))}
    return out


def _as_P(bits_: str) -> np.ndarray:
    """Two-class probabilities that are right (class 0) exactly where ``bits_`` says: y is all zeros."""
    right = np.array([c == "1" for c in bits_], dtype=bool)
    return np.stack([right, ~right], 1).astype(np.float64)


def rescore(path: Path) -> None:
    """Recompute every draw's reported accuracy intervals with the product's current ``bootstrap_ci`` and
    ``paired_bootstrap`` from the saved per-record correctness (an accuracy interval depends on nothing else);
    the intervals the run reported move to ``reported_before`` (kept if already there)."""
    result = json.loads(path.read_text())
    boot = dict(n_resamples=N_RESAMPLES, seed=0)
    for d in result["datasets"].values():
        for r in d["draws"]:
            P = {m: _as_P(bits_) for m, bits_ in r["records"].items()}
            y_g, y_oof = np.zeros(len(P["run"]), dtype=np.int64), np.zeros(len(P["final_fit"]), dtype=np.int64)
            rep = {"zero_shot": bootstrap_ci(P["zero_shot"], y_g, "accuracy", **boot),
                   "run": bootstrap_ci(P["run"], y_g, "accuracy", **boot),
                   "gain": paired_bootstrap(P["run"], P["zero_shot"], y_g, "accuracy", **boot),
                   "final_fit": bootstrap_ci(P["final_fit"], y_oof, "accuracy", **boot)}
            if "run_gc" in P:
                y_e = np.zeros(len(P["run_gc"]), dtype=np.int64)
                rep |= {"zero_shot_gc": bootstrap_ci(P["zero_shot_gc"], y_e, "accuracy", **boot),
                        "run_gc": bootstrap_ci(P["run_gc"], y_e, "accuracy", **boot),
                        "gain_gc": paired_bootstrap(P["run_gc"], P["zero_shot_gc"], y_e, "accuracy", **boot)}
            r.setdefault("reported_before", r["reported"])
            kept = {m: r["reported"][m] for m in PPI_ESTIMATES if m in r["reported"]}  # need the pool: not rescored
            r["reported"] = {m: {kk: float(v) for kk, v in x.items()} for m, x in rep.items()} | kept
        budgets = sorted({r["n_labels"] for r in d["draws"]})
        d["summary"] = {str(b): summarize([r for r in d["draws"] if r["n_labels"] == b]) for b in budgets}
    result["rescored"] = "reported: recomputed by --rescore with the current training.evaluate; reported_before: as run"
    write_json(path, result, indent=1)


def _merged(paths: list[Path]) -> dict[tuple[str, float], list]:
    """Draws per (data set, gold share), from several files (e.g. seeds 1-20 and 21-45), each once."""
    merged: dict[tuple[str, float], list] = {}
    for path in paths:
        for name, d in json.loads(Path(path).read_text())["datasets"].items():
            key = (name, float(d.get("gold_share", 0.2)))
            seen = {(r["seed"], r["n_labels"]) for r in merged.get(key, [])}
            merged.setdefault(key, []).extend(r for r in d["draws"] if (r["seed"], r["n_labels"]) not in seen)
    return merged


def markdown(paths: list[Path]) -> str:
    """The BENCHMARKS tables from saved results: coverage of the test-split value with mean widths (before ->
    now where the draws were rescored), coverage per truth now, then the final fit beside the run."""
    head = "| data set | gold share | labels | draws | gold n (median) |"
    cov = [head + " zero-shot acc | run acc | gain | final fit (cross-fitted) |", "|---|---:|---:|---:|---:|---|---|---|---|"]
    lines = [head + " truth | zero-shot acc | run acc | gain | final fit (cross-fitted) |",
             "|---|---:|---:|---:|---:|---|---|---|---|---|"]
    fit = ["| data set | gold share | labels | draws | run: test acc (mean, range) | final fit: test acc (mean, range) "
           "| final fit minus run |", "|---|---:|---:|---:|---|---|---|"]
    for (name, share), draws in sorted(_merged(paths).items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        for b in sorted({r["n_labels"] for r in draws}):
            rows = [r for r in draws if r["n_labels"] == b]
            summ = summarize(rows)
            before = summarize(rows, "reported_before") if all("reported_before" in r for r in rows) else None
            lead = f"| {name} | {share:g} | {b} | {len(rows)} | {int(np.median([r['n_gold'] for r in rows]))} |"
            cells = []
            for m in ESTIMATES:
                c = summ[f"test/{m}"]
                if before:
                    o = before[f"test/{m}"]
                    cells.append(f"{o['covered']:.0%} → **{c['covered']:.0%}** (width {o['mean_width']:.3f} → "
                                 f"{c['mean_width']:.3f})")
                else:
                    cells.append(f"**{c['covered']:.0%}** (width {c['mean_width']:.3f})")
            cov.append(lead + " " + " | ".join(cells) + " |")
            for truth in ("reserve", "test", "unasked"):
                cells = [f"{summ[f'{truth}/{m}']['covered']:.0%} (err {summ[f'{truth}/{m}']['mean_error']:+.3f} ± "
                         f"{summ[f'{truth}/{m}']['sd_error']:.3f})" for m in ESTIMATES]
                lines.append(lead + f" {truth} | " + " | ".join(cells) + " |")
            run = np.array([r["true"]["test"]["run"] for r in rows])
            final = np.array([r["true"]["test"]["final_fit"] for r in rows])
            fit.append(f"| {name} | {share:g} | {b} | {len(rows)} | {run.mean():.3f} ({run.min():.3f}..{run.max():.3f}) | "
                       f"{final.mean():.3f} ({final.min():.3f}..{final.max():.3f}) | {np.mean(final - run):+.3f} "
                       f"(sd {np.std(final - run, ddof=1):.3f}) |")
    return "\n".join(cov) + "\n\n" + "\n".join(lines) + "\n\n" + "\n".join(fit) + gc_markdown(paths) + \
        ppi_markdown(paths)


def ppi_markdown(paths: list[Path]) -> str:
    """Draws that carry the prediction-powered gains: coverage of the test gain, plain -> prediction-powered, on
    gold and on gold + calibration (mean widths), and how many draws each calls "beats" (interval above 0)."""
    out = ["| data set | gold share | labels | draws | gold / gold + calib n (median) | gain on gold: covered (width) | "
           "gain on gold + calib: covered (width) | \"beats\" on gold + calib, draws |", "|---|---:|---:|---:|---|---|---|---|"]
    for (name, share), draws in sorted(_merged(paths).items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        draws = [r for r in draws if "gain_gc_ppi" in r["reported"]]
        for b in sorted({r["n_labels"] for r in draws}):
            rows = [r for r in draws if r["n_labels"] == b]
            summ = summarize(rows)
            cells = [f"{summ[f'test/{m}']['covered']:.0%} → **{summ[f'test/{m}_ppi']['covered']:.0%}** (width "
                     f"{summ[f'test/{m}']['mean_width']:.3f} → {summ[f'test/{m}_ppi']['mean_width']:.3f})"
                     for m in ("gain", "gain_gc")]
            beats = [sum(r["reported"][m]["lo"] > 0 for r in rows) for m in ("gain_gc", "gain_gc_ppi")]
            out.append(f"| {name} | {share:g} | {b} | {len(rows)} | {int(np.median([r['n_gold'] for r in rows]))} / "
                       f"{int(np.median([r['n_eval'] for r in rows]))} | " + " | ".join(cells) +
                       f" | {beats[0]} → {beats[1]} |")
    return "" if len(out) == 2 else "\n\n" + "\n".join(out)


def gc_markdown(paths: list[Path]) -> str:
    """Draws that carry the gold + calibration estimators: coverage of the test value on gold alone -> on gold +
    calibration (mean widths), and the gold + calibration point estimate's error against the reserve."""
    out = ["| data set | gold share | labels | draws | gold n (median) | gold + calib n (median) | zero-shot acc | "
           "run acc | gain | error vs reserve (zero-shot / run / gain) |", "|---|---:|---:|---:|---:|---:|---|---|---|---|"]
    for (name, share), draws in sorted(_merged(paths).items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        draws = [r for r in draws if "run_gc" in r["reported"]]
        for b in sorted({r["n_labels"] for r in draws}):
            rows = [r for r in draws if r["n_labels"] == b]
            summ = summarize(rows)
            cells = [f"{summ[f'test/{m}']['covered']:.0%} → **{summ[f'test/{m}_gc']['covered']:.0%}** (width "
                     f"{summ[f'test/{m}']['mean_width']:.3f} → {summ[f'test/{m}_gc']['mean_width']:.3f})"
                     for m in ("zero_shot", "run", "gain")]
            err = " / ".join(f"{summ[f'reserve/{m}']['mean_error']:+.3f} ± {summ[f'reserve/{m}']['sd_error']:.3f}"
                             for m in GC_ESTIMATES)
            out.append(f"| {name} | {share:g} | {b} | {len(rows)} | {int(np.median([r['n_gold'] for r in rows]))} | "
                       f"{int(np.median([r['n_eval'] for r in rows]))} | " + " | ".join(cells) + f" | {err} |")
    return "" if len(out) == 2 else "\n\n" + "\n".join(out)


def main() -> None:
    if sys.argv[1:2] == ["--markdown"]:
        print(markdown([Path(p) for p in sys.argv[2:]]))
        return
    if sys.argv[1:2] == ["--rescore"]:
        for p in sys.argv[2:]:
            rescore(Path(p))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="ag_news,banking77")
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--budgets", default=None, help="comma-separated label budgets (default per data set)")
    ap.add_argument("--gold-share", type=float, default=None, help="queue.gold_share (default: the config's)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--work", default="/tmp/bench_interval_coverage", help="where a derived set's files go")
    args = ap.parse_args()
    out_path = Path(args.out)

    result = {"command": "python bench/bench_interval_coverage.py " + " ".join(sys.argv[1:]), "datasets": {}}
    if out_path.exists():
        result["datasets"] = json.loads(out_path.read_text()).get("datasets", {})
    for name in args.datasets.split(","):
        batch, budgets = PLANS[name]
        if args.budgets:
            budgets = tuple(int(b) for b in args.budgets.split(","))
        data = (derived_data(name, require_shared_data(), Path(args.work) / name) if name in DERIVED
                else sim.dataset_data(name))
        feats = sim.compute_features(data, progress=False)
        policy = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
        if args.gold_share is not None:
            policy = dataclasses.replace(policy, gold_share=args.gold_share)
        rows, t0 = [], time.perf_counter()
        for seed in range(args.first_seed, args.first_seed + args.draws):
            rows += one_draw(data, feats, policy, batch, budgets, seed, args.folds)
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
            if len(rows) >= 2 * len(budgets):  # saved after every draw: a long run can be read while it goes on
                result["datasets"][name] = {
                    "pool": len(data.ids), "test": len(data.eval_ids), "batch": batch, "policy": policy.name,
                    "gold_share": policy.gold_share,
                    "draws": rows,
                    "summary": {str(b): summarize([r for r in rows if r["n_labels"] == b]) for b in budgets}}
                out_path.parent.mkdir(parents=True, exist_ok=True)
                write_json(out_path, result, indent=1)
        if name not in result["datasets"]:
            print(f"{name}: {args.draws} draw(s) give no coverage to summarise; use --draws 2 or more", flush=True)
            continue
        for b in budgets:
            s = result["datasets"][name]["summary"][str(b)]
            print(name, b, {k: (round(v["covered"], 2), round(v["mean_error"], 3)) for k, v in s.items()}, flush=True)


if __name__ == "__main__":
    main()
