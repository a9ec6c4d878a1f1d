"""Multi-label queue policies against random on every multi-label data set (issue 23, items 2 and 3).

Every number comes from ``labeler simulate``'s own code path (``labeler.simulate.simulate``: the engine
``labeler round`` runs, one ``Policy`` per variant) on NLU++ banking, NLU++ hotels and GoEmotions (first
6,000 training rows as the pool). Each variant changes named fields of the product default for multi-label
projects; ``before`` is the default as it was (one 0.5 cut everywhere, threshold distance, cold start, weak
labels, coverage). Columns: micro-F1 and exact-match labels-to-95% of the whole-pool reference (the same head
with the same cuts), AUC, the worst gap to random's mean curve, and the clicks column: on the records the queue
asks each round (gold left out), options to toggle (labels to add or remove, and "None of these") to fix the
pre-selected suggestion, against an empty form (``labeler.simulate.driver.suggestion_clicks``).

    .venv/bin/python bench/bench_multilabel.py --datasets nlupp_banking,nlupp_hotels,goemotions --seeds 2
    .venv/bin/python bench/bench_multilabel.py --markdown        # the tables from the saved JSON

Writes ``bench/results/multilabel.json`` after every variant (mean curves and summaries per variant).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
from common import RESULTS, curve_mean, update_json

from labeler import simulate as sim
from labeler.loop.engine import FITTED, FIXED, LEXICAL_FROM, TRAIN_CALIB, Policy, WeakLabels

OUT = RESULTS / "multilabel.json"
# batch size and rounds per data set: about a third of NLU++ banking's pool, GoEmotions to 800 labels
RUNS = {"nlupp_banking": (32, 15), "nlupp_hotels": (20, 25), "goemotions": (50, 16)}


CUTS = {"cuts 5 folds": dict(cut_folds=5), "cuts 10 folds": dict(cut_folds=10),
        "cuts on train + calibration": dict(cuts_on=TRAIN_CALIB),
        "cuts 5 folds on train + calibration": dict(cut_folds=5, cuts_on=TRAIN_CALIB)}


def variants(base: Policy) -> dict[str, Policy]:
    """Name -> policy. ``base`` is ``Policy.from_config`` of the simulation config (the product default)."""
    r = dataclasses.replace
    old = r(base, strategy="threshold_distance", cold_start=True, cold_start_by="confident", coverage=0.5,
            exploration=0.0, weak=WeakLabels(0.05, 0.3), thresholds=FIXED)
    rand = r(base, strategy="random", cold_start=False, weak=WeakLabels(0.0))
    cut = r(old, thresholds=FITTED)
    named = {
        "random (0.5 cut)": r(rand, thresholds=FIXED),
        "before: default (0.5 cut)": old,
        "random": r(rand, thresholds=FITTED),
        "default": base,
        "td + cuts (cold start, weak labels)": cut,
        "td + cuts, no cold start": r(cut, cold_start=False),
        "td + cuts, no weak": r(cut, weak=WeakLabels(0.0)),
        "td + cuts, no cold, no weak": r(cut, cold_start=False, weak=WeakLabels(0.0)),
        "td + cuts, no cold, no weak, explore 0.5": r(cut, cold_start=False, weak=WeakLabels(0.0), exploration=0.5),
        "td + cuts, representative cold start": r(cut, cold_start_by="representative"),
        "td + cuts, representative cold start, no weak": r(cut, cold_start_by="representative", weak=WeakLabels(0.0)),
        "td + cuts, random first batch, no weak": r(cut, cold_start_by="random", weak=WeakLabels(0.0)),
        "td + cuts, random first batch": r(cut, cold_start_by="random"),
        "default, max loss (MMC)": r(base, strategy="max_loss"),
        "default, cardinality distance": r(base, strategy="cardinality_distance"),
        "default, rare-label distance": r(base, strategy="rare_label_distance"),
        "default, explore 0.2": r(base, exploration=0.2),
        "default, diversity 0.5": r(base, diversity=0.5),
        "default, no coverage": r(base, coverage=0.0),
        "default, no coverage, zero-shot first batch": r(base, coverage=0.0, cold_start=False),
        # a random warm-up sized by the labels: uniform picks until c x (number of labels) records are asked
        "default, warm-up 1 per label": r(base, cold_start_by="random", warmup_per_label=1.0),
        "default, warm-up 2 per label": r(base, cold_start_by="random", warmup_per_label=2.0),
        "default, warm-up 4 per label": r(base, cold_start_by="random", warmup_per_label=4.0),
        # the queue model's cuts moved to the answered reserve's label rates (Saerens et al. 2002), 20 pseudo-rows
        "default, prior shift": r(base, prior_shift=20.0),
        "default, prior shift 50": r(base, prior_shift=50.0),
        "default, warm-up 2 per label, prior shift 50": r(base, cold_start_by="random", warmup_per_label=2.0,
                                                          prior_shift=50.0),
        # each label's fitted cut weighed n_pos / (n_pos + s) against the global cut: s = 5 before, 20 for a cut below
        # the global one since "cut shrink down 20" was measured (now the default)
        **{f"default, cut shrink {s:g}": r(base, cut_shrink=float(s), cut_shrink_down=float(s)) for s in (10, 20)},
        "default, cut shrink down 20": r(base, cut_shrink=5.0, cut_shrink_down=20.0),
        "default, cut shrink 5 (before)": r(base, cut_shrink=5.0, cut_shrink_down=5.0),
        "default, k-means warm-up 3 per label": r(base, warmup_per_label=3.0, warmup_by="representative"),
    }
    # where the fitted cuts come from (``label_cuts``): each with random cut the same way, the fair baseline
    for label, fields in CUTS.items():
        named[f"default, {label}"] = r(base, **fields)
        named[f"random, {label}"] = r(named["random"], **fields)
    seen: dict[Policy, str] = {}
    return {label: p for label, p in named.items() if seen.setdefault(p, label) == label}  # one run per policy


def run(datasets: list[str], seeds: list[int], only: list[str] | None, rounds_override: int | None = None,
        lexical: float | None = None) -> dict:
    """``lexical``: the config's ``queue.lexical`` set to it for every variant and the reference (its own table)."""
    out = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in datasets:
        data = sim.dataset_data(name)
        if lexical is not None:
            data.config.queue.lexical = lexical
        feats = sim.compute_features(data, progress=False)
        batch, rounds = RUNS[name]
        rounds = rounds_override or rounds
        key = (name if rounds == RUNS[name][1] else f"{name}, {rounds} rounds")  # a longer run: its own table
        key += f", {len(seeds)} seeds" if len(seeds) != 2 and not seeds[0] else ""  # so are more seeds
        key += f", seeds {seeds[0]}-{seeds[-1]}" if seeds[0] else ""  # and seeds past the first ones
        key += f", lexical {lexical:g} from {LEXICAL_FROM:g}" if lexical is not None else ""
        base = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
        every = variants(base)
        chosen = {k: every[k] for k in only if k in every} if only else every  # in the order asked
        t = time.time()
        for label, policy in chosen.items():  # one variant at a time, saved as it ends: a killed run keeps the rest
            report = sim.simulate(data, [policy], seeds, rounds, None, progress=False, feats=feats, log=print)
            entry = {"pool": report["pool"], "eval": report["eval"], "labels": len(report["labels"]),
                     "reference": report["reference"], "zero_shot": report["zero_shot"], "batch": batch,
                     "rounds": rounds, "seeds": seeds, "base_policy": base.name}
            row = summarize(report["variants"][0], report)

            def add(saved, key=key, label=label, row=row, entry=entry):  # another run may have added to the file
                saved.setdefault(key, {"variants": {}})["variants"][label] = row
                saved[key].update(entry)
            out = update_json(OUT, add, indent=1)
        print(f"{name}: {time.time() - t:.0f} s", flush=True)
    return out


