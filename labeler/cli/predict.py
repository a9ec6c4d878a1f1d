"""``labeler predict``: batch predictions with a run (logged), or a drift check of a logged batch."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("predict")
@config_option
@set_option
@click.option("--input", "input_path", type=click.Path(dir_okay=False), default=None,
              help="CSV, JSONL or Parquet file with the config's text fields.")
@click.option("--run", "run_id", default=None, metavar="RUN_ID", help="A run id (default: the current run).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the predictions here (.csv, .jsonl or .parquet).")
@click.option("--drift", "drift_log", is_flag=False, flag_value="latest", default=None, metavar="[LOG]",
              help="Compare a logged prediction file (default: the latest) with the gold labels (or, before there are "
                   "enough, the run's training labels) and the run's confidence.")
def command(config_path, overrides, input_path, run_id, out_path, drift_log):
    """Predict a file with the current (or named) run, logging to <project dir>/predictions/."""
    from labeler.evaluation import predict
    from labeler.evaluation.drift import drift
    from labeler.errors import LabelerError

    config = load(config_path, overrides)
    if drift_log is not None:
        click.echo(drift(config, drift_log).summary())
        return
    if not input_path:
        raise LabelerError("give --input FILE to predict, or --drift [LOG] to check a logged batch")
    click.echo(predict.predict_file(config, input_path, run_id=run_id, out=out_path).summary())
