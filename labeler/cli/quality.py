"""``labeler quality``: agreement between annotators and with the model, as a report."""

import click

from labeler.cli._common import config_option, load, set_option


@click.command("quality")
@config_option
@click.option("--min-shared", default=10, show_default=True, type=click.IntRange(min=2),
              help="List an annotator pair's Cohen's kappa only when they share this many records.")
@set_option
def command(config_path, min_shared, overrides):
    """Krippendorff's alpha, Fleiss' and Cohen's kappa, agreement with the consensus and the model, pace."""
    from labeler.project import Project
    from labeler.quality.agreement import build
    from labeler.quality.agreement_report import write

    config = load(config_path, overrides, quiet_models=True)
    report = build(config, min_shared=min_shared)
    click.echo(report.line())
    listed = [p for p in report.pairs if p.shared >= min_shared and p.kappa is not None]
    if listed:
        worst = listed[0]
        click.echo(f"worst pair: {worst.a} / {worst.b}, Cohen's kappa {worst.kappa:.2f} on {worst.shared} shared records")
    if report.model_note:
        click.echo(report.model_note)
    paths = write(report, Project(config).reports)
    for warning in paths["warnings"]:
        click.echo(f"warning: {warning}", err=True)
    also = ", ".join(paths[k].name for k in ("json", "png") if k in paths)
    click.echo(f"report written to {paths['markdown']} (and {also})")