def cut_study(datasets: list[str], sizes: list[int]) -> dict:
    """Head and cut on uniform random samples (no queue): the class-balanced head at one 0.5 cut, with each
    label's own F1-optimal cut, and with the micro-F1 cut per label (``label_cuts``, the default), plus an
    unweighted head at 0.5; trained on ``n`` random pool rows (seed 0) or the whole pool, scored on the eval split."""
    from labeler.loop.engine import label_cuts
    from labeler.simulate.driver import score_metrics
    from training.head import LinearModel
    from training.thresholds import fit_thresholds

    saved = json.loads(OUT.read_text()) if OUT.exists() else {}
    study = saved.setdefault("_cuts", {})
    for name in datasets:
        data = sim.dataset_data(name)
        feats = sim.compute_features(data, progress=False)
        k = len(data.labels)
        for n in sizes:
            rows = np.arange(len(data.ids)) if n >= len(data.ids) else \
                np.sort(np.random.default_rng(0).choice(len(data.ids), size=n, replace=False))
            X, Y = feats.X[rows], data.y[rows]
            out = {}
            for balanced in (True, False):
                P = LinearModel(k, True, 10.0, 0, balanced=balanced).fit(X, Y).predict_proba(feats.X_eval)
                out["balanced, 0.5" if balanced else "unweighted, 0.5"] = score_metrics(P, data.eval_y, data, 0.5)
                if balanced:
                    policy = Policy(thresholds=FITTED, weak=WeakLabels(0.0))
                    none = np.ones(len(data.ids), dtype=bool)
                    micro = label_cuts(feats.X, rows, Y, feats.P0, none, policy, 0.5)
                    out["balanced, micro-F1 cuts (default)"] = score_metrics(P, data.eval_y, data, micro)
                    oof = _oof(X, Y, k)
                    out["balanced, own-F1 cuts"] = score_metrics(P, data.eval_y, data, fit_thresholds(oof, Y))
            study[f"{name} n={min(n, len(data.ids))}"] = out
            print(name, min(n, len(data.ids)), {m: round(v["micro_f1"], 3) for m, v in out.items()}, flush=True)
        update_json(OUT, lambda fresh: fresh.update(_cuts={**fresh.get("_cuts", {}), **study}), indent=1)
    return study


