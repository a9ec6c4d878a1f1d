"""Learning curves with an oracle annotator: how many human labels does a policy need?

Take a fully labeled data set, hide the labels, and run the loop that ``labeler round`` runs — the same
``labeler.loop.engine`` steps under the same ``Policy`` — with an oracle answering exactly the records asked
(``driver.run_curve``), or with the product's own commands through the local Argilla server
(``driver.run_curve_via_argilla``). After each round the queue model is scored on a fixed held-out split
that is never queried.

Modules: ``data`` (the labeled pool and eval split, features computed once), ``datasets`` and
``descriptions`` (the shared benchmark data sets), ``driver`` (the two drivers, metrics), ``run``
(variants x seeds, the reference), ``report`` (AUC, labels-to-95%, tables, CSV/JSON/PNG).
"""

from labeler.simulate.data import Features, SimData, compute_features, config_data, dataset_data, subsample
from labeler.simulate.driver import Curve, Oracle, primary_metric, run_curve, run_curve_via_argilla, score_metrics
from labeler.simulate.report import FRACTION_95, RANDOM, auc, format_table, labels_to_target, shown_name, summarize
from labeler.simulate.run import deterministic, reference, simulate, variants_from

__all__ = ["Features", "SimData", "compute_features", "config_data", "dataset_data", "subsample", "Curve", "Oracle",
           "primary_metric", "run_curve", "run_curve_via_argilla", "score_metrics", "FRACTION_95", "RANDOM", "auc",
           "format_table", "labels_to_target", "shown_name", "summarize", "deterministic", "reference", "simulate",
           "variants_from"]
