"""``labeler quality`` on hand-written answers: exact alpha and kappas, consensus, model, pace, readability."""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import yaml

from labeler.config import load_config
from labeler.project import Project
from labeler.quality.agreement import build, krippendorff_alpha_nominal, pace, summary_line
from labeler.quality.agreement_report import markdown
from labeler.loop.pool_matrices import Scores

LABELS = ["billing", "shipping", "refund"]
B, S, R = LABELS
T0 = pd.Timestamp("2025-03-01 09:00", tz="UTC")

# The answers the server test (tests/argilla/test_overlap.py) gives through Argilla; ann-a answers r4 alone.
ANSWERS = {
    "r0": {"ann-a": B, "ann-b": B, "ann-c": B},
    "r1": {"ann-a": S, "ann-b": S, "ann-c": R},
    "r2": {"ann-a": B, "ann-b": R},
    "r3": {"ann-a": R, "ann-b": R},
    "r4": {"ann-a": S},
    "r6": {"ann-b": B, "ann-c": B},
}
MODEL = {"r0": B, "r1": S, "r2": B, "r3": S, "r4": S, "r5": R, "r6": R, "r7": B}


def make_config(tmp_path, multi_label=False, labels=LABELS, min_submitted=2, dataset=None):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"id": "x", "text": "hello"}) + "\n")
    raw = {"data": {"path": str(data), "id_field": "id"},
           "task": {"labels": list(labels), "multi_label": multi_label},
           "signals": [{"type": "keywords", "params": {"keywords": {labels[0]: ["hello"]}}}],
           "argilla": {"min_submitted": min_submitted, **({"dataset": dataset} if dataset else {})},
           "project": {"dir": str(tmp_path / "state")}}
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(raw))
    return load_config(path, [])


def write_responses(config, answers: dict, minutes: dict | None = None, extra: list | None = None):
    """responses.parquet as ``labeler pull`` writes it: one row per answer, the value as JSON."""
    rows = []
    for rid, ans in answers.items():
        for who, value in ans.items():
            at = T0 + pd.Timedelta(minutes=(minutes or {}).get((rid, who), 0))
            rows.append({"id": rid, "annotator": who, "status": "submitted", "value": json.dumps(value),
                         "updated_at": at.isoformat()})
    rows += extra or []
    Project(config).ensure()
    pd.DataFrame(rows, columns=["id", "annotator", "status", "value", "updated_at"]).to_parquet(Project(config).responses)


def write_scores(config, tops: dict):
    ids = sorted(tops)
    P = np.full((len(ids), len(config.label_names)), 0.1)
    for i, rid in enumerate(ids):
        P[i, config.label_names.index(tops[rid])] = 0.8
    Scores(ids=ids, P=P, agreement=np.ones(len(ids)), signals={}).save(Project(config).scores)