def cardinality(datasets: list[str], seeds: list[int]) -> dict:
    """Is the queue's cut biased towards more labels? Along ``default``'s and ``random``'s own rounds
    (``labeler.simulate.driver.each_round``), per budget and mean over seeds: labels predicted per eval text at the
    queue model's cuts, labels per human training row, the share of eval texts with none predicted, the mean cut,
    exact match and micro-F1. Saved under ``_cardinality``."""
    from labeler.simulate.driver import each_round, score_metrics

    study = {}
    for name in datasets:
        data = sim.dataset_data(name)
        feats = sim.compute_features(data, progress=False)
        batch, rounds = RUNS[name]
        every = variants(dataclasses.replace(Policy.from_config(data.config), batch_size=batch))
        rows: dict = {}
        for label in ("default", "random"):
            for seed in seeds:
                for s in each_round(data, feats, dataclasses.replace(every[label], seed=seed), rounds):
                    P, cuts = s.model.predict_proba(feats.X_eval), s.model.thresholds
                    pred, m = P >= cuts, score_metrics(P, data.eval_y, data, cuts)
                    rows.setdefault(label, {}).setdefault(int(s.labeled.sum()), []).append(
                        [pred.sum(1).mean(), data.y[s.train].sum(1).mean(), (pred.sum(1) == 0).mean(), np.mean(cuts),
                         m["accuracy"], m["micro_f1"]])
        cols = ("predicted", "train_rows", "none_predicted", "mean_cut", "accuracy", "micro_f1")
        study[name] = {"eval_cardinality": float(data.eval_y.sum(1).mean()), "seeds": seeds,
                       **{label: {n: dict(zip(cols, np.mean(v, axis=0).round(4).tolist())) for n, v in by_n.items()}
                          for label, by_n in rows.items()}}
        print(f"{name}: eval cardinality {study[name]['eval_cardinality']:.2f} (default / random)", flush=True)
        for n in sorted(rows["default"]):
            d, r = study[name]["default"][n], study[name]["random"][n]
            print(f"  {n:5d} labels: predicted {d['predicted']:.2f} / {r['predicted']:.2f}, training rows "
                  f"{d['train_rows']:.2f} / {r['train_rows']:.2f}, mean cut {d['mean_cut']:.3f} / {r['mean_cut']:.3f}, "
                  f"exact match {d['accuracy']:.3f} / {r['accuracy']:.3f}", flush=True)
        update_json(OUT, lambda fresh, name=name: fresh.update(
            _cardinality={**fresh.get("_cardinality", {}), name: study[name]}), indent=1)
    return study


