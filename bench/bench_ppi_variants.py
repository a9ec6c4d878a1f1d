"""Which prediction-powered interval for the accuracy gain? Variants over many draws of the random reserve.

The in-process loop of ``bench_interval_coverage`` (``each_round``: the config's policy, the logistic head on the
cached embeddings as the run), per reserve seed and budget, on gold + calibration (what ``compare`` scores), with
the unanswered reserve in draw order as the unlabeled side (``GoldReserve.unanswered``, as the product takes it)
and ``training.ppi.expected_gain`` as the models' belief. Variants of the weight ``lam`` and the interval:

- ``free``: the variance-minimising weight, unclipped, normal interval;
- ``clip``: the same weight clipped to 0..1 (what ``training.ppi`` ships), normal interval;
- ``one``: plain PPI (weight 1), normal interval;
- ``xfit``: each half's weight fitted on the other half, normal interval;
- ``clip_boot``: the clipped weight refitted in each of 1,000 resamples of the gold, percentile interval;
- ``plain``: Newcombe's paired score interval on the gold alone (``paired_bootstrap`` without unlabeled rows).

Per budget: the share of draws whose interval holds the test split's gain, the mean width, and the draws whose
interval lies above 0 ("beats").

    python bench/bench_ppi_variants.py --dataset banking77 --seeds 0-79 --budgets 308,462,1155
    python bench/bench_ppi_variants.py --summary bench/results/ppi_variants/*.json

Writes bench/results/ppi_variants/<data set>_seeds<first>_<last>.json after every draw and prints the summary
table (per budget: coverage, mean width, draws that beat) at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from statistics import NormalDist

import numpy as np
from common import RESULTS, markdown_table, write_json  # first: the offline environment

from labeler import simulate as sim
from labeler.evaluation.gold import CALIB, GOLD, GoldReserve
from labeler.loop.engine import Policy
from labeler.simulate.driver import each_round
from training.evaluate import paired_bootstrap
from training.ppi import expected_gain

OUT = RESULTS / "ppi_variants"
BATCH = {"banking77": 77, "ag_news": 50}  # bench_interval_coverage's batches
Z = NormalDist().inv_cdf(0.975)


def summary_rows(rows: list[dict]) -> list[dict]:
    """Per budget and variant: the share of draws whose interval holds the test split's gain, mean width, beats."""
    out = []
    for n in sorted({r["n"] for r in rows}):
        R = [r for r in rows if r["n"] == n]
        t = np.array([r["truth"]["test"] for r in R])
        row = {"labels": n, "draws": len(R), "gold + calib n (median)": int(np.median([r["n_ev"] for r in R]))}
        for k in R[0]["v"]:
            covered = np.mean([r["v"][k][1] <= x <= r["v"][k][2] for r, x in zip(R, t)])
            width = np.mean([r["v"][k][2] - r["v"][k][1] for r in R])
            beats = sum(r["v"][k][1] > 0 for r in R)
            row[k] = f"{covered:.1%}, w {width:.3f}, beats {beats}"
        out.append(row)
    return out


def print_summary(rows: list[dict]) -> None:
    table = summary_rows(rows)
    if not table:
        print("no draws to summarise")
        return
    print(markdown_table(table, list(table[0])))


def lam_of(d, f, ratio, clip):
    v = f.var(ddof=1)
    lam = float(np.cov(d, f)[0, 1]) / ((1 + ratio) * v) if v > 0 else 0.0
    return float(np.clip(lam, 0, 1)) if clip else lam


def est(d, f, fu, lam):
    n, N = len(d), len(fu)
    th = lam * fu.mean() + (d - lam * f).mean()
    se = np.sqrt(lam**2 * fu.var(ddof=1) / N + (d - lam * f).var(ddof=1) / n)
    return th, th - Z * se, th + Z * se


