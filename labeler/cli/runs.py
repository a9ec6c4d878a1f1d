"""``labeler runs``: the training runs of a project, and which one is current."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("runs")
@config_option
@set_option
@click.option("--set-current", "set_current", metavar="RUN_ID", default=None,
              help="Make RUN_ID the current run (the one that joins the signals and serves predict).")
def command(config_path, overrides, set_current):
    """List runs (id, backend, created, n_train, gold accuracy or exact match, F1, gold n; * = current)."""
    from labeler.loop import runs as project_runs
    from labeler.project import Project

    config = load(config_path, overrides)
    if set_current:
        project_runs.set_current_run(config, set_current)
        click.echo(f"current run: {set_current}")
        if any(r["run_id"] == set_current and r.get("final_fit") for r in project_runs.list_project_runs(config)):
            click.echo("note: a final fit trained on the gold labels: `compare` leaves it out, and the join weights "
                       "fitted on gold favour it; `labeler predict --run` serves it without making it current",
                       err=True)
        return
    runs = project_runs.list_project_runs(config)
    if not runs:
        click.echo(f"no runs under {Project(config).runs}; train one with `labeler train`")
        return
    click.echo(project_runs.runs_table(runs, config.task.multi_label, config.label_names))
