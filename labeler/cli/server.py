"""``labeler server start | stop | status | logs``: the embedded local Argilla server."""

from __future__ import annotations

import click

from labeler.server.process import DEFAULT_HOST, DEFAULT_PORT, PROCESS_NAMES


@click.group("server")
def command():
    """Start, stop and inspect the local Argilla server (API, web UI, Redis, worker)."""


def print_login(result) -> None:
    """Print the URL always; the password and API key only right after they were generated."""
    click.echo(f"Argilla is running at {result.url}  (user: {result.credentials.username})")
    if result.new_credentials:
        click.echo(f"  password: {result.credentials.password}")
        click.echo(f"  API key:  {result.credentials.api_key}")
        click.echo("  These are shown once; they are stored in a file only you can read:")
    from labeler.server.paths import ServerPaths

    click.echo(f"  credentials file: {ServerPaths.default().credentials_file}")


@command.command("start")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Interface to bind (0.0.0.0 exposes it).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def start_cmd(host, port):
    """Start the server (idempotent: prints the URL if it is already running)."""
    from labeler.server import process

    click.echo("Starting the local Argilla server...", err=True)
    result = process.start(host=host, port=port)
    if result.cleaned_stale:
        click.echo("Found a stale PID file from a previous run; cleaned it.", err=True)
    if result.already_running:
        click.echo("Already running.", err=True)
    print_login(result)


@command.command("stop")
def stop_cmd():
    """Stop the processes this installation started."""
    from labeler.server import process

    stopped = process.stop()
    click.echo(f"Stopped: {', '.join(stopped)}" if stopped else "Not running.")


@command.command("status")
def status_cmd():
    """Check the server's health through its API; exit 1 when it is not healthy."""
    from labeler.server import process

    st = process.status()
    procs = ", ".join(f"{n}={'up' if up else 'down'}" for n, up in st.processes.items()) or "none"
    click.echo(f"url: {st.url or '-'}\nhealthy: {'yes' if st.healthy else 'no'}\nprocesses: {procs}\n{st.detail}")
    if not st.healthy:
        raise click.exceptions.Exit(1)


@command.command("logs")
@click.argument("process_name", default="api", type=click.Choice(PROCESS_NAMES))
@click.option("-n", "--lines", default=50, show_default=True)
def logs_cmd(process_name, lines):
    """Show the last lines of a process's log (api, worker or redis)."""
    from labeler.server import process

    click.echo(process.logs(process=process_name, lines=lines) or f"(no {process_name} log yet)")
