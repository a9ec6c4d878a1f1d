"""``labeler users add | list | remove | reset-password``: annotator accounts on the Argilla server."""

from __future__ import annotations

import click

from labeler.cli._common import set_option

config_option = click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                             help="Project config: its server and workspace (default: the local server, its "
                                  "first workspace).")


def _target(config_path, overrides):
    """(connection, workspace) from the config, or the local server / $ARGILLA_API_URL and its first workspace."""
    if config_path is None:
        from labeler.argilla.connection import resolve

        return resolve(), None
    from labeler.cli._common import load
    from labeler.loop.round import connection

    config = load(config_path, overrides)
    return connection(config), config.argilla.workspace


@click.group("users")
def command():
    """Add, list and remove annotator accounts; reset a password. Needs an owner's API key."""


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["annotator", "admin"]), default="annotator", show_default=True)
@config_option
@set_option
def add_cmd(name, role, config_path, overrides):
    """Create NAME with a generated password, a member of the project's workspace."""
    from labeler.argilla.users import add_user

    conn, workspace = _target(config_path, overrides)
    new = add_user(conn, name, role, workspace)
    click.echo(f"added {new.name} ({new.role}) to workspace {new.workspace!r} on {conn.url}")
    click.echo(f"  password: {new.password}")
    click.echo("  shown once, stored nowhere: hand it to the annotator (`labeler users reset-password` makes a new one)")


@command.command("list")
@config_option
@set_option
def list_cmd(config_path, overrides):
    """Every account: name, role, workspaces."""
    from labeler.argilla.users import list_users, some

    conn, _ = _target(config_path, overrides)
    accounts = list_users(conn)
    width = max([len("name")] + [len(a.name) for a in accounts])
    click.echo(f"{'name':<{width}}  {'role':<9}  workspaces")
    for a in accounts:
        where = "all (owner)" if a.role == "owner" else some(a.workspaces, 3)
        click.echo(f"{a.name:<{width}}  {a.role:<9}  {where}")
    roles = {r: sum(a.role == r for a in accounts) for r in ("owner", "admin", "annotator")}
    click.echo(f"{len(accounts)} users: " + ", ".join(f"{n} {r}" for r, n in roles.items() if n))


@command.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove even if the user has answers (they are deleted with the account).")
@config_option
@set_option
def remove_cmd(name, force, config_path, overrides):
    """Delete the account NAME (refused while it has answers, unless --force)."""
    from labeler.argilla.users import remove_user

    conn, _ = _target(config_path, overrides)
    gone = remove_user(conn, name, force)
    click.echo(f"removed {name}" + (f" and their {gone} answers" if gone else ""))


@command.command("reset-password")
@click.argument("name")
@config_option
@set_option
def reset_cmd(name, config_path, overrides):
    """Give NAME a new generated password (account, API key and answers stay)."""
    from labeler.argilla.users import reset_password

    conn, _ = _target(config_path, overrides)
    password = reset_password(conn, name)
    click.echo(f"new password for {name}: {password}")
    click.echo("  shown once, stored nowhere; the old password no longer works")