def test_krippendorff_alpha_textbook_example_exactly():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", nominal data: 4 observers, 12 units.
    # By hand: unit 12 has one value (not pairable), so n = 40 pairable values; n_c = 9, 13, 10, 5, 3 for the
    # values 1..5, so sum_{c != k} n_c n_k = 40^2 - (81 + 169 + 100 + 25 + 9) = 1216. Disagreements: unit 2
    # (2,3,2,2) 6 ordered pairs / 3 = 2, unit 6 (1,2,3,4) 12 / 3 = 4, unit 8 (1,1,2,1) 6 / 3 = 2: D = 8.
    # alpha = 1 - 39 * 8 / 1216 = 113/152 = 0.7434 (the paper prints 0.743).
    obs = [[1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
           [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
           [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
           [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]]
    units = [[v for v in unit if v is not None] for unit in zip(*obs)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(float(Fraction(113, 152)), abs=1e-12)
    assert krippendorff_alpha_nominal([["a", "a"], ["b", "b"]]) == pytest.approx(1.0)
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "a", "a"]]) is None  # no variation: undefined
    assert krippendorff_alpha_nominal([["a"], ["b"]]) is None  # nothing pairable


def test_quality_by_hand(tmp_path):
    config = make_config(tmp_path)
    assert summary_line(config) is None  # before the first pull
    write_responses(config, ANSWERS, extra=[
        {"id": "r5", "annotator": "ann-c", "status": "discarded", "value": "null", "updated_at": T0.isoformat()},
        {"id": "r7", "annotator": "ann-a", "status": "draft", "value": json.dumps(B), "updated_at": T0.isoformat()}])
    write_scores(config, MODEL)
    report = build(config, min_shared=2)
    # Records with 2+ answers: r0 (b,b,b) r1 (s,s,r) r2 (b,r) r3 (r,r) r6 (b,b); n = 12 values.
    # Coincidences: o_bb = 3 + 2, o_ss = 1, o_rr = 2, o_sr = o_rs = 1, o_br = o_rb = 1 -> n_b 6, n_s 2, n_r 4.
    # alpha = 1 - 11 * 4 / (2 * (6*2 + 6*4 + 2*4)) = 1 - 44/88 = 1/2.
    assert report.alpha == pytest.approx(0.5, abs=1e-12)
    # Fleiss: P_i = 1, 1/3, 0, 1, 1 -> 2/3; p = 6/12, 2/12, 4/12 -> P_e = 7/18; kappa = (2/3 - 7/18)/(11/18) = 5/11.
    assert report.fleiss == pytest.approx(5 / 11, abs=1e-12)
    # Cohen: a-c on r0, r1: p_o 1/2, p_e 1/4 -> 1/3; b-c on r0, r1, r6: 2/3 vs 4/9 -> 2/5; a-b on r0..r3:
    # 3/4 vs 5/16 -> 7/11. Worst first.
    assert [(p.a, p.b, p.shared) for p in report.pairs] == [("ann-a", "ann-c", 2), ("ann-b", "ann-c", 3),
                                                            ("ann-a", "ann-b", 4)]
    assert [p.kappa for p in report.pairs] == pytest.approx([1 / 3, 2 / 5, 7 / 11], abs=1e-12)
    rows = {r.name: r for r in report.annotators}
    # Leave-one-out majority (r1 is a tie for ann-a and ann-b, r4 has nobody else: skipped).
    assert {n: r.consensus for n, r in rows.items()} == {"ann-a": (2, 3), "ann-b": (3, 4), "ann-c": (2, 3)}
    assert {n: r.model for n, r in rows.items()} == {"ann-a": (4, 5), "ann-b": (2, 5), "ann-c": (1, 3)}
    assert {n: r.answers for n, r in rows.items()} == {"ann-a": 5, "ann-b": 5, "ann-c": 3}
    assert report.confusions == [("refund", "shipping", 2), ("billing", "refund", 1)]
    assert (report.answers, report.records, report.overlapped) == (13, 6, 5)
    line = "agreement: alpha 0.50, kappa 0.45 over 5 records with 2+ answers, 3 annotators"
    assert report.line() == line and summary_line(config) == line


def test_pace_counts_only_gaps_up_to_ten_minutes():
    t = [T0 + pd.Timedelta(seconds=s) for s in (0, 30, 90, 90 + 3600, 90 + 3600 + 60)]
    per_hour, minutes = pace(t)
    # gaps 30 s, 60 s, (1 h break), 60 s: 3 answers in 150 s = 72 per hour, 2.5 active minutes
    assert per_hour == pytest.approx(72.0) and minutes == pytest.approx(2.5)
    assert pace([T0]) == (None, 0.0)


def test_multi_label_is_per_label_binary_averaged(tmp_path):
    config = make_config(tmp_path, multi_label=True)
    answers = {"m0": {"x": [B, S], "y": [B]}, "m1": {"x": [R], "y": [R]}, "m2": {"x": [B], "y": [B, R]}}
    write_responses(config, answers)
    report = build(config, min_shared=2)
    # billing: (1,1) (0,0) (1,1): no disagreement -> alpha 1; shipping: (1,0) (0,0) (0,0): n_1 = 1, n_0 = 5,
    # D = 2, E = 2*1*5 = 10 -> 1 - 5*2/10 = 0; refund: (0,0) (1,1) (0,1): n_1 = 3, n_0 = 3, D = 2, E = 18
    # -> 1 - 10/18 = 4/9. Mean: (1 + 0 + 4/9) / 3 = 13/27.
    assert report.alpha == pytest.approx(13 / 27, abs=1e-12)
    # Exact set match with the other annotator: only m1 agrees.
    assert {r.name: r.consensus for r in report.annotators} == {"x": (1, 3), "y": (1, 3)}
    assert report.confusions == [("refund", "", 1), ("shipping", "", 1)]
    assert "per-label binary" in markdown(report)
    assert "Model: the labels the suggestion pre-selected (push's cuts). " in markdown(report)
    assert "- 6 submitted answers on 3 records by 2 annotators; " in markdown(report)


def test_multi_label_none_of_these_is_the_empty_set_and_a_contradiction_is_left_out(tmp_path):
    from labeler.argilla.schema import NONE_VALUE

    config = make_config(tmp_path, multi_label=True)
    answers = {"m0": {"x": [NONE_VALUE], "y": [NONE_VALUE]}, "m1": {"x": [NONE_VALUE], "y": [R]},
               "m2": {"x": [B], "y": [B]}, "m3": {"x": [B], "y": [NONE_VALUE, B]}}
    write_responses(config, answers)
    report = build(config, min_shared=2)
    assert (report.none, report.none_with_labels, report.answers, report.overlapped) == (3, 1, 7, 3)
    # x and y agree on m0 (both "None of these") and m2; m1 differs; m3 has one consistent answer only
    assert {r.name: r.consensus for r in report.annotators} == {"x": (2, 3), "y": (2, 3)}
    assert report.confusions == [("None of these", "", 1), ("refund", "", 1)]
    # billing: (0,0) (0,0) (1,1) -> alpha 1; shipping: never chosen -> undefined; refund: (0,0) (0,1) (0,0):
    # n_1 = 1, n_0 = 5, D = 2, E = 10 -> 0. Mean over the defined labels: 1/2.
    assert report.alpha == pytest.approx(0.5, abs=1e-12)
    text = markdown(report)
    assert '"None of these" (the empty label set): 3 answers; 1 answers chose it together with labels' in text
    # the model's "None of these": no label at or over its threshold (a number or one per label)
    Scores(ids=["m0", "m1"], P=np.array([[0.2, 0.1, 0.3], [0.6, 0.1, 0.7]]),
           agreement=np.ones(2), signals={}).save(Project(config).scores)
    from labeler.quality.agreement import model_labels

    assert model_labels(config) == {"m0": frozenset(), "m1": frozenset({B, R})}
    assert model_labels(config, np.array([0.1, 0.5, 0.9])) == {"m0": frozenset({B}), "m1": frozenset({B})}


def test_no_overlap_says_how_to_get_it(tmp_path):
    config = make_config(tmp_path, min_submitted=1)
    write_responses(config, {"r0": {"a": B}, "r1": {"b": S}})
    assert summary_line(config) == ("agreement: n/a, no record has 2+ submitted answers yet (set argilla.min_submitted: "
                                    "2 to send each record to two annotators); 2 annotators")


def test_cli_writes_a_readable_report_at_50_annotators_and_150_labels(tmp_path, capsys):
    from labeler.cli import main

    labels = [f"intent_{i:03d}" for i in range(150)]
    config = make_config(tmp_path, labels=labels)
    rng = np.random.default_rng(0)
    people = [f"ann{i:02d}" for i in range(50)]
    answers = {}
    for r in range(400):  # 3 annotators per record, mostly agreeing on one of 150 labels
        truth = labels[int(rng.integers(150))]
        answers[f"r{r}"] = {who: (truth if rng.random() < 0.8 else labels[int(rng.integers(150))])
                            for who in rng.choice(people, 3, replace=False)}
    write_responses(config, answers)
    code = 0
    try:
        main(["quality", "-c", str(tmp_path / "q.yaml"), "--min-shared", "2"])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr().out
    assert code in (0, None), out
    assert out.startswith("agreement: alpha ") and "over 400 records with 2+ answers, 50 annotators" in out
    assert "no scores yet" in out
    folder = next(Project(config).reports.glob("quality-*"))
    md = (folder / "quality.md").read_text()
    assert "more pairs (all in quality.json)" in md and "more annotators (all in quality.json)" in md
    assert len(md.splitlines()) < 90  # 1225 pairs and 50 annotators summarised, not dumped
    data = json.loads((folder / "quality.json").read_text())
    assert len(data["annotators"]) == 50 and data["overlapped"] == 400
    assert (folder / "quality.png").stat().st_size > 1000
    assert Counter(len(a) for a in answers.values()) == {3: 400}


def test_quality_before_pull_is_one_line(tmp_path, capsys):
    from labeler.cli import main

    make_config(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["quality", "-c", str(tmp_path / "q.yaml")])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.startswith("Error: no answers pulled yet") and len(err.strip().splitlines()) == 1


def test_agreement_line_counts_annotators_in_words():
    from labeler.quality.agreement import agreement_line

    assert agreement_line(None, None, 0, 1, 2) == "agreement: n/a, no record has 2+ submitted answers yet; 1 annotator"
    assert agreement_line(None, None, 0, 3, 1) == ("agreement: n/a, no record has 2+ submitted answers yet "
                                                   "(set argilla.min_submitted: 2 to send each record to two annotators); "
                                                   "3 annotators")
    assert agreement_line(0.5, 0.25, 4, 1, 2) == "agreement: alpha 0.50, kappa 0.25 over 4 records with 2+ answers, 1 annotator"


def test_multi_label_agreement_with_the_model_is_with_the_preselected_suggestion(tmp_path):
    """Multi-label, "agreement with the model" compares an answer with the labels the suggestion pre-selects (the
    cuts push fits on the answered random reserve), not with one 0.5 cut the annotators never saw."""
    from labeler.loop.policy import project_reserve

    config = make_config(tmp_path, multi_label=True)
    ids = [f"r{i}" for i in range(300)]
    reserve = project_reserve(config)
    answered = [i for i, rid in enumerate(ids) if reserve.contains(rid)]
    assert len(answered) >= 20  # MIN_LABELS_FOR_SUGGESTIONS
    Y = np.zeros((len(ids), 3), dtype=np.int64)
    Y[::3, 0] = 1  # billing, scored 0.9 when right
    Y[::2, 2] = 1  # refund, scored 0.3 when right: under 0.5, over its fitted cut
    P = np.where(Y == 1, np.array([0.9, 0.0, 0.3]), np.array([0.1, 0.0, 0.05]))
    Scores(ids=ids, P=P, agreement=np.ones(len(ids)), signals={}).save(Project(config).ensure().scores)
    pd.DataFrame({"id": [ids[i] for i in answered], "label": None,
                  "labels": [[LABELS[k] for k in np.flatnonzero(Y[i])] for i in answered],
                  "status": "submitted"}).to_parquet(Project(config).labels)
    write_responses(config, {"r0": {"x": [B, R], "y": [B, R]}})  # r0 is billing and refund
    report = build(config, min_shared=2)
    assert {r.name: r.model for r in report.annotators} == {"x": (1, 1), "y": (1, 1)}
    from labeler.quality.agreement import model_labels

    assert model_labels(config)["r0"] == frozenset({B})  # what one 0.5 cut would have compared with


def test_answers_under_a_former_label_name_count_under_its_name_now(tmp_path):
    from labeler.quality.agreement import load_answers

    labels = [LABELS[0], {"name": "renamed", "was": [LABELS[1]]}] + list(LABELS[2:])
    config = make_config(tmp_path, labels=labels)
    write_responses(config, {"r0": {"a": LABELS[1], "b": "renamed"}})
    assert load_answers(config).by_record == {"r0": {"a": "renamed", "b": "renamed"}}
    config = make_config(tmp_path, multi_label=True, labels=labels)
    write_responses(config, {"r0": {"a": [LABELS[0], LABELS[1]], "b": ["renamed"]}})
    assert load_answers(config).by_record == {"r0": {"a": frozenset({LABELS[0], "renamed"}), "b": frozenset({"renamed"})}}


def test_labels_chosen_over_a_pre_selected_none_of_these_are_the_answer(tmp_path):
    # pull keeps each record's suggestion beside the answers: where the form started with "None of these", an
    # answer that added a label and left it selected is that label (as pull reads it), not a contradiction; and
    # "None of these" added to the pre-selected labels, left as they were, is none
    from labeler.argilla.schema import NONE_VALUE

    config = make_config(tmp_path, multi_label=True)
    rows = [{"id": rid, "annotator": who, "status": "submitted", "value": json.dumps(value),
             "updated_at": T0.isoformat(), "suggestion": json.dumps(sug)}
            for rid, who, value, sug in [("m0", "x", [B], [NONE_VALUE]), ("m0", "y", [NONE_VALUE, B], [NONE_VALUE]),
                                         ("m1", "x", [], [R]), ("m1", "y", [NONE_VALUE, R], [R]),
                                         ("m2", "x", [R], [R, B]), ("m2", "y", [NONE_VALUE, R], [R, B])]]
    Project(config).ensure()
    pd.DataFrame(rows).to_parquet(Project(config).responses)
    report = build(config, min_shared=2)
    # m2's second answer took billing away and added "None of these": a contradiction, left out
    assert (report.none, report.none_with_labels, report.answers, report.overlapped) == (2, 1, 5, 2)
    # both chose billing on m0, both none on m1
    assert {r.name: r.consensus for r in report.annotators} == {"x": (2, 2), "y": (2, 2)}
    assert (report.labels_over_none, report.none_over_labels) == (1, 1)
    assert ('1 answers chose labels beside a pre-selected "None of these" (read as those labels, as `labeler pull` '
            "does); 1 answers chose it beside the pre-selected labels (read as none, as `labeler pull` does)"
            ) in markdown(report)
