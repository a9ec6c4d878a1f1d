"""The ``labeler`` console script.

Each subcommand lives in its own module ``labeler/cli/<name>.py`` that defines a click object named
``command``; modules are imported only when their command runs, so ``labeler --help`` stays instant.
Commands are thin: they load the config and call a plain, importable, tested function.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

# name -> (module, one-line help shown by `labeler --help` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("labeler.cli.server", "Start, stop and inspect the local Argilla server."),
    "init": ("labeler.cli.init", "Write a commented starter config from a data file and a label list."),
    "bootstrap": ("labeler.cli.bootstrap", "Load the pool and score it with every signal (cached)."),
    "push": ("labeler.cli.push", "Push the next uncertainty-ordered batch with suggestions to Argilla."),
    "pull": ("labeler.cli.pull", "Pull submitted human labels from Argilla to disk."),
    "status": ("labeler.cli.status", "Pool, scoring, pushing and labeling progress."),
    "train": ("labeler.cli.train", "Fine-tune a SetFit or transformers model on the human labels."),
    "runs": ("labeler.cli.runs", "List training runs and their metrics."),
    "compare": ("labeler.cli.compare", "Compare signals, runs and the ensemble on the gold set."),
    "predict": ("labeler.cli.predict", "Batch predictions with a run, logged for drift checks."),
    "round": ("labeler.cli.round", "Pull, train if the threshold is met, re-score and push, in one go."),
    "simulate": ("labeler.cli.simulate", "Learning curves with an oracle annotator on labeled data."),
    "watch": ("labeler.cli.watch", "Keep refreshing suggestions and the queue as answers arrive."),
    "users": ("labeler.cli.users", "Add, list, remove annotator accounts on the Argilla server."),
    "quality": ("labeler.cli.quality", "Agreement between annotators and with the model: report."),
    "review": ("labeler.cli.review", "Send suspected label errors back to Argilla for a second review."),
    "demo": ("labeler.cli.demo", "Start the local server and load the demo corpus, ready to review."),
}


def _available() -> dict[str, tuple[str, str]]:
    """Commands whose module exists in this checkout (found without importing them)."""
    import importlib.util

    return {n: v for n, v in COMMANDS.items() if importlib.util.find_spec(v[0]) is not None}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(_available())

    def get_command(self, ctx, name):
        entry = _available().get(name)
        if entry is None:
            return None
        return importlib.import_module(entry[0]).command

    def format_commands(self, ctx, formatter):
        rows = [(name, help_) for name, (_, help_) in sorted(_available().items())]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.version_option(package_name="labeler")
@click.pass_context
def cli(ctx, debug):
    """labeler: weak labels, human review in Argilla, fine-tuning, comparison."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def main(argv=None):
    """Entry point: run the CLI, turning known errors into one line and a non-zero exit."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rc = cli.main(args=argv, prog_name="labeler", standalone_mode=False)
        if isinstance(rc, int) and rc != 0:
            sys.exit(rc)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        from labeler.errors import LabelerError
        from training.errors import TrainingError  # the training layer's own one-line errors

        kind = "" if isinstance(exc, (LabelerError, TrainingError)) else f"{type(exc).__name__}: "
        message = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"Error: {kind}{message}", err=True)
        sys.exit(1)
