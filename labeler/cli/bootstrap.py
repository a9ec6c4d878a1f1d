"""``labeler bootstrap``: read the pool and score it with every signal (cached per record)."""

import click

from labeler.cli._common import config_option, load, quiet_option, set_option, locked


@click.command("bootstrap")
@config_option
@set_option
@quiet_option
def command(config_path, overrides, quiet):
    """Load the data, score every record with every signal, combine them into the ensemble."""
    from labeler.scoring import bootstrap

    config = load(config_path, overrides)
    with locked(config, "bootstrap"):
        pool, scores = bootstrap(config, progress=not quiet)
    click.echo(pool.summary())
    top = scores.P.max(axis=1)
    click.echo(f"scored {len(scores.ids)} records with {', '.join(scores.signals)} ({scores.method}); "
               f"mean top probability {top.mean():.3f}, mean agreement {scores.agreement.mean():.3f}")
