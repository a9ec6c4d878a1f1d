"""``labeler predict``: batch predictions with a run (logged), or a drift check of a logged batch."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("predict")
@config_option
@set_option
@click.option("--input", "input_path", type=click.Path(), default=None,
              help="CSV, JSONL or Parquet file (or a saved dataset or text-file folder) with the config's text fields.")
@click.option("--run", "run_id", default=None, metavar="RUN_ID", help="A run id (default: the current run).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the predictions here (.csv, .jsonl or .parquet).")
@click.option("--drift", "drift_log", is_flag=False, flag_value="latest", default=None, metavar="[LOG]",
              help="Check a logged batch for drift (default: the latest; with --input, the batch just predicted): its "
                   "label mix against the run's predictions on the pool, its confidence against the run's on "
                   "unlabeled pool texts.")
def command(config_path, overrides, input_path, run_id, out_path, drift_log):
    """Predict a file with the current (or named) run, logging to <project dir>/predictions/."""
    from labeler.evaluation import predict
    from labeler.evaluation.drift import drift
    from labeler.errors import LabelerError

    config = load(config_path, overrides, quiet_models=True)
    if input_path and drift_log not in (None, "latest"):
        raise LabelerError(f"--input predicts a new batch and --drift checks it; --drift {drift_log} names another "
                           "log: give one of them")
    if drift_log is not None and not input_path:
        click.echo(drift(config, drift_log).summary())
        return
    if not input_path:
        raise LabelerError("give --input FILE to predict, or --drift [LOG] to check a logged batch")
    result = predict.predict_file(config, input_path, run_id=run_id, out=out_path,
                                  echo=lambda line: click.echo(line, err=True))  # stdout keeps the summary
    click.echo(result.summary())
    if drift_log is not None:  # the batch just predicted, by the run that predicted it
        click.echo(drift(config, str(result.path)).summary())
