"""``newsletter inbound lmtp|poll``: mail that comes back (unsubscribes, bounces, complaints)."""

from __future__ import annotations

import asyncio
import signal

import typer

from newsletter.cli.context import console, database, fail, now, settings

app = typer.Typer(
    help="Mail that comes back: unsubscribe requests, bounces, complaints.", no_args_is_help=True
)


@app.command("lmtp")
def lmtp(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8024, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Run an LMTP server your MTA delivers our addresses to (stops cleanly on SIGTERM)."""
    from newsletter.inbound.lmtp import LmtpServer
    from newsletter.inbound.processor import Processor
    from newsletter.service import configure_logging

    configure_logging()
    processor = Processor(database(), settings(), clock=now)
    server = LmtpServer(processor, host=host, port=port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await server.start()
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")
        console.print(f"LMTP listening on {host}:{server.port}", highlight=False)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(main())
    console.print("LMTP server stopped")


@app.command("poll")
def poll() -> None:
    """Read the NEWSLETTER_INBOUND_IMAP_URL mailbox once (the service does it on a timer)."""
    from newsletter.inbound.imap import poll_once
    from newsletter.inbound.processor import Processor

    config = settings()
    mailbox = config.imap()
    if mailbox is None:
        fail("NEWSLETTER_INBOUND_IMAP_URL is not set")
    result = poll_once(mailbox, Processor(database(), config, clock=now))
    kinds = ", ".join(f"{k} {n}" for k, n in sorted((result.by_kind or {}).items())) or "nothing"
    console.print(f"{result.handled} message(s) handled: {kinds}", highlight=False)
