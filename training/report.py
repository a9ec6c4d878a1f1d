"""Write a ``CompareResult`` as Markdown, JSON, CSV and PNG plots (matplotlib, Agg backend).

The report always arrives: ``report.md`` and ``report.json`` are written first, then ``per_class.csv`` and
``confusion*.csv``, then the plots. Each CSV and plot is attempted on its own; one that fails becomes one
line in the returned ``paths["warnings"]`` (and in the report's "Warnings" section), never an exception.

It stays readable at 150 classes: the Markdown shows the worst and best classes by F1 (every class is in
``per_class.csv`` and the JSON), the top confusions (the full matrix is in ``confusion.csv``), and the
confusion plot draws at most ``training.report_plots.MAX_CONFUSION_CLASSES`` classes (the most-confused ones above that).
Multi-label reports lead with micro-F1, macro-F1 and exact match, count the gold records with no label, and
list each system's per-label cuts (``CompareResult.thresholds``): every cut at up to ``2 * CLASSES_EACH``
labels, a range and median above that (every cut in ``per_class.csv`` and the JSON), and the cut beside each
class in the per-class tables.
Intervals are drawn as lines from ``lo`` to ``hi`` next to the point estimate, which a percentile interval
need not contain.
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

from training.compare import CompareResult
from training.evaluate import interval_name, interval_note, metric_name, top_confusions
from training.report_plots import (excludes_estimate, plot_confusion,
                                   plot_diffs, plot_learning_curve, plot_metrics)

CLASSES_EACH = 10  # worst and best classes shown in the Markdown
N_CONFUSIONS = 10  # top confusions listed in the Markdown


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "system"


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def _clean(o):
    """NaN is not JSON: write null."""
    if isinstance(o, float) and math.isnan(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_clean(v) for v in o]
    return o


def ranking_system(result: CompareResult) -> str | None:
    """The system classes are ranked by: the primary, else the first one with per-class metrics."""
    order = [result.primary] + [n for n in result.systems if n != result.primary]
    return next((n for n in order if n in result.systems and result.systems[n].metrics.get("per_class")), None)


def rank_classes(result: CompareResult, n_each: int = CLASSES_EACH) -> tuple[list[str], list[str], int]:
    """``(worst, best, n_more)`` by the ranking system's F1. Classes with neither gold labels nor
    predictions are not ranked. Up to ``2 * n_each`` ranked classes: all are "worst" (lowest F1 first),
    ``best`` is empty. Ties: more support first, then label order."""
    name = ranking_system(result)
    if name is None:
        return [], [], 0
    pc = result.systems[name].metrics["per_class"]
    pos = {lab: i for i, lab in enumerate(result.labels)}
    ranked = [lab for lab in result.labels if pc.get(lab) and (pc[lab]["support"] or pc[lab].get("predicted", 1))]
    worst = sorted(ranked, key=lambda lab: (pc[lab]["f1"], -pc[lab]["support"], pos[lab]))
    if len(ranked) <= 2 * n_each:
        return worst, [], 0
    best = sorted(ranked, key=lambda lab: (-pc[lab]["f1"], -pc[lab]["support"], pos[lab]))[:n_each]
    return worst[:n_each], best, len(ranked) - 2 * n_each


def _class_table(result: CompareResult, ranked_by: str, labs: list[str]) -> list[str]:
    others = [n for n in result.systems if n != ranked_by]
    cuts, pos = result.cuts(ranked_by), {lab: i for i, lab in enumerate(result.labels)}
    cut_head, cut_rule = (" cut |", "---:|") if cuts is not None else ("", "")
    head = f"| label | support | {ranked_by} P | R | F1 |{cut_head}" + "".join(f" {o} F1 |" for o in others)
    lines = [head, f"|---|---:|---:|---:|---:|{cut_rule}" + "---:|" * len(others)]
    for lab in labs:
        pc = result.systems[ranked_by].metrics["per_class"][lab]
        cells = [f"{pc['precision']:.2f}", f"{pc['recall']:.2f}", f"{pc['f1']:.2f}"]
        if cuts is not None:
            cells.append(f"{cuts[pos[lab]]:.2f}")
        for o in others:
            opc = result.systems[o].metrics.get("per_class", {}).get(lab)
            cells.append(f"{opc['f1']:.2f}" if opc else "–")
        lines.append(f"| {lab} | {pc['support']} | " + " | ".join(cells) + " |")
    return lines


def _per_class_md(result: CompareResult, n_each: int) -> list[str]:
    name = ranking_system(result)
    if name is None:
        return ["", "## Per class", "", "No system covered a gold label."]
    worst, best, more = rank_classes(result, n_each)
    n_unranked = len(result.labels) - len(worst) - len(best) - more
    lines = ["", f"## Per class (by {name}'s F1; every class in per_class.csv)", ""]
    if best:
        lines += [f"Worst {len(worst)}:", ""] + _class_table(result, name, worst)
        lines += ["", f"Best {len(best)}:", ""] + _class_table(result, name, best)
        lines += ["", f"and {more} more (all classes in per_class.csv)"]
    else:
        lines += _class_table(result, name, worst)
    if n_unranked:
        lines += ["", f"{n_unranked} classes have no gold label and were never predicted; not ranked."]
    return lines


def _thresholds_md(result: CompareResult, n_each: int) -> list[str]:
    """Multi-label: where each system's cuts came from, and the cuts (all of them at few labels)."""
    if not result.multi_label or not result.thresholds:
        return []
    lines = ["", "## Per-label thresholds (a label is predicted where its probability reaches its cut)", "",
             "| system | cuts | from |", "|---|---|---|"]
    for name, t in result.thresholds.items():
        v = np.asarray(t["values"], dtype=float)
        span = f"{v[0]:.2f} for every label" if len(v) and np.ptp(v) == 0 else \
            f"{v.min():.2f}..{v.max():.2f}, median {np.median(v):.2f}" if len(v) else "none"
        lines.append(f"| {name} | {span} | {t['note']} |")
    if len(result.labels) <= 2 * n_each:
        names = list(result.thresholds)
        lines += ["", "| label | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for i, lab in enumerate(result.labels):
            lines.append(f"| {lab} | " + " | ".join(f"{result.thresholds[n]['values'][i]:.2f}" for n in names) + " |")
    else:
        lines += ["", f"Every label's cut for each system is in per_class.csv and report.json ({len(result.labels)} labels)."]
    return lines


def _confusions_md(result: CompareResult, n: int) -> list[str]:
    s = result.systems.get(result.primary)
    if result.multi_label or s is None or not s.metrics.get("confusion"):
        return []
    C = np.asarray(s.metrics["confusion"])
    support = dict(zip(result.labels, C.sum(1).tolist()))
    top = top_confusions(C, result.labels, n)
    lines = ["", f"## Top confusions ({result.primary}; full matrix in confusion.csv, rows = gold)", ""]
    lines += [f"- {t} -> {p}: {c} of {support[t]} gold {t}" for t, p, c in top] or ["No confusions: every covered gold label was predicted right."]
    return lines


def to_markdown(result: CompareResult, images: dict[str, str] | None = None, gold_note: str | None = None,
                warnings: list[str] | None = None, n_each: int = CLASSES_EACH, notes: list[str] | None = None) -> str:
    metrics = result.shown_metrics()
    estimator = interval_note(result.n_resamples, result.seed, result.multi_label)
    empty = f" ({result.n_empty} of them with no label: \"none of these\")" if result.multi_label else ""
    lines = ["# Comparison on gold labels", "", f"gold: {gold_note or f'{result.n} labels'}; {estimator}", "",
             f"**{result.verdict}**", ""] + ([f"Verdict rule: {result.rule}.", ""] if result.rule else []) + [
             f"{result.n} gold labels{empty}, {len(result.labels)} label{'s' * (len(result.labels) != 1)} ({'multi' if result.multi_label else 'single'}-label); "
             "abstaining rows are left out of a system's metrics and counted in its coverage.", "",
             "| system | kind | coverage | " + " | ".join(metric_name(m, result.multi_label) for m in metrics) + " | ECE |",
             "|---|---|---:|" + "---:|" * (len(metrics) + 1)]
    outside = False
    for s in result.systems.values():
        cells = []
        for m in metrics:
            c, mark = s.ci[m], "†" if excludes_estimate(s.ci[m]) else ""
            outside |= bool(mark)
            cells.append(f"{c['value']:.3f}{mark} ({c['lo']:.3f}–{c['hi']:.3f})")
        lines.append(f"| {s.name} | {s.kind} | {s.metrics['coverage']:.2f} | " + " | ".join(cells) + f" | {s.metrics.get('ece', float('nan')):.3f} |")
    lines += [""] + [f"- {n}" for n in notes] if notes else []
    if result.diffs:
        title = (f"## {result.primary} against each system ({interval_name(result.metric, paired=True)}, "
                 f"{metric_name(result.metric, result.multi_label)})")
        if not result.enough_gold:
            title += f": for information only, fewer than {result.min_gold} gold labels"
        lines += ["", title, "", "| other | difference | 95% CI | p (diff ≤ 0) | rows |", "|---|---:|---|---:|---:|"]
        for other, d in result.diffs.items():
            mark = "†" if excludes_estimate(d, "diff") else ""
            outside |= bool(mark)
            lines.append(f"| {other} | {d['diff']:+.3f}{mark} | {d['lo']:+.3f}..{d['hi']:+.3f} | {d['p_value']:.3f} | {d['n']} |")
        lines += [""] + [f"- {v}" for v in result.verdicts.values()]
    if outside:
        lines += ["", "† the estimate lies outside its percentile interval: the bootstrap distribution is skewed "
                  "(typical of macro-F1 with few gold labels per class); read the interval with care."]
    lines += _thresholds_md(result, n_each) + _per_class_md(result, n_each) + _confusions_md(result, N_CONFUSIONS)
    if images:
        lines += ["", "## Plots", ""] + [f"![{k}]({v})" for k, v in images.items()]
    if warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings]
    return "\n".join(lines) + "\n"


