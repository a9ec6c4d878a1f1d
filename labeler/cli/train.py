"""``labeler train``: fine-tune on the pulled human labels; the new run becomes current."""

import click

from labeler.cli._common import config_option, load, set_option, locked
from training.backends import BACKEND_NAMES


@click.command("train")
@config_option
@set_option
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default=None,
              help="Override training.backend.")
@click.option("--force", is_flag=True, help="Train even when a class has fewer than training.min_per_class labels.")
def command(config_path, overrides, backend, force):
    """Train a run on labels.parquet, evaluate it on the held-out gold split, and register it."""
    from labeler.loop import runs
    from labeler.evaluation.compare_on_gold import compare_project

    config = load(config_path, overrides)
    with locked(config, "train"):
        run = runs.train_project(config, backend=backend, force=force)
    for line in runs.describe_run(run):
        click.echo(line)
    cmp = compare_project(config, run_ids=[run.run_id], write=False)
    click.echo(f"verdict: {cmp.result.verdict}")
    click.echo(f"run {run.run_id} is now current ({run.path})")
