"""``labeler simulate``: learning curves with an oracle annotator on a fully labeled data set."""

import click

from labeler.cli._common import quiet_option, set_option

DATASETS = ("ag_news", "banking77", "sms_spam", "nlupp_banking")


def _list(kind):
    def parse(ctx, param, value):
        if value is None:
            return None
        items = [v.strip() for part in (value if isinstance(value, tuple) else (value,)) for v in part.split(",") if v.strip()]
        try:
            return [kind(v) for v in items]
        except ValueError:
            raise click.BadParameter(f"expected a comma-separated list of {kind.__name__}, got {value!r}") from None

    return parse


def _seeds(ctx, param, value):
    parts = [v.strip() for v in value.split(",") if v.strip()]
    try:
        nums = [int(v) for v in parts]
    except ValueError:
        raise click.BadParameter(f"expected a count (3) or a list (0,1,2), got {value!r}") from None
    return list(range(nums[0])) if len(nums) == 1 and "," not in value else nums


@click.command("simulate")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="A project config whose data.label_field is set (the labels are hidden from the loop).")
@click.option("--dataset", type=click.Choice(DATASETS), help="A shared benchmark data set instead of a config.")
@set_option
@click.option("--strategy", "strategies", multiple=True, callback=_list(str), default=("random,margin",),
              show_default=True, help="Strategies, comma-separated or repeated: random, least_confidence, margin, "
                                      "entropy, disagreement, threshold_distance (multi-label).")
@click.option("--batch-size", "-b", type=click.IntRange(1), default=16, show_default=True, help="Labels per round.")
@click.option("--rounds", "-r", type=click.IntRange(1), default=10, show_default=True)
@click.option("--seeds", default="3", callback=_seeds, show_default=True, help="A count (3 = 0,1,2) or a list (0,4,7).")
@click.option("--cold-start", type=click.Choice(["on", "off", "both"]), default="on", show_default=True,
              help="First batch: the zero-shot's most confident record per predicted class (on) or random (off).")
@click.option("--weak", "weak", default="0", callback=_list(float), show_default=True,
              help="Fractions of each zero-shot-predicted class (most confident first) added as weak training "
                   "labels; a list runs each (0 = none).")
@click.option("--weak-weight", type=float, default=0.3, show_default=True, help="Sample weight of a weak label.")
@click.option("--weak-until", type=click.IntRange(1), default=None, help="Drop weak labels once this many human labels exist.")
@click.option("--self-training", type=click.IntRange(0), default=0, show_default=True,
              help="Refits on the model's own most confident pool predictions (weighted like weak labels).")
@click.option("--diversity", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of each batch picked by k-means diversity among the most uncertain.")
@click.option("--exploration", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--queue-with", type=click.Choice(["model", "join"]), default="model", show_default=True,
              help="After round 0 the queue ranks by the trained model (model) or its mean with the zero-shot (join).")
@click.option("--model", type=click.Choice(["logreg", "setfit"]), default="logreg", show_default=True,
              help="logreg: balanced logistic regression (C=10) on frozen MiniLM; setfit: capped fine-tuning.")
@click.option("--setfit-every", type=click.IntRange(1), default=3, show_default=True)
@click.option("--setfit-steps", type=click.IntRange(1), default=48, show_default=True)
@click.option("--pool-size", type=click.IntRange(10), default=None,
              help="Simulate on a fixed random subset of this many pool records (SetFit re-embeds the pool).")
@click.option("--eval-size", type=click.IntRange(10), default=None, help="A fixed random subset of the eval split.")
@click.option("--eval-fraction", type=click.FloatRange(0.01, 0.9), default=0.2, show_default=True,
              help="With --config: the held-out share (stable by record id).")
@click.option("--via-argilla", is_flag=True,
              help="Answers travel through the local Argilla server (push, annotate via the API, pull); keep it small.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: <project dir>/results).")
@quiet_option
def command(config_path, dataset, overrides, strategies, batch_size, rounds, seeds, cold_start, weak, weak_weight,
            weak_until, self_training, diversity, exploration, queue_with, model, setfit_every, setfit_steps,
            pool_size, eval_size, eval_fraction, via_argilla, out_dir, quiet):
    """Hide the labels of a labeled data set and replay the loop with an oracle answering each queued batch.

    Writes curves.csv, curves.json, summary.json and curves.png (mean ± std over seeds) and prints the
    labels each strategy needs to reach 95% of the same model trained on the whole pool.
    """
    import os
    from pathlib import Path

    from labeler import simulate as sim
    from labeler.errors import LabelerError

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if bool(config_path) == bool(dataset):
        raise click.UsageError("give exactly one of --config and --dataset")
    if via_argilla and (pool_size or eval_size):
        raise click.UsageError("--pool-size/--eval-size run in process only, not with --via-argilla")
    if dataset:
        if overrides:
            raise click.UsageError("--set applies to --config only")
        data = sim.dataset_data(dataset)
    else:
        from labeler.config import load_config

        data = sim.config_data(load_config(config_path, list(overrides)), eval_fraction)
    starts = {"on": [True], "off": [False], "both": [True, False]}[cold_start]
    try:
        variants = sim.variants_from(
            strategies, starts, weak, batch_size=batch_size, rounds=rounds, weak_weight=weak_weight,
            weak_until=weak_until, self_training=self_training, diversity=diversity, exploration=exploration,
            queue_with=queue_with, model=model, setfit_every=setfit_every, setfit_steps=setfit_steps)
    except TypeError as exc:
        raise LabelerError(str(exc)) from None
    out = Path(out_dir) if out_dir else Path(data.config.project.dir) / "results"
    feats = None
    if pool_size or eval_size:
        data, feats = sim.subsample(data, sim.compute_features(data, progress=not quiet), pool_size, eval_size)
    report = sim.simulate(data, variants, seeds, out, via_argilla=via_argilla, progress=not quiet,
                          feats=feats, log=None if quiet else click.echo)
    click.echo(sim.format_table(report))
    click.echo(f"wrote {out / 'curves.csv'}, curves.json, summary.json, curves.png")
