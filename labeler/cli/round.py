"""``labeler round``: pull, train if the threshold is met, re-score, push."""

import click

from labeler.cli._common import config_option, load, quiet_option, set_option, locked
from training.backends import BACKEND_NAMES


@click.command("round")
@config_option
@set_option
@quiet_option
@click.option("--backend", type=click.Choice(BACKEND_NAMES), default=None,
              help="Override training.backend.")
@click.option("--force", is_flag=True,
              help="Train even below the threshold, on unchanged labels or before training.retrain_after more labels.")
@click.option("--simulate-annotator", "simulate", type=click.IntRange(min=0), default=0, metavar="N",
              help="First answer the N top-priority pending records with the corpus' held-back labels (demo/testing).")
def command(config_path, overrides, quiet, backend, force, simulate):
    """One labelling round in one command, printing each step."""
    from labeler.loop.round import run_round, simulate_annotator

    config = load(config_path, overrides)
    with locked(config, "round"):
        if simulate:
            click.echo(f"[0/4] {simulate_annotator(config, simulate).summary()}")
        run_round(config, backend=backend, force=force, progress=not quiet, echo=click.echo)
