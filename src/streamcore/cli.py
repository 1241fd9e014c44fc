"""The `streamcore` command: serve, worker, migrate, demo, admin."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from streamcore.config import ConfigError, Settings

app = typer.Typer(help="streamcore: self-hostable video platform backend.", no_args_is_help=True)
console = Console(stderr=True)
admin_app = typer.Typer(help="Operate a running deployment.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def checked_settings() -> Settings:
    """The settings, refused with a clear message (exit 2) when they cannot work:
    e.g. a distributed node without the shared STREAMCORE_SECRET_KEY."""
    settings = Settings()
    try:
        settings.resolved_secret()
    except ConfigError as exc:
        console.print(f"[red]streamcore: {exc}[/red]", soft_wrap=True)
        raise typer.Exit(2) from exc
    return settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only; run `streamcore worker` elsewhere.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="HTTP processes on the one port (default: the number of cores when "
            "STREAMCORE_REDIS__URL is set, else 1; more than 1 needs Redis).",
        ),
    ] = None,
    http: Annotated[str, typer.Option(help="HTTP versions: auto (1.1 and 2), 1 or 2.")] = "auto",
    ssl_certificate: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM); HTTP/2 is offered by ALPN.")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS key (PKCS#8 PEM).")] = None,
    uds: Annotated[
        Path | None,
        typer.Option(help="Listen on this unix socket instead (e.g. for nginx on the host)."),
    ] = None,
) -> None:
    """Run the HTTP API with Granian (and, unless --no-worker, the job worker)."""
    from streamcore.serving import ServeConfigError, ServeOptions
    from streamcore.serving import serve as run_server

    if http not in ("auto", "1", "2"):
        console.print("[red]--http must be auto, 1 or 2[/red]")
        raise typer.Exit(2)
    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        run_worker=not no_worker,
        http=http,  # type: ignore[arg-type]
        ssl_certificate=ssl_certificate,
        ssl_keyfile=ssl_keyfile,
        uds=uds,
    )
    try:
        run_server(checked_settings(), options)
    except ServeConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def worker() -> None:
    """Run a job worker (ingest, transcode): polls the jobs table, or consumes Kafka
    when STREAMCORE_BUS__BACKEND=kafka."""
    from streamcore.worker import run_worker

    asyncio.run(run_worker(checked_settings()))


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply database migrations."""
    from streamcore.db import migrate as db_migrate
    from streamcore.db.session import create_engine

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await db_migrate.upgrade(engine, revision)
            return await db_migrate.current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(run())
    console.print(f"[green]database at revision {current}[/green]")


@app.command()
def demo(
    file: Annotated[
        Path | None, typer.Option(help="Video to upload instead of a generated test clip.")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="A running streamcore to use (default: start one).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port for the self-started server.")] = 8000,
    keep_serving: Annotated[
        bool | None,
        typer.Option(
            "--keep-serving/--exit",
            help="Keep the self-started server running after the demo "
            "(default: when run in a terminal).",
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(help="Log in as this user (default: a demo user made in ./data)."),
    ] = None,
    password: Annotated[
        str | None, typer.Option(envvar="STREAMCORE_DEMO_PASSWORD", help="With --email.")
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="On the configured PostgreSQL, S3/Azure, Kafka and Redis: a session, a "
            "presigned upload, transcode and transcription, then every object checked in "
            "the bucket (starts an API node and a worker unless --url).",
        ),
    ] = False,
) -> None:
    """Upload a clip, follow it through ingest and transcode, print a playback URL and
    check that it plays."""
    from streamcore.demo import run_demo

    if distributed:
        from streamcore.demo_distributed import run_distributed_demo

        raise typer.Exit(
            run_distributed_demo(
                console, file=file, url=url, port=port, email=email, password=password
            )
        )

    code = run_demo(
        console,
        file=file,
        url=url,
        port=port,
        keep_serving=keep_serving,
        email=email,
        password=password,
    )
    raise typer.Exit(code)


@admin_app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The user's email (their login).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Prompted when omitted."
        ),
    ],
    superadmin: Annotated[
        bool, typer.Option("--superadmin", help="May use /admin/* and see every organization.")
    ] = False,
) -> None:
    """Create a user with a personal organization (they own it), or set the password of
    an existing one. Migrates an empty database first."""
    from streamcore.auth.bootstrap import ensure_user

    try:
        user_id, created = asyncio.run(ensure_user(Settings(), email, password, superadmin))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    verb = "created" if created else "updated"
    console.print(f"[green]user {email} {verb}[/green] (id {user_id})")


@admin_app.command("replay-dlq")
def replay_dlq(
    timeout: Annotated[float, typer.Option(help="Give up reading the DLQ after this long.")] = 60,
) -> None:
    """Put dead jobs back in the queue (those on the DLQ topics in Kafka mode)."""
    from streamcore.admin.tasks import replay_dlq as replay
    from streamcore.infra import build_infra

    settings = Settings()

    async def run() -> list[str]:
        infra = build_infra(settings)
        try:
            return await replay(infra, timeout=timeout)
        finally:
            await infra.close()

    replayed = asyncio.run(run())
    for job_id in replayed:
        console.print(f"replayed job {job_id}")
    console.print(f"[green]{len(replayed)} job(s) put back in the queue[/green]")
