"""``labeler demo``: the main job on the embedded default: local server, demo corpus, first queue.

The demo config and corpus ship inside the package (``labeler/demo/demo.yaml``, ``tickets.jsonl``), so the
demo runs from any folder after ``pip install``. Its state goes to ``.labeler/demo`` under the current folder
(not beside the packaged config, which may be read-only); ``-c`` runs the same steps on another config.
"""

from pathlib import Path

import click

import labeler

DEMO_STATE = Path(".labeler") / "demo"


def demo_config_path() -> Path:
    """The demo config shipped as package data."""
    path = Path(labeler.__file__).resolve().parent / "demo" / "demo.yaml"
    if not path.exists():
        raise click.ClickException(f"demo config not found at {path}; reinstall labeler (it ships as package data)")
    return path


def demo_overrides(config_path: Path, overrides: list[str], cwd: Path | None = None) -> list[str]:
    """The packaged config keeps its state under ``<cwd>/.labeler/demo`` unless ``project.dir`` is overridden."""
    if config_path != demo_config_path() or any(o.split("=", 1)[0].strip() == "project.dir" for o in overrides):
        return list(overrides)
    return [f"project.dir={(cwd or Path.cwd()).resolve() / DEMO_STATE}", *overrides]


@click.command("demo")
@click.option("-c", "--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Run the demo steps on this config instead of the packaged demo config.")
@click.option("--simulate-annotator", "simulate", type=click.IntRange(min=0), default=0, metavar="N",
              help="Answer N queued records through the Argilla API with the corpus' held-back labels.")
@click.option("--port", default=6900, show_default=True, type=int)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Dotted config override.")
def command(config_path, simulate, port, overrides):
    """Start the local Argilla server, score the demo tickets, push the first queue, print the URL."""
    from labeler.cli.server import print_login
    from labeler.config import load_config
    from labeler.loop.round import pull_labels, push_queue, simulate_annotator
    from labeler.loop.scoring import bootstrap
    from labeler.server import process

    path = Path(config_path) if config_path else demo_config_path()
    config = load_config(path, demo_overrides(path, list(overrides)))
    click.echo("1/4 local Argilla server", err=True)
    started = process.start(port=port)
    click.echo("2/4 scoring the demo corpus with the offline signals", err=True)
    pool, scores = bootstrap(config)
    click.echo(f"    {pool.summary()}", err=True)
    click.echo("3/4 pushing the first review queue", err=True)
    click.echo(f"    {push_queue(config).summary()}", err=True)
    if simulate:
        click.echo(f"4/4 simulated annotator answers {simulate} records", err=True)
        answered = simulate_annotator(config, simulate)
        report = pull_labels(config)
        click.echo(f"    {answered.summary()}; pulled: {report.summary()}", err=True)
        _, scores = bootstrap(config)
        if scores.queue_note:
            click.echo(f"    {scores.queue_note}", err=True)
        click.echo(f"    refreshed queue: {push_queue(config).summary()}", err=True)
    else:
        click.echo("4/4 ready for review (add --simulate-annotator N to answer N records automatically)", err=True)
    print_login(started)
    click.echo(f"Open {started.url} and choose the dataset {config.argilla.dataset!r}: "
               "its Pending tab lists the most informative records first.")
    if not config_path:
        click.echo(f"State is in {config.project.dir}; continue with e.g. "
                   f"`labeler status -c {path} --set project.dir={config.project.dir}`.", err=True)