_NUM = r"(?:-?\d[\d.eE+-]*|null|true|false)"
_NUMBER_LIST = re.compile(rf"\[\n\s*({_NUM}(?:,\n\s*{_NUM})*)\n\s*\]")


def to_json(result: CompareResult, history: list[dict] | None, gold_note: str | None, warnings: list[str],
            notes: list[str] | None = None) -> str:
    data = _clean(json.loads(json.dumps(result.to_dict(), default=_json_default)))
    data.update(gold_note=gold_note, history=history or [], warnings=list(warnings), notes=list(notes or []))
    text = json.dumps(data, indent=2, default=_json_default)
    # a list of numbers on one line (a 150-class confusion matrix is 150 lines, not 22,650); strings hold no
    # raw newline, so only lists json.dumps broke over lines can match
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(re.split(r",\n\s*", m.group(1))) + "]", text)


def write_per_class_csv(result: CompareResult, path: Path) -> Path:
    """One row per class: label, then support / predicted / precision / recall / F1 for each system (and,
    multi-label, the cut it was predicted at)."""
    names = list(result.systems)
    cols = ("support", "predicted", "precision", "recall", "f1") + (("threshold",) if result.multi_label else ())
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label"] + [f"{n}:{c}" for n in names for c in cols])
        for i, lab in enumerate(result.labels):
            row = [lab]
            for n in names:
                pc = dict(result.systems[n].metrics.get("per_class", {}).get(lab, {}))
                cuts = result.cuts(n)
                if cuts is not None:
                    pc["threshold"] = round(float(cuts[i]), 6)
                row += [pc.get(c, "") for c in cols]
            w.writerow(row)
    return path


