"""The ``koe`` command: every command group, assembled.

Every ``--json`` output has the same shape as the matching API response.
"""

from __future__ import annotations

import typer

from cli.admin import db_app, keys_app, sentiment_app, serve
from cli.customers import churn_app, customers_app
from cli.ingest import demo, ingest
from cli.privacy import customers_forget, customers_unforget, purge
from cli.reports import calls_app, topics_app

app = typer.Typer(
    name="koe",
    help="koe (声): Japanese support calls in, Voice-of-Customer insight out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(ingest)
app.command()(demo)
app.command()(purge)
app.command()(serve)
customers_app.command("forget")(customers_forget)
customers_app.command("unforget")(customers_unforget)
app.add_typer(sentiment_app, name="sentiment")
app.add_typer(customers_app, name="customers")
app.add_typer(topics_app, name="topics")
app.add_typer(churn_app, name="churn")
app.add_typer(calls_app, name="calls")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")


def main() -> None:
    """Entry point of the ``koe`` script and ``python -m cli``."""
    app()
