"""``labeler demo``: the main job on the embedded default: local server, demo corpus, first queue."""

from pathlib import Path

import click


def demo_config_path() -> Path:
    repo_config = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
    if not repo_config.exists():
        raise click.ClickException(f"demo config not found at {repo_config}; run from a labeler checkout")
    return repo_config


@click.command("demo")
@click.option("--simulate-annotator", "simulate", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer N queued records through the Argilla API with the corpus' held-back labels.")
@click.option("--port", default=6900, show_default=True, type=int)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Dotted config override.")
def command(simulate, port, overrides):
    """Start the local Argilla server, score the demo tickets, push the first queue, print the URL."""
    from labeler.cli.server import print_login
    from labeler.config import load_config
    from labeler.loop import bootstrap, pull_labels, push_queue, simulate_annotator
    from labeler.server import process

    click.echo("1/4 local Argilla server", err=True)
    started = process.start(port=port)
    config = load_config(demo_config_path(), list(overrides))
    click.echo("2/4 scoring the demo corpus with the offline signals", err=True)
    pool, scores = bootstrap(config)
    click.echo(f"    {pool.summary()}", err=True)
    click.echo("3/4 pushing the first review queue", err=True)
    click.echo(f"    {push_queue(config).summary()}", err=True)
    if simulate:
        click.echo(f"4/4 simulated annotator answers {simulate} records", err=True)
        answered = simulate_annotator(config, simulate)
        report = pull_labels(config)
        click.echo(f"    answered {answered}; pulled: {report.summary()}", err=True)
        click.echo(f"    refreshed queue: {push_queue(config).summary()}", err=True)
    else:
        click.echo("4/4 ready for review (add --simulate-annotator N to answer N records automatically)", err=True)
    print_login(started)
    click.echo(f"Open {started.url} and choose the dataset {config.argilla.dataset!r}: "
               "its Pending tab lists the most informative records first.")
