"""The console lines that describe runs: one run after training (``labeler train`` / ``round``), and the
registry's table (``labeler runs``)."""

from __future__ import annotations

from training.evaluate import metric_name
from training.registry import PRUNED, fmt_metric
from training.train import interval_metrics


def describe_run(run) -> list[str]:
    """Lines for the console: the run, its data (human and weak rows), its gold metrics with 95% CIs."""
    info, metrics = run.info, run.metrics
    gold, ci = metrics.get("gold", {}), metrics.get("gold_ci", {})
    weak = f" + {info['n_weak']} weak labels (weight {info.get('weak_weight', 0):g})" if info.get("n_weak") else ""
    if info.get("final_fit"):
        lines = [f"run {run.run_id} ({run.backend}, final fit): trained on all {info.get('n_train')} human labels, "
                 f"gold and calibration included{weak} in {info.get('train_seconds', 0):.1f}s"]
        over = "every label, the random reserve's records" if run.multi_label else "the random reserve,"
        for m in interval_metrics(run.multi_label):
            c = ci.get(m, {})
            if gold.get(m) is not None and gold.get(m) == gold.get(m):
                lines.append(f"  cross-fitted {metric_name(m, run.multi_label)}: {fmt_metric(gold.get(m))} "
                             f"(95% CI {fmt_metric(c.get('lo'))}..{fmt_metric(c.get('hi'))}, "
                             f"n={info.get('n_gold')}; {info['final_fit']['folds']} folds over {over} "
                             "each scored by a model that never saw it)")
        return lines + _cuts_line(info) + _words_line(info) + _skipped_line(info)
    n_calib = info.get("n_calib", 0)
    calib = (f"{n_calib} random labels held out for calibration, too few to calibrate on"
             if info.get("calibrated") is False and n_calib else f"{n_calib} random labels for calibration")
    lines = [f"run {run.run_id} ({run.backend}): trained on {info.get('n_train')} human labels{weak} "
             f"({calib}), evaluated on {info.get('n_gold')} random gold labels in {info.get('train_seconds', 0):.1f}s"]
    for m in interval_metrics(run.multi_label):
        c = ci.get(m, {})
        if gold.get(m) is not None and gold.get(m) == gold.get(m):
            lines.append(f"  gold {metric_name(m, run.multi_label)}: {fmt_metric(gold.get(m))} "
                         f"(95% CI {fmt_metric(c.get('lo'))}..{fmt_metric(c.get('hi'))}, "
                         f"n={info.get('n_gold')})")
    return lines + _cuts_line(info) + _words_line(info) + _skipped_line(info)


def _words_line(info: dict) -> list[str]:
    """Whether the run's head reads the pool's words beside the embeddings (``queue.lexical``)."""
    words = info.get("lexical")
    return [f"  its head reads the pool's words beside the embeddings: {words['terms']:,} terms, weight "
            f"{words['weight']:g} (queue.lexical)"] if words else []


def _skipped_line(info: dict) -> list[str]:
    """The answers a run left out besides the unsubmitted ones ``pull`` already counts: labels taken out of the
    config since, answers without a label or text, older duplicates."""
    shown = {why: n for why, n in (info.get("skipped") or {}).items() if "(not submitted)" not in why}
    return ["  skipped " + ", ".join(f"{n} {why}" for why, n in sorted(shown.items()))] if shown else []


def _cuts_line(info: dict) -> list[str]:
    """Multi-label: where the run's per-label cuts (what ``labeler predict`` cuts at) came from."""
    cuts = info.get("cuts")
    if not cuts:
        return []
    values = cuts.get("values") or [0.0]
    spread = f" ({min(values):.2f}..{max(values):.2f})" if cuts.get("fitted") else ""
    one = "; at least one label per text (no training text was None of these)" if cuts.get("at_least_one") else ""
    return [f"  per-label cuts{spread}: {cuts.get('note', '')}; its metrics and `labeler predict` cut there{one}"]


def runs_table(runs: list[dict], multi_label: bool = False, labels: list[str] | None = None) -> str:
    """One line a run, oldest first, ``*`` for the current one: its gold metrics (multi-label: exact match,
    micro-F1, macro-F1) and the records they are on; a final fit's are cross-fitted over the random reserve. A run
    trained on other labels than ``labels`` (the config's, changed since) is marked."""
    keys = ("accuracy", "micro_f1", "macro_f1") if multi_label else ("accuracy", "macro_f1")
    names = ["exact_match" if k == "accuracy" and multi_label else k for k in keys]
    lines = [f"  {'run':<30} {'backend':<12} {'created':<20} {'n_train':>7} "
             + " ".join(f"{n:>11}" for n in names) + f" {'gold n':>6}"]
    for r in runs:
        mark = "*" if r.get("current") else " "
        final = "  (final fit: cross-fitted)" if r.get("final_fit") else ""
        if r.get(PRUNED):
            final += "  (model deleted)"
        if labels is not None and r.get("train_counts") and set(r["train_counts"]) != set(labels):
            final += "  (trained on other labels than the config's)"
        if r.get("multi_label") is not None and bool(r["multi_label"]) != multi_label:  # the task changed kind since
            final += "  (a multi-label run: its accuracy is exact match)" if r["multi_label"] else "  (a single-label run)"
        lines.append(f"{mark} {r['run_id']:<30} {r.get('backend', ''):<12} {r.get('created_at', ''):<20} "
                     f"{r.get('n_train', ''):>7} " + " ".join(f"{fmt_metric(r.get(k)):>11}" for k in keys)
                     + f" {r.get('n') if r.get('n') is not None else 'n/a':>6}{final}")
    return "\n".join(lines)
