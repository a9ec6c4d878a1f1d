"""What ships on single-label data (issue 26.2): the same labeled rows, the final fit trained different ways.

Along the default policy's own rounds (``labeler.simulate.driver.each_round``, the loop ``labeler simulate`` runs,
one seed, the batch and rounds of bench_label_efficiency's ``PLANS``), at every budget, "what ships" is refitted on
every answered label (gold and calibration included, as ``labeler.simulate.driver.ships_metrics`` does) and
scored on the eval split, trained:

* ``today``: ``fit_queue_model`` with the policy's weak rows (the ensemble's most confident 5% of each predicted
  class at weight 0.3, always), C = 10, class-balanced (must equal the ``ships_`` curve of ``labeler simulate``);
* ``no weak``: the human rows alone;
* ``weak < 5K`` / ``weak < 10K``: the weak rows only while the human labels are fewer than 5 (10) x the classes;
* ``C 1`` / ``C 3`` / ``C 30``: another fixed C (diagnostics);
* ``C by CV (...)``: C among {1, 3, 10, 30} picked by 3-fold cross-validation over the human rows (folds by pool
  position; the weak rows train every fold), scored by ``all acc`` (accuracy on every held-out human row),
  ``all ll`` (mean log-likelihood of the truth there) or ``reserve acc`` (accuracy on the held-out random reserve
  rows only: the unbiased ones); ties keep 10;
* ``unbalanced``: no class weights (the sample weights alone);
* ``self-train``: the weak rows taken from today's model's own confident pool predictions instead of the ensemble;
* ``weak agree``: the ensemble's weak rows kept only where today's model predicts the same class;
* ``weak F x W``: another weak fraction (F of each predicted class) and weight (W), always on;
* ``weak for short classes``: the weak rows of a class only while it has fewer than ``min_per_class`` (8) human
  labels;
* ``weak from ensemble+model``: the weak rows picked from the mean of the ensemble and today's model;
* ``label rows``: today's training rows plus one row per class, the embedding signal's label vector (its prompt's
  embedding) at weight 1, as SetFit's label texts add a templated example per label;
* ``blend zero-shot 0.1``: 0.9 x today's probabilities + 0.1 x the zero-shot ensemble's on the eval split.

    .venv/bin/python bench/bench_ships_head.py --datasets banking77 --reserve-seeds 4
    .venv/bin/python bench/bench_ships_head.py --datasets sms_spam,ag_news --reserve-seeds 4

``--reserve-seeds N`` repeats it with the gold reserve drawn by hash seeds 0..N-1 (0: the product's), as
bench_label_efficiency's ``--reserve-seeds`` does: one draw says little about differences this small.
``--first-draw 4 --reserve-seeds 4 --out bench/results/ships_head_confirm.json``: draws 4..7, not looked at when
the candidates were compared, to confirm a winner.

Writes ``bench/results/ships_head.json`` (merged per data set) and prints per data set the AUC over budgets,
labels-to-95%, the worst gap to ``today`` and the values at the budgets around today's labels-to-95%.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from common import PLANS, RESULTS, load_average, markdown_table, write_json

from labeler import simulate as sim
from labeler.evaluation.gold import GoldReserve
from labeler.loop.engine import QUEUE_MODEL_C, Policy, WeakLabels, fit_queue_model, training_set, weak_rows
from labeler.loop.scoring import embedder
from labeler.simulate.driver import each_round, primary_metric, score_metrics
from labeler.simulate.report import FRACTION_95, auc, labels_to_target
from training.head import LinearModel

OUT = RESULTS / "ships_head.json"
CS = (QUEUE_MODEL_C, 3.0, 30.0, 1.0)  # the CV's candidates, the default first: a tie keeps it
FOLDS = 3
TODAY = "today"


def cv_choices(X, y, w, n_human: int, in_reserve: np.ndarray, k: int, seed: int) -> dict[str, float]:
    """C per selection rule: 3-fold CV over the first ``n_human`` rows of (X, y, w) (the human rows, in pool
    order; the weak rows after them train every fold)."""
    fold = np.arange(n_human) % FOLDS
    oof = {c: np.zeros((n_human, k)) for c in CS}
    weak = np.arange(n_human, len(X))
    for f in range(FOLDS):
        test = np.flatnonzero(fold == f)
        train = np.concatenate([np.flatnonzero(fold != f), weak])
        for c in CS:
            oof[c][test] = LinearModel(k, False, c, seed).fit(X[train], y[train], w[train]).predict_proba(X[test])
    yh = y[:n_human]
    score = {
        "all acc": {c: float((P.argmax(1) == yh).mean()) for c, P in oof.items()},
        "all ll": {c: float(np.log(np.clip(P[np.arange(n_human), yh], 1e-12, None)).mean()) for c, P in oof.items()},
        "reserve acc": {c: float((P.argmax(1) == yh)[in_reserve].mean()) if in_reserve.any() else 0.0
                        for c, P in oof.items()},
    }
    return {rule: max(CS, key=lambda c: (s[c], c == QUEUE_MODEL_C)) for rule, s in score.items()}


def refits(data, feats, final: Policy, labeled: np.ndarray, reserve: np.ndarray) -> tuple[dict, dict]:
    """{candidate: eval metrics} and {CV rule: C} for what ships on the rows ``labeled`` at this budget."""
    k, X, seed = len(data.labels), feats.X, final.seed
    label_vectors = embedder(data.config, feats.objects).label_embeddings().astype(np.float64)
    rows = np.flatnonzero(labeled)
    excluded = labeled | reserve
    models: dict[str, object] = {}
    today, _ = fit_queue_model(X, rows, data.y[rows], feats.P0, excluded, final, False, data.threshold,
                               (rows[:0], data.y[rows[:0]]))
    models[TODAY] = today
    Xt, yt, w, n_weak = training_set(X, rows, data.y[rows], feats.P0, excluded, final.weak, False, data.threshold)
    n = len(rows)
    by_c = {QUEUE_MODEL_C: today}
    for c in CS[1:]:
        by_c[c] = LinearModel(k, False, c, seed).fit(Xt, yt, w)
        models[f"C {c:g}"] = by_c[c]
    human = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(Xt[:n], yt[:n])
    models["no weak"] = human
    for mult in (5, 10):
        models[f"weak < {mult}K"] = today if n < mult * k else human
    models["unbalanced"] = LinearModel(k, False, QUEUE_MODEL_C, seed, balanced=False).fit(Xt, yt, w)
    P_pool = today.predict_proba(X)
    sr, sy = weak_rows(P_pool, excluded, final.weak, n, False, data.threshold)
    models["self-train"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(
        np.concatenate([Xt[:n], X[sr]]), np.concatenate([yt[:n], sy]),
        np.concatenate([np.ones(n), np.full(len(sr), final.weak.weight)]))
    wr = np.arange(n, len(Xt))
    wrows, _ = weak_rows(feats.P0, excluded, final.weak, n, False, data.threshold)
    keep = np.concatenate([np.arange(n), wr[P_pool[wrows].argmax(1) == yt[n:]]]) if len(wr) else np.arange(n)
    models["weak agree"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(Xt[keep], yt[keep], w[keep])
    for frac, weight in ((0.1, 0.3), (0.05, 0.5), (0.1, 0.1)):
        more = dataclasses.replace(final.weak, fraction=frac, weight=weight)
        Xm, ym, wm, _ = training_set(X, rows, data.y[rows], feats.P0, excluded, more, False, data.threshold)
        models[f"weak {frac:g}x{weight:g}"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(Xm, ym, wm)
    short = np.bincount(yt[:n], minlength=k) < final.min_per_class
    keep = np.concatenate([np.arange(n), wr[short[yt[n:]]]]) if len(wr) else np.arange(n)
    models["weak for short classes"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(Xt[keep], yt[keep], w[keep])
    mr, my = weak_rows((feats.P0 + P_pool) / 2, excluded, final.weak, n, False, data.threshold)
    models["weak from ensemble+model"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(
        np.concatenate([Xt[:n], X[mr]]), np.concatenate([yt[:n], my]),
        np.concatenate([np.ones(n), np.full(len(mr), final.weak.weight)]))
    models["label rows"] = LinearModel(k, False, QUEUE_MODEL_C, seed).fit(
        np.vstack([Xt, label_vectors]), np.concatenate([yt, np.arange(k)]), np.concatenate([w, np.ones(k)]))
    sorted_rows = np.sort(rows)
    choice = cv_choices(Xt, yt, w, n, reserve[sorted_rows], k, seed)
    for rule, c in choice.items():
        models[f"C by CV ({rule})"] = by_c[c]
    probas = {name: m.predict_proba(feats.X_eval) for name, m in models.items()}
    probas["blend zero-shot 0.1"] = 0.9 * probas[TODAY] + 0.1 * feats.P0_eval
    out = {name: score_metrics(P, data.eval_y, data) for name, P in probas.items()}
    return out, {**choice, "n_weak": n_weak}


def one_draw(data, feats, name: str, seed: int, rounds: int | None, reserve_seed: int) -> dict:
    """Every candidate along the default's rounds with the gold reserve drawn by ``reserve_seed`` (0: the
    product's, ``labeler.evaluation.gold.RESERVE_SEED``; the others are what bench_label_efficiency's
    ``--reserve-seeds`` runs)."""
    plan = PLANS[name]
    policy = dataclasses.replace(Policy.from_config(data.config), batch_size=plan["batch_size"], seed=seed)
    final = dataclasses.replace(policy, prior_shift=0.0)  # ships_metrics' final fit
    reserve = GoldReserve(policy.gold_share, policy.calib_share, reserve_seed)
    primary = primary_metric(data)
    ref = sim.reference(data, feats)
    n_labels, curves, choices = [], {}, []
    for s in each_round(data, feats, policy, rounds or plan["rounds"], reserve):
        t0 = time.perf_counter()
        scores, choice = refits(data, feats, final, s.labeled, s.reserve)
        n_labels.append(int(s.labeled.sum()))
        for cand, m in scores.items():
            curves.setdefault(cand, []).append(m[primary])
        choices.append(choice)
        print(f"[{name} draw {reserve_seed}] {n_labels[-1]} labels: today {scores[TODAY][primary]:.3f}, CV C {choice} "
              f"({time.perf_counter() - t0:.0f} s, load {load_average()})", flush=True)
    target = FRACTION_95 * ref[primary]
    base = np.array(curves[TODAY])
    summary = {}
    for cand, vals in curves.items():
        v = np.array(vals)
        gap = v - base
        summary[cand] = {"values": [round(x, 4) for x in vals], "auc": round(auc(n_labels, v), 4),
                         "labels_to_95": labels_to_target(n_labels, v, target),
                         "worst_gap_vs_today": round(float(gap.min()), 4),
                         "at": int(n_labels[int(gap.argmin())])}
    return {"seed": seed, "reserve_seed": reserve_seed, "policy": policy.name, "batch": plan["batch_size"],
            "primary_metric": primary, "reference": ref[primary], "target_95": round(target, 4),
            "n_labels": n_labels, "candidates": summary, "cv_choices": choices, "load": load_average()}


def study(name: str, seed: int, rounds: int | None = None, reserve_seeds: int = 1, first_draw: int = 0) -> dict:
    data = sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    draws = [one_draw(data, feats, name, seed, rounds, r) for r in range(first_draw, first_draw + reserve_seeds)]
    over = {}
    for cand in draws[0]["candidates"]:
        d = [e["candidates"][cand] for e in draws]
        diff = [x["auc"] - e["candidates"][TODAY]["auc"] for x, e in zip(d, draws)]
        over[cand] = {"labels_to_95": [x["labels_to_95"] for x in d], "auc": [x["auc"] for x in d],
                      "auc_mean": round(float(np.mean([x["auc"] for x in d])), 4),
                      "auc_std": round(float(np.std([x["auc"] for x in d])), 4),
                      "auc_vs_today_mean": round(float(np.mean(diff)), 4),
                      "draws_auc_at_least_today": int(sum(x >= -1e-9 for x in diff)),
                      "worst_gap_vs_today": round(min(x["worst_gap_vs_today"] for x in d), 4)}
    return {"draws": draws, "over_draws": over, "load": load_average()}


def table(name: str, entry: dict) -> str:
    e = entry["draws"][0]
    n = e["n_labels"]
    l95 = e["candidates"][TODAY]["labels_to_95"] or n[-1]
    i = n.index(l95) if l95 in n else len(n) - 1
    cols = n[max(0, i - 2): i + 3]
    head = (f"**{name}** ({e['policy']}, batch {e['batch']}, seed {e['seed']}, reserve draw {e['reserve_seed']}; "
            f"{e['primary_metric']}, 95% = {e['target_95']:.3f} of {e['reference']:.3f})")
    keys = ["what ships", "L95", "AUC", "worst vs today (at)", *map(str, cols)]
    rows = [dict(zip(keys, [c, d["labels_to_95"] if d["labels_to_95"] is not None else f"> {n[-1]}",
                            f"{d['auc']:.4f}", f"{d['worst_gap_vs_today']:+.3f} ({d['at']})",
                            *[f"{d['values'][n.index(x)]:.3f}" for x in cols]]))
            for c, d in e["candidates"].items()]
    out = head + "\n\n" + markdown_table(rows, keys)
    if len(entry["draws"]) > 1:
        keys = ["what ships", "L95 per draw", "AUC (mean ± std)", "AUC − today (mean)", "draws AUC ≥ today",
                "worst vs today"]
        rows = [dict(zip(keys, [c, ", ".join(str(x) if x else f"> {n[-1]}" for x in d["labels_to_95"]),
                                f"{d['auc_mean']:.4f} ± {d['auc_std']:.4f}", f"{d['auc_vs_today_mean']:+.4f}",
                                f"{d['draws_auc_at_least_today']}/{len(entry['draws'])}",
                                f"{d['worst_gap_vs_today']:+.3f}"]))
                for c, d in entry["over_draws"].items()]
        out += f"\n\n**{name}**, {len(entry['draws'])} reserve draws:\n\n" + markdown_table(rows, keys)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="banking77,sms_spam,ag_news")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reserve-seeds", type=int, default=1, help="reserve draws 0..n-1 (0: the product's)")
    ap.add_argument("--first-draw", type=int, default=0, help="reserve draws from this hash seed on (a fresh set "
                    "of draws to confirm what the first ones suggested)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--rounds", type=int, default=None, help="fewer rounds than bench_label_efficiency's")
    ap.add_argument("--markdown", action="store_true", help="print the tables from the saved JSON and stop")
    args = ap.parse_args()
    out = Path(args.out)
    if not args.markdown:
        for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
            entry = study(name, args.seed, args.rounds, args.reserve_seeds, args.first_draw)
            saved = {**(json.loads(out.read_text()) if out.exists() else {}), name: entry}
            write_json(out, saved, indent=1)
            print(table(name, entry) + "\n", flush=True)
    else:
        saved = json.loads(out.read_text()) if out.exists() else {}
        print("\n\n".join(table(name, e) for name, e in saved.items()))


if __name__ == "__main__":
    main()
