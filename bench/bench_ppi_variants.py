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

    python bench/bench_ppi_variants.py banking77 0-44 308,462,1155
    python bench/bench_ppi_variants.py --summary bench/results/ppi_variants/*.json

Writes bench/results/ppi_variants/<data set>_<seeds>.json after every draw.
"""

import dataclasses
import json
import sys
from pathlib import Path
import numpy as np
from statistics import NormalDist
from labeler import simulate as sim
from labeler.evaluation.gold import CALIB, GOLD, GoldReserve
from labeler.loop.engine import Policy
from labeler.simulate.driver import each_round
from training.evaluate import paired_bootstrap
from training.ppi import expected_gain

OUT = Path(__file__).parent / 'results' / 'ppi_variants'


def summary(paths):
    rows = sum((json.load(open(p)) for p in paths), [])
    for n in sorted({r['n'] for r in rows}):
        R = [r for r in rows if r['n'] == n]
        t = np.array([r['truth']['test'] for r in R])
        line = f"n={n} draws={len(R)}"
        for k in R[0]['v']:
            c = np.mean([r['v'][k][1] <= x <= r['v'][k][2] for r, x in zip(R, t)])
            w = np.mean([r['v'][k][2] - r['v'][k][1] for r in R])
            b = sum(r['v'][k][1] > 0 for r in R)
            line += f" | {k} {c:.2f} w{w:.3f} beats{b}"
        print(line)


if sys.argv[1:2] == ['--summary']:
    summary(sys.argv[2:])
    sys.exit(0)
OUT.mkdir(parents=True, exist_ok=True)
name = sys.argv[1]; s0, s1 = map(int, sys.argv[2].split('-')); budgets = tuple(int(b) for b in sys.argv[3].split(','))
batch = {'banking77': 77, 'ag_news': 50}[name]
data = sim.dataset_data(name); feats = sim.compute_features(data, progress=False)
policy = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
def acc(P, y): return float((P.argmax(1) == y).mean())
Z = 1.959964

def lam_of(d, f, ratio, clip):
    v = f.var(ddof=1)
    l = float(np.cov(d, f)[0, 1]) / ((1 + ratio) * v) if v > 0 else 0.0
    return float(np.clip(l, 0, 1)) if clip else l

def est(d, f, fu, lam):
    n, N = len(d), len(fu)
    th = lam * fu.mean() + (d - lam * f).mean()
    se = np.sqrt(lam**2 * fu.var(ddof=1) / N + (d - lam * f).var(ddof=1) / n)
    return th, th - Z * se, th + Z * se

def variants(d, f, fu, rng):
    n, N = len(d), len(fu)
    out = {}
    for nm, clip in (('free', False), ('clip', True)):
        out[nm] = est(d, f, fu, lam_of(d, f, n / N, clip))
    out['one'] = est(d, f, fu, 1.0)
    # cross-fit lambda: each half's lambda from the other half
    idx = rng.permutation(n); h = [idx[: n // 2], idx[n // 2:]]
    lams = [lam_of(d[h[1 - k]], f[h[1 - k]], n / N, False) for k in range(2)]
    th = sum(len(h[k]) / n * (lams[k] * fu.mean() + (d[h[k]] - lams[k] * f[h[k]]).mean()) for k in range(2))
    lam_bar = float(np.mean(lams))
    se = np.sqrt(lam_bar**2 * fu.var(ddof=1) / N + np.concatenate([d[h[k]] - lams[k] * f[h[k]] for k in range(2)]).var(ddof=1) / n)
    out['xfit'] = (th, th - Z * se, th + Z * se)
    boots = []
    for _ in range(1000):
        i = rng.integers(0, n, n)
        l = lam_of(d[i], f[i], n / N, True)
        boots.append(l * fu.mean() + (d[i] - l * f[i]).mean())
    lo, hi = np.percentile(boots, [2.5, 97.5]); out['clip_boot'] = (out['clip'][0], lo, hi)
    return {k: [float(x) for x in v] for k, v in out.items()}

rows = []
for seed in range(s0, s1 + 1):
    res = GoldReserve(policy.gold_share, policy.calib_share, seed=seed)
    split = np.array([res.split_of(i) for i in data.ids], dtype=object)
    for s in each_round(data, feats, policy, max(budgets) // batch, reserve=res):
        n = int(s.labeled.sum())
        if n not in budgets: continue
        ev = np.flatnonzero(s.labeled & ((split == GOLD) | (split == CALIB)))
        y = data.y[ev]
        unl = res.unanswered(data.ids, [data.ids[i] for i in np.flatnonzero(s.labeled)])
        Pr, Pz = s.model_P, feats.P0
        f_all = expected_gain(Pr, Pz)
        d = (Pr[ev].argmax(1) == y).astype(float) - (Pz[ev].argmax(1) == y)
        plain = paired_bootstrap(Pr[ev], Pz[ev], y, 'accuracy', n_resamples=10)
        truth = {'test': acc(s.model.predict_proba(feats.X_eval), data.eval_y) - acc(feats.P0_eval, data.eval_y)}
        v = variants(d, f_all[ev], f_all[unl], np.random.default_rng(seed))
        v['plain'] = [plain['diff'], plain['lo'], plain['hi']]
        rows.append({'seed': seed, 'n': n, 'n_ev': len(ev), 'v': v, 'truth': truth})
    print(name, seed, flush=True)
    json.dump(rows, open(OUT / f'{name}_seeds{s0}_{s1}.json', 'w'))