def variants(d, f, fu, rng):
    n, N = len(d), len(fu)
    out = {}
    for nm, clip in (("free", False), ("clip", True)):
        out[nm] = est(d, f, fu, lam_of(d, f, n / N, clip))
    out["one"] = est(d, f, fu, 1.0)
    # cross-fit lambda: each half's lambda from the other half
    idx = rng.permutation(n)
    h = [idx[: n // 2], idx[n // 2:]]
    lams = [lam_of(d[h[1 - k]], f[h[1 - k]], n / N, False) for k in range(2)]
    th = sum(len(h[k]) / n * (lams[k] * fu.mean() + (d[h[k]] - lams[k] * f[h[k]]).mean()) for k in range(2))
    lam_bar = float(np.mean(lams))
    resid = np.concatenate([d[h[k]] - lams[k] * f[h[k]] for k in range(2)])
    se = np.sqrt(lam_bar**2 * fu.var(ddof=1) / N + resid.var(ddof=1) / n)
    out["xfit"] = (th, th - Z * se, th + Z * se)
    boots = []
    for _ in range(1000):
        i = rng.integers(0, n, n)
        lam = lam_of(d[i], f[i], n / N, True)
        boots.append(lam * fu.mean() + (d[i] - lam * f[i]).mean())
    lo, hi = np.percentile(boots, [2.5, 97.5])
    out["clip_boot"] = (out["clip"][0], lo, hi)
    return {k: [float(x) for x in v] for k, v in out.items()}


def acc(P, y):
    return float((P.argmax(1) == y).mean())


def draws(name: str, first: int, last: int, budgets: tuple[int, ...], out: Path) -> list[dict]:
    batch = BATCH[name]
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
    rows = []
    for seed in range(first, last + 1):
        res = GoldReserve(policy.gold_share, policy.calib_share, seed=seed)
        split = np.array([res.split_of(i) for i in data.ids], dtype=object)
        for s in each_round(data, feats, policy, max(budgets) // batch, reserve=res):
            n = int(s.labeled.sum())
            if n not in budgets:
                continue
            ev = np.flatnonzero(s.labeled & ((split == GOLD) | (split == CALIB)))
            y = data.y[ev]
            unl = res.unanswered(data.ids, [data.ids[i] for i in np.flatnonzero(s.labeled)])
            Pr, Pz = s.model_P, feats.P0
            f_all = expected_gain(Pr, Pz)
            d = (Pr[ev].argmax(1) == y).astype(float) - (Pz[ev].argmax(1) == y)
            plain = paired_bootstrap(Pr[ev], Pz[ev], y, "accuracy", n_resamples=10)
            truth = {"test": acc(s.model.predict_proba(feats.X_eval), data.eval_y) - acc(feats.P0_eval, data.eval_y)}
            v = variants(d, f_all[ev], f_all[unl], np.random.default_rng(seed))
            v["plain"] = [plain["diff"], plain["lo"], plain["hi"]]
            rows.append({"seed": seed, "n": n, "n_ev": len(ev), "v": v, "truth": truth})
        print(name, "reserve seed", seed, flush=True)
        write_json(out, rows)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", choices=sorted(BATCH), default="banking77")
    ap.add_argument("--seeds", default="0-79", help="reserve seeds, FIRST-LAST")
    ap.add_argument("--budgets", default="308,462,1155", help="labels asked (multiples of the batch), comma-separated")
    ap.add_argument("--summary", nargs="+", metavar="JSON", help="print the table of saved draws and stop")
    args = ap.parse_args()
    if args.summary:
        print_summary(sum((json.loads(Path(p).read_text()) for p in args.summary), []))
        return
    try:
        first, last = (int(x) for x in args.seeds.split("-"))
        budgets = tuple(int(b) for b in args.budgets.split(","))
    except ValueError:
        ap.error(f"--seeds is FIRST-LAST and --budgets integers, got {args.seeds!r} and {args.budgets!r}")
    off = [b for b in budgets if b % BATCH[args.dataset]]
    if off:
        ap.error(f"budgets {off} are not multiples of {args.dataset}'s batch {BATCH[args.dataset]}")
    out = OUT / f"{args.dataset}_seeds{first}_{last}.json"
    print_summary(draws(args.dataset, first, last, budgets, out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