def _oof(X: np.ndarray, Y: np.ndarray, k: int, folds: int = 3) -> np.ndarray:
    from training.head import LinearModel

    oof, fold = np.zeros(Y.shape), np.arange(len(X)) % folds
    for f in range(folds):
        oof[fold == f] = LinearModel(k, True, 10.0, 0).fit(X[fold != f], Y[fold != f]).predict_proba(X[fold == f])
    return oof


def summarize(v: dict, report: dict) -> dict:
    s = v["summary"]
    row = {"policy": v["name"], "seeds": s["seeds"], "n_labels": s["n_labels"]}
    for m in ("micro_f1", "accuracy", "macro_f1", "ships_micro_f1", "ships_accuracy"):
        if m in s:
            row[m] = {k: s[m].get(k) for k in ("mean", "auc", "final", "labels_to_95", "target_95")}
    keys = ("clicks", "clicks_without_none", "clicks_fewest", "clicks_empty", "clicks_half", "suggested",
            "suggested_none", "none_right")
    row["clicks"] = {key: curve_mean(v, key) for key in keys}
    row["per_round_clicks"] = [[p.get("clicks"), p.get("clicks_empty")] for p in v["runs"][0]["curve"]]
    return row


def gaps(row: dict, rand: dict, metric: str) -> tuple[float, int]:
    a, b = np.array(row[metric]["mean"]), np.array(rand[metric]["mean"])
    n = min(len(a), len(b))
    d = a[:n] - b[:n]
    i = int(np.argmin(d))
    return float(d[i]), int(row["n_labels"][i])


def baseline(label: str, rows: dict) -> dict | None:
    """The random curve a variant is compared with: random cut the same way for a cuts variant
    (``default, <cuts>`` against ``random, <cuts>``), else plain ``random``."""
    cuts = label.split(", ", 1)[1] if label.startswith("default, ") else None
    return rows.get(f"random, {cuts}") if cuts in CUTS and f"random, {cuts}" in rows else rows.get("random")


def markdown(out: dict) -> str:
    lines = []
    study = out.pop("_cuts", {})
    out.pop("_cardinality", None)
    if study:
        lines += ["Head and cut on random samples (micro-F1 / exact match on the eval split):", "",
                  "| data set, rows | " + " | ".join(next(iter(study.values()))) + " |",
                  "|---|" + "---|" * len(next(iter(study.values())))]
        for key, row in study.items():
            lines.append(f"| {key} | " + " | ".join(f"{m['micro_f1']:.3f} / {m['accuracy']:.3f}" for m in row.values())
                         + " |")
        lines.append("")
    for name, entry in out.items():
        ref = entry["reference"]
        lines.append(f"**{name}** (pool {entry['pool']}, eval {entry['eval']}, {entry['labels']} labels; batches of "
                     f"{entry['batch']} x {entry['rounds']} rounds; seeds {entry['seeds']}; whole-pool {ref['model']}: "
                     f"micro-F1 {ref['micro_f1']:.3f}, exact match {ref['accuracy']:.3f}, macro-F1 {ref['macro_f1']:.3f})")
        lines.append("")
        lines.append("| variant | micro-F1 L95 | ratio to random | micro-F1 AUC | worst vs random (labels) | exact-match AUC "
                     "| exact match worst vs random (labels) | ships: micro-F1 L95 | ratio to random's ships "
                     "| ships micro-F1 AUC | ships micro-F1 worst vs random's ships | ships exact match worst vs random's "
                     "ships | clicks: suggestion / empty form / old 0.5 rule |")
        lines.append("|---" * 13 + "|")
        for label, row in entry["variants"].items():
            rand = baseline(label, entry["variants"])
            last = row["n_labels"][-1]
            c = row["clicks"]
            ctext = (f"{c['clicks']:.2f} / {c['clicks_empty']:.2f} / {c['clicks_half']:.2f}"
                     if c.get("clicks") is not None else "-")
            if c.get("suggested_none") and c.get("none_right") is not None:  # how often a pre-selected None is right
                ctext += f" (None pre-selected {c['suggested_none']:.0%}, right {c['none_right'] / c['suggested_none']:.0%})"
            cells = [label]
            for prefix in ("", "ships_"):
                m = prefix + "micro_f1"
                if m not in row:
                    cells += ["-"] * (6 if not prefix else 5)
                    continue
                l95 = row[m]["labels_to_95"]
                rl95 = (rand or {}).get(m, {}).get("labels_to_95")
                cells += [str(l95) if l95 else f"> {last}", f"{l95 / rl95:.2f}" if l95 and rl95 else "-",
                          f"{row[m]['auc']:.3f}"]
                g1 = gaps(row, rand, m) if rand and row is not rand and m in rand else None
                g2 = gaps(row, rand, prefix + "accuracy") if rand and row is not rand and m in rand else None
                fmt = lambda g: f"{g[0]:+.3f} ({g[1]})" if g else "-"  # noqa: E731
                cells += [fmt(g1)] + ([f"{row['accuracy']['auc']:.3f}"] if not prefix else []) + [fmt(g2)]
            lines.append("| " + " | ".join(cells + [ctext]) + " |")
        lines.append("")
    return "\n".join(lines)


