"""``labeler init``: a commented starter config from a data file and a label list."""

import click


@click.command("init")
@click.argument("data_path", type=click.Path(exists=True))
@click.option("--labels", required=True, help="Comma-separated label names, e.g. 'billing,shipping,other'.")
@click.option("-o", "--out", default="configs/project.yaml", show_default=True, type=click.Path(dir_okay=False))
@click.option("--text-field", "text_fields", multiple=True, help="Text column(s); default: guessed from the data.")
@click.option("--multi-label", is_flag=True, help="Each text may have several labels.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
def command(data_path, labels, out, text_fields, multi_label, force):
    """Write a starter config for DATA_PATH that `labeler bootstrap -c OUT` accepts."""
    from labeler.init_config import write_starter_config

    names = [x.strip() for x in labels.split(",") if x.strip()]
    path = write_starter_config(data_path, names, out, text_fields=list(text_fields) or None,
                                multi_label=multi_label, force=force)
    click.echo(f"wrote {path}; edit the label descriptions and signals, then run `labeler bootstrap -c {path}`")
