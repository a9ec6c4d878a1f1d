"""The first-run trigger (``training.trigger.first_run``): evidence on gold, or a count per class."""

from training.trigger import Decision, Evidence, first_run

COUNTS = {"a": 5, "b": 3, "c": 1, "d": 0}


def test_a_verdict_on_gold_starts_the_run_and_classes_below_the_floor_do_not_block_it():
    ev = Evidence(0.12, 0.04, 0.2, 52)
    d = first_run(COUNTS, 8, 2, ev, 50)
    assert d == Decision(True, "evidence", "the fast model vs zero-shot on 52 random reserve labels: +0.120 accuracy "
                                           "(95% CI +0.040..+0.200): training can be expected to help; 2 classes "
                                           "below the floor of 2 keep their zero-shot evidence (c, d)", ("c", "d"))


def test_no_verdict_yet_says_what_is_missing():
    d = first_run(COUNTS, 8, 2, Evidence(0.12, 0.04, 0.2, 40), 50)
    assert not d.due and d.rule == "none"
    assert d.reason == ("not training yet: a run starts when the fast model beats zero-shot on the random reserve (the fast model "
                        "vs zero-shot on 40 random reserve labels: +0.120 accuracy (95% CI +0.040..+0.200); a verdict "
                        "needs 50) or when every class has 8 training labels (4 classes short, 23 labels "
                        "in all: d needs 8 more, c needs 7 more, b needs 5 more, a needs 3 more)")
    # an interval that reaches 0 is no verdict; fewer than two classes at the floor is no run
    assert first_run(COUNTS, 8, 2, Evidence(0.05, -0.01, 0.1, 60), 50).reason.startswith(
        "not training yet: a run starts when the fast model beats zero-shot on the random reserve (the fast model vs zero-shot "
        "on 60 random reserve labels: +0.050 accuracy (95% CI -0.010..+0.100): no verdict yet)")
    assert not first_run(COUNTS, 8, 4, Evidence(0.1, 0.05, 0.2, 60), 50).due
    assert "no fast model or gold labels yet" in first_run(COUNTS, 8, 2, None, 50).reason


def test_the_count_rule_is_still_sufficient_and_reads_well_at_150_classes():
    assert first_run({"a": 8, "b": 9}, 8, 2, None, 50) == Decision(True, "count", "every class has at least 8 "
                                                                                 "training labels", ())
    many = {f"intent_{i:03d}": i % 9 for i in range(150)}
    reason = first_run(many, 8, 2, None, 50).reason
    assert reason.count("needs") == 5 and reason.endswith(", and 129 more)") and len(reason) < 400
