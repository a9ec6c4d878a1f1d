"""``labeler demo``: the main job on the embedded default: local server, demo corpus, first queue.

The demo config and corpus ship inside the package (``labeler/demo/demo.yaml``, ``tickets.jsonl``), so the
demo runs from any folder after ``pip install``. Its state goes to ``.labeler/demo`` under the current folder
(not beside the packaged config, which may be read-only); ``-c`` runs the same steps on another config.
Run on the packaged config, it also writes ``labeler-demo.yaml`` in the current folder (``user_config``): the
same settings pointing at the shipped corpus and at that state, so the next commands take ``-c
labeler-demo.yaml`` instead of a path into site-packages.
"""

import json
import os
from pathlib import Path

import click

import labeler

DEMO_STATE = Path(".labeler") / "demo"
USER_CONFIG = "labeler-demo.yaml"
CORPUS_LINE = "  path: tickets.jsonl   # relative to this file"


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


def user_config(config, overrides: list[str], cwd: Path | None = None) -> tuple[Path, bool]:
    """(the user's copy of the demo config in ``cwd``, whether it was written now): the packaged settings with
    the shipped corpus' absolute path, ``project.dir`` set to the demo's state (relative when it is under
    ``cwd``) and the demo's dataset and project names (a config's default names come from its file name); the
    demo's other ``--set`` overrides are noted in a comment. An existing file is left as it is."""
    cwd = (cwd or Path.cwd()).resolve()
    target = cwd / USER_CONFIG
    if target.exists():
        return target, False
    packaged = demo_config_path()
    corpus = packaged.parent / "tickets.jsonl"
    state = Path(config.project.dir).resolve()
    where = os.path.relpath(state, cwd) if state.is_relative_to(cwd) else str(state)
    text = packaged.read_text(encoding="utf-8").replace(
        CORPUS_LINE, f"  path: {json.dumps(str(corpus))}   # the corpus shipped with labeler")
    text += (f"\nargilla:\n  dataset: {json.dumps(config.argilla.dataset)}\n\nproject:\n"
             f"  name: {json.dumps(config.project.name)}\n"
             f"  dir: {json.dumps(where)}   # the demo's state (relative to this file)\n")
    extra = [o for o in overrides if o.split("=", 1)[0].strip() != "project.dir"]
    if extra:
        text += "# labeler demo ran with: " + " ".join(f"--set {o}" for o in extra) + "\n"
    target.write_text(text, encoding="utf-8")
    return target, True


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
        mine, written = user_config(config, list(overrides))
        shown = mine.name if mine.parent == Path.cwd().resolve() else mine
        click.echo(f"State is in {config.project.dir}; {'wrote' if written else 'kept'} your copy of the demo config, "
                   f"{shown}: continue with e.g. `labeler status -c {shown}`.", err=True)