def targets(out: dict) -> str:
    """The default against random on the longest run of each data set: the queue model and what ships."""
    lines = ["| data set (longest run) | micro-F1 L95 default / random (ratio) | micro-F1 worst vs random "
             "| exact match worst vs random | ships: micro-F1 L95 default / random (ratio) | ships: micro-F1 worst "
             "vs random's ships | ships: exact match worst vs random's ships |", "|---" * 7 + "|"]
    for name in RUNS:
        keys = [k for k in out if k.split(",")[0] == name and "default" in out[k]["variants"]
                and "random" in out[k]["variants"]]
        if not keys:
            continue
        key = max(keys, key=lambda k: out[k]["rounds"])
        d, r = out[key]["variants"]["default"], out[key]["variants"]["random"]
        cells = [f"{name} ({out[key]['rounds']} x {out[key]['batch']}, seeds {len(d['seeds'])})"]
        for prefix in ("", "ships_"):
            if prefix + "micro_f1" not in d or prefix + "micro_f1" not in r:
                cells += ["-"] * 3
                continue
            a, b = d[prefix + "micro_f1"]["labels_to_95"], r[prefix + "micro_f1"]["labels_to_95"]
            last = d["n_labels"][-1]
            cells.append(f"{a or f'> {last}'} / {b or f'> {last}'}" + (f" ({a / b:.2f})" if a and b else ""))
            for m in ("micro_f1", "accuracy"):
                g = gaps(d, r, prefix + m)
                cells.append(f"{g[0]:+.3f} ({g[1]})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cuts_table(out: dict) -> str:
    """Where the cuts are fitted (``CUTS``), 4-seed runs: each default against random cut the same way, both
    models (queue model and what ships), AUC default / random and the worst gap to random's mean curve."""
    lines = ["| data set | cuts fitted on | micro-F1 AUC default / random | micro-F1 worst | exact-match AUC default / "
             "random | exact match worst | ships micro-F1 AUC default / random | ships micro-F1 worst | ships exact "
             "match worst |", "|---" * 9 + "|"]
    for key, entry in out.items():
        if key != f"{key.split(',')[0]}, 4 seeds" or key.split(",")[0] not in RUNS:  # the standard rounds
            continue
        rows = entry["variants"]
        for label in ["cuts 3 folds (today)"] + list(CUTS):
            d, r = (rows.get("default"), rows.get("random")) if label not in CUTS else \
                (rows.get(f"default, {label}"), rows.get(f"random, {label}"))
            if not d or not r:
                continue
            cells = [key.split(",")[0], label] + metric_cells(d, r, "{:.3f} / {:.3f}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def metric_cells(d: dict, r: dict, auc_format: str) -> list[str]:
    """Per metric (micro-F1, exact match, what ships' micro-F1 and exact match): the AUCs of ``d`` and random ``r``
    (``auc_format``; not for what ships' exact match) and ``d``'s worst gap to random's mean curve (labels)."""
    cells = []
    for m in ("micro_f1", "accuracy", "ships_micro_f1", "ships_accuracy"):
        if m != "ships_accuracy":
            cells.append(auc_format.format(d[m]["auc"], r[m]["auc"]))
        g = gaps(d, r, m)
        cells.append(f"{g[0]:+.3f} ({g[1]})")
    return cells


WARMUP = ["default", "default, warm-up 1 per label", "default, warm-up 2 per label", "default, warm-up 4 per label",
          "default, prior shift", "default, prior shift 50", "default, warm-up 2 per label, prior shift 50",
          "default, cut shrink 10", "default, cut shrink 20", "default, cut shrink down 20",
          "default, k-means warm-up 3 per label"]


def warmup_table(out: dict) -> str:
    """The warm-up and prior-shift variants (4-seed standard runs) against plain ``random``: AUC and the worst gap
    to random's mean curve, both models, and labels to 95% of the whole-pool reference (queue model)."""
    lines = ["| data set | variant | micro-F1 L95 variant / random | micro-F1 AUC (random) | micro-F1 worst | exact-match AUC "
             "(random) | exact match worst | ships micro-F1 AUC (random) | ships micro-F1 worst | ships exact match "
             "worst |", "|---" * 10 + "|"]
    for key, entry in out.items():
        name, _, seeds = key.partition(", ")
        if name not in RUNS or not seeds.endswith(" seeds") or " " in seeds[:-6] or "random" not in entry["variants"]:
            continue  # the standard rounds with more seeds: "<set>, 4 seeds", "<set>, 8 seeds"
        r = entry["variants"]["random"]
        for label in (v for v in WARMUP if v in entry["variants"]):
            d, last = entry["variants"][label], entry["variants"][label]["n_labels"][-1]
            l95 = [x["micro_f1"]["labels_to_95"] for x in (d, r)]
            cells = [key if seeds != "4 seeds" else name, label, " / ".join(str(x) if x else f"> {last}" for x in l95)]
            lines.append("| " + " | ".join(cells + metric_cells(d, r, "{:.3f} ({:.3f})")) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="nlupp_banking,nlupp_hotels,goemotions")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 (their own "
                    "entry: 'seeds 4-7'), to add seeds to an earlier run's")
    ap.add_argument("--variants", default=None, help="variant names separated by | (default: all)")
    ap.add_argument("--rounds", type=int, default=None, help="override the rounds per data set (a separate table)")
    ap.add_argument("--cuts", default=None, help="run the head/cut study on random samples of these sizes "
                    "(comma-separated; a size over the pool = the whole pool) and stop")
    ap.add_argument("--cardinality", action="store_true", help="labels predicted per eval text, default vs random, "
                    "at every budget (is the queue's cut biased?) and stop")
    ap.add_argument("--lexical", type=float, default=None, help="queue.lexical for every variant and the reference "
                    "(the fast model's words beside its embeddings; a table of its own)")
    ap.add_argument("--markdown", action="store_true", help="print the tables from the saved JSON and stop")
    args = ap.parse_args()
    if args.markdown:
        out = json.loads(OUT.read_text())
        print(markdown(dict(out)) + "\n" + targets(out) + "\n\n" + cuts_table(out) + "\n\n" + warmup_table(out))
        return
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    if args.cardinality:
        cardinality(datasets, list(range(args.first_seed, args.first_seed + args.seeds)))
        return
    if args.cuts:
        cut_study(datasets, [int(x) for x in args.cuts.split(",")])
        return
    only = [v.strip() for v in args.variants.split("|")] if args.variants else None
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    out = run(datasets, seeds, only, args.rounds, args.lexical)
    print(markdown(out))


if __name__ == "__main__":
    main()
