"""``labeler simulate``: learning curves with an oracle annotator on a fully labeled data set."""

import click

from labeler.cli._common import quiet_option, set_option

DATASETS = ("ag_news", "banking77", "sms_spam", "nlupp_banking", "nlupp_hotels", "goemotions")


def _list(kind):
    def parse(ctx, param, value):
        if value is None or value == ():
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
              help="A project config whose data.label_field is set (the labels are hidden from the loop); its "
                   "queue and training sections are the policy simulated.")
@click.option("--dataset", type=click.Choice(DATASETS), help="A shared benchmark data set instead of a config.")
@set_option
@click.option("--strategy", "strategies", multiple=True, callback=_list(str), default=None,
              help="Strategies, comma-separated or repeated: random, least_confidence, margin, entropy, disagreement, "
                   "threshold_distance (multi-label). Default: random and the config's strategy.")
@click.option("--batch-size", "-b", type=click.IntRange(1), default=None, help="Labels per round (default queue.batch_size).")
@click.option("--rounds", "-r", type=click.IntRange(1), default=10, show_default=True)
@click.option("--seeds", default="3", callback=_seeds, show_default=True, help="A count (3 = 0,1,2) or a list (0,4,7).")
@click.option("--cold-start", type=click.Choice(["config", "on", "off", "both"]), default="config", show_default=True,
              help="First batch: the zero-shot's most confident record per predicted class (on) or by the strategy (off).")
@click.option("--weak", "weak", default=None, callback=_list(float),
              help="Weak-label fractions to compare (default training.weak_labels.fraction; 0 = none).")
@click.option("--coverage", "coverage", default=None, callback=_list(float),
              help="Class-coverage shares to compare (default queue.coverage; 0 = off).")
@click.option("--gold-share", type=click.FloatRange(0, 0.99), default=None, help="Override queue.gold_share.")
@click.option("--diversity", type=click.FloatRange(0, 1), default=None, help="Override queue.diversity.")
@click.option("--exploration", type=click.FloatRange(0, 1), default=None, help="Override queue.exploration.")
@click.option("--pool-size", type=click.IntRange(10), default=None,
              help="Simulate on a fixed random subset of this many pool records.")
@click.option("--eval-size", type=click.IntRange(10), default=None, help="A fixed random subset of the eval split.")
@click.option("--eval-fraction", type=click.FloatRange(0.01, 0.9), default=0.2, show_default=True,
              help="With --config: the held-out share (stable by record id).")
@click.option("--via-argilla", is_flag=True,
              help="Run the product's own push / annotate / pull through the local Argilla server; keep it small.")
@click.option("-o", "--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: <project dir>/results).")
@quiet_option
def command(config_path, dataset, overrides, strategies, batch_size, rounds, seeds, cold_start, weak, coverage,
            gold_share, diversity, exploration, pool_size, eval_size, eval_fraction, via_argilla, out_dir, quiet):
    """Hide the labels of a labeled data set and replay the loop with an oracle answering each queued batch.

    The policy is the config's (``Policy.from_config``, exactly what ``labeler round`` follows); options
    override single fields. Writes curves.csv, curves.json, summary.json and curves.png (mean ± std over
    seeds) and prints the labels each policy needs to reach 95% of the same model trained on the whole pool.
    """
    import dataclasses
    import os
    from pathlib import Path

    from labeler import simulate as sim
    from labeler.loop.engine import Policy
    from labeler.project import Project

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

        from labeler.cli.bootstrap import data_lines
        from labeler.data import load_pool

        config = load_config(config_path, list(overrides))
        data = sim.config_data(config, eval_fraction)
        pool = load_pool(config)
        for line in data_lines(config, pool):
            click.echo(line)
        unlabeled = sum((r.labels if config.task.multi_label else r.label) is None for r in pool.records)
        if unlabeled:
            click.echo(f"{unlabeled:,} of {len(pool.records):,} records have no label in "
                       f"{config.data.label_field!r}: left out (simulate needs the truth to answer"
                       + ("; a text with none of the labels is an empty list, [] in a CSV cell)"
                          if config.task.multi_label else ")"))
    fields = {"batch_size": batch_size, "gold_share": gold_share, "diversity": diversity, "exploration": exploration}
    base = dataclasses.replace(Policy.from_config(data.config), **{k: v for k, v in fields.items() if v is not None})
    starts = {"config": [base.cold_start], "on": [True], "off": [False], "both": [True, False]}[cold_start]
    variants = sim.variants_from(base, strategies or ["random", base.strategy], starts, weak, coverage)
    from labeler.loop.strategies import strategy_for

    for v in variants:
        strategy_for(data.multi_label, v.strategy)
    out = Path(out_dir) if out_dir else Project(data.config).dir / "results"
    feats = None
    if pool_size or eval_size:
        data, feats = sim.subsample(data, sim.compute_features(data, progress=not quiet), pool_size, eval_size)
    report = sim.simulate(data, variants, seeds, rounds, out, via_argilla=via_argilla, progress=not quiet,
                          feats=feats, log=None if quiet else click.echo)
    click.echo(sim.format_table(report))
    click.echo(f"wrote {out / 'curves.csv'}, curves.json, summary.json, curves.png")
