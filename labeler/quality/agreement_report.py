"""Write a ``QualityReport`` as Markdown, JSON and a PNG, readable at 2 annotators and at 50.

The Markdown lists the worst annotator pairs (Cohen's kappa, only pairs sharing ``min_shared`` records or
more), the annotators with the lowest agreement with the consensus first, and the top confusions; every
pair and annotator is in the JSON. The plot is attempted last; a plot that fails is a warning, not an error.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from labeler.quality.agreement import QualityReport

PAIRS_SHOWN = 15
ANNOTATORS_SHOWN = 25
CONFUSIONS_SHOWN = 10


def _pct(cell) -> str:
    if not cell or not cell[1]:
        return "-"
    hit, n = cell
    return f"{hit / n:.0%} ({hit}/{n})"


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _more(n: int, what: str) -> list[str]:
    return [f"", f"... and {n} more {what} (all in quality.json)"] if n > 0 else []


def markdown(report: QualityReport) -> str:
    kind = "multi-label" if report.multi_label else "single-label"
    lines = ["# Label quality", "", report.line(), "",
             f"- {report.answers} submitted answers on {report.records} records by {len(report.annotators)} "
             f"annotator{'s' * (len(report.annotators) != 1)}; "
             f"{report.overlapped} records have 2+ answers (argilla.min_submitted: {report.min_submitted})",
             f"- Krippendorff's alpha (nominal): {_num(report.alpha)}; Fleiss' kappa: {_num(report.fleiss)} "
             f"({kind}, {report.labels} labels, over the records with 2+ answers)"]
    if report.multi_label:
        lines.append("- multi-label: alpha and both kappas are per-label binary (chosen or not) statistics averaged "
                     "over the labels where they are defined; agreement with the consensus and the model is an exact "
                     "match of the label set")
        lines.append(f"- \"None of these\" (the empty label set): {report.none} answers"
                     + (f"; {report.none_with_labels} answers chose it together with labels (contradictions: left "
                        "out here, conflicts in `labeler pull`)" if report.none_with_labels else "")
                     + (f"; {report.labels_over_none} answers chose labels beside a pre-selected \"None of these\" "
                        "(read as those labels, as `labeler pull` does)" if report.labels_over_none else "")
                     + (f"; {report.none_over_labels} answers chose it beside the pre-selected labels (read as none, "
                        "as `labeler pull` does)" if report.none_over_labels else ""))
    if report.model_note:
        lines.append(f"- {report.model_note}")
    lines += ["", "## Annotator pairs: Cohen's kappa on shared records, worst first", ""]
    listed = [p for p in report.pairs if p.shared >= report.min_shared]
    if listed:
        lines += ["| annotator | annotator | shared records | Cohen's kappa |", "|---|---|---:|---:|"]
        lines += [f"| {p.a} | {p.b} | {p.shared} | {_num(p.kappa)} |" for p in listed[:PAIRS_SHOWN]]
        lines += _more(len(listed) - PAIRS_SHOWN, "pairs")
    else:
        lines.append(f"No pair of annotators shares {report.min_shared} or more records yet.")
    fewer = len(report.pairs) - len(listed)
    if fewer:
        lines += ["", f"{fewer} pairs share 2 to {report.min_shared - 1} records and are not listed "
                      f"(`--min-shared` lowers the bar)."]
    lines += ["", "## Annotators, lowest agreement with the consensus first", "",
              "Consensus: the majority of the *other* annotators on the same record (ties skipped). Model: "
              + ("the labels the suggestion pre-selected (push's cuts)" if report.multi_label else
                 "the current ensemble's top label")
              + ". Answers per hour count gaps of at most 10 minutes between answers.", "",
              "| annotator | answers | agrees with consensus | agrees with model | answers/hour | active minutes |",
              "|---|---:|---:|---:|---:|---:|"]
    rows = sorted(report.annotators, key=lambda r: (r.consensus is None,
                                                    r.consensus[0] / r.consensus[1] if r.consensus else 0.0, r.name))
    for r in rows[:ANNOTATORS_SHOWN]:
        lines.append(f"| {r.name} | {r.answers} | {_pct(r.consensus)} | {_pct(r.model)} | {_num(r.per_hour, 0)} | "
                     f"{r.active_minutes:.0f} |")
    lines += _more(len(rows) - ANNOTATORS_SHOWN, "annotators")
    title = "Labels most often chosen by one annotator and not the other" if report.multi_label \
        else "Labels most often confused between annotators"
    lines += ["", f"## {title}", ""]
    if report.confusions:
        for a, b, n in report.confusions[:CONFUSIONS_SHOWN]:
            lines.append(f"- {a}: {n} answer pairs" if report.multi_label else f"- {a} <-> {b}: {n} answer pairs")
        lines += _more(len(report.confusions) - CONFUSIONS_SHOWN, "label pairs" if not report.multi_label else "labels")
    else:
        lines.append("No disagreement between annotators on shared records.")
    return "\n".join(lines) + "\n"


def plot(report: QualityReport, path: Path) -> None:
    """Per-annotator agreement (consensus, model) as bars, and the pairs' Cohen's kappa as a histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(report.annotators, key=lambda r: (r.consensus[0] / r.consensus[1]) if r.consensus else 2.0)
    rows = rows[:ANNOTATORS_SHOWN]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, max(3.0, 0.3 * len(rows) + 1.5)))
    try:
        ys = range(len(rows))
        share = lambda cell: cell[0] / cell[1] if cell and cell[1] else 0.0  # noqa: E731
        left.barh([y - 0.2 for y in ys], [share(r.consensus) for r in rows], height=0.4, label="consensus")
        left.barh([y + 0.2 for y in ys], [share(r.model) for r in rows], height=0.4, label="model")
        left.set_yticks(list(ys), [r.name for r in rows])
        left.set_xlim(0, 1)
        left.set_xlabel("agreement")
        left.legend(loc="lower right")
        left.set_title("Annotators (lowest consensus agreement first)")
        kappas = [p.kappa for p in report.pairs if p.kappa is not None and p.shared >= report.min_shared]
        right.hist(kappas or [0.0], bins=20, range=(-1, 1), color="gray" if not kappas else None)
        right.set_xlabel("Cohen's kappa")
        right.set_title(f"{len(kappas)} pairs with {report.min_shared}+ shared records")
        fig.suptitle(report.line(), fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)


def write(report: QualityReport, reports_dir: Path) -> dict[str, Path | list[str]]:
    """``quality.md``, ``quality.json``, ``quality.png`` in a new ``quality-<time>`` folder of ``reports_dir``."""
    out = Path(reports_dir) / time.strftime("quality-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict = {"dir": out, "markdown": out / "quality.md", "json": out / "quality.json", "warnings": []}
    paths["markdown"].write_text(markdown(report))
    data = {"summary": report.line(), **report.to_dict()}
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False))
    try:
        plot(report, out / "quality.png")
        paths["png"] = out / "quality.png"
    except Exception as exc:  # noqa: BLE001 - the report is already written; a plot is optional
        paths["warnings"].append(f"plot not written: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    return paths