def write_confusion_csv(matrix, labels: list[str], path: Path) -> Path:
    """The full single-label confusion matrix: rows = gold, columns = predicted."""
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["gold \\ predicted"] + list(labels))
        for lab, row in zip(labels, matrix):
            w.writerow([lab] + [int(v) for v in row])
    return path


# --- the report -------------------------------------------------------------------------------------------

def _attempt(what: str, fn: Callable[[], Path | None], warnings: list[str]) -> Path | None:
    """Run one optional step; a failure becomes one warning line."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - any failure of an optional output is a warning, by design
        msg = (str(e).strip().splitlines() or [""])[0][:200]
        warnings.append(f"{what} not written: {type(e).__name__}: {msg}".rstrip(": "))
        return None


def write_report(
    result: CompareResult,
    out_dir: str | Path,
    history: list[dict] | None = None,
    print_table: bool = False,
    gold_note: str | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """Write the report into ``out_dir``; return the paths by name, plus ``"warnings"`` (a list of lines).

    Always: ``report.md`` and ``report.json`` (written first, rewritten at the end with the plots and any
    warnings). Then, each attempted on its own: ``per_class.csv``; single-label ``confusion.csv`` (primary)
    and ``confusion_<system>.csv`` (the others); ``metrics.png``, ``diffs.png``, ``confusion_<system>.png``,
    ``learning_curve.png`` (when ``history`` has points). ``gold_note`` describes the gold labels in the
    header (e.g. "316 human labels on records drawn uniformly at random from the pool"); ``notes``: lines under the
    systems table (how a row was made, what was left out and why).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    paths: dict[str, Any] = {"markdown": out / "report.md", "json": out / "report.json"}

    def write_text(images: dict[str, str]) -> None:
        paths["markdown"].write_text(to_markdown(result, images, gold_note, warnings, notes=notes))
        paths["json"].write_text(to_json(result, history, gold_note, warnings, notes))

    write_text({})
    steps: list[tuple[str, str, Callable[[], Path | None]]] = [
        ("per_class_csv", "per_class.csv", lambda: write_per_class_csv(result, out / "per_class.csv"))]
    if not result.multi_label:
        for name, s in result.systems.items():
            if s.metrics.get("confusion"):
                fname = "confusion.csv" if name == result.primary else f"confusion_{_safe(name)}.csv"
                steps.append((f"confusion_csv_{name}", fname,
                              lambda s=s, fname=fname: write_confusion_csv(s.metrics["confusion"], result.labels, out / fname)))
    steps += [("metrics_png", "metrics.png", lambda: plot_metrics(result, out / "metrics.png")),
              ("diffs_png", "diffs.png", lambda: plot_diffs(result, out / "diffs.png"))]
    if not result.multi_label:
        for name, s in result.systems.items():
            if s.metrics.get("confusion"):
                steps.append((f"confusion_{name}", f"confusion_{_safe(name)}.png",
                              lambda name=name, s=s: plot_confusion(s.metrics["confusion"], result.labels, name, out / f"confusion_{_safe(name)}.png")))
    if history:
        steps.append(("learning_curve_png", "learning_curve.png", lambda: plot_learning_curve(history, result.metric, out / "learning_curve.png")))
    for key, fname, fn in steps:
        p = _attempt(fname, fn, warnings)
        if p is not None:
            paths[key] = p
    images = {k: p.name for k, p in paths.items() if isinstance(p, Path) and p.suffix == ".png"}
    _attempt("report.md and report.json (final)", lambda: write_text(images), warnings)
    paths["warnings"] = warnings
    if print_table:
        print(result.table())
    return paths
