"""``koe customers`` and ``koe churn``: summaries, briefs, exports and the churn model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.context import JsonOption, console, fail, in_session, print_json, settings
from koe.errors import KoeError

customers_app = typer.Typer(help="Customer summaries, churn risk and briefs.", no_args_is_help=True)
churn_app = typer.Typer(help="Churn models.", no_args_is_help=True)


@customers_app.command("show")
def customers_show(customer_id: str, as_json: JsonOption = False) -> None:
    """Show a customer's summary: contacts, repeat contacts, topics, tags, effort, churn risk and why."""
    from api.presenters import customer_detail

    detail = in_session(settings(), lambda session: customer_detail(session, customer_id))
    if as_json:
        print_json(detail)
        return
    risk = detail["churn_risk"]
    console.print(
        f"[bold]{detail['customer_id']}[/] calls={detail['call_count']} churn risk {risk['level']} ({risk['score']:.2f})",
        highlight=False,
    )
    for reason in risk["reasons"]:
        console.print(f"  {reason['factor']}: +{reason['contribution']:.2f}", highlight=False)


@customers_app.command("brief")
def customers_brief(customer_id: str, as_json: JsonOption = False) -> None:
    """What to know before calling this customer: risk and why, open issues, recent effort with quotes."""
    from api.presenters import customer_brief

    brief = in_session(settings(), lambda session: customer_brief(session, customer_id))
    print_json(brief) if as_json else console.print_json(data=brief)


@customers_app.command("list")
def customers_list(
    order: Annotated[str, typer.Option(help="churn_risk or last_contact.")] = "churn_risk",
    level: Annotated[str | None, typer.Option(help="Only this risk level: low, medium or high.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Cursor from the previous page.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Customers ranked by churn risk (or by last contact), with level and top reason."""
    from api.presenters import list_customers

    if order not in ("churn_risk", "last_contact"):
        fail(KoeError(f"--order {order!r} must be churn_risk or last_contact"))
    items, next_cursor = in_session(
        settings(),
        lambda session: list_customers(session, order=order, level=level, limit=limit, cursor=cursor),  # type: ignore[arg-type]
    )
    if as_json:
        print_json({"items": items, "next_cursor": next_cursor})
        return
    for item in items:
        console.print(
            f"{item['customer_id']:>12}  {item['churn_risk']['level']:>6} {item['churn_risk']['score']:.2f}  "
            f"{item.get('top_reason_label') or ''}",
            highlight=False,
        )


@customers_app.command("export")
def customers_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default: standard output).")] = None,
) -> None:
    """Export every customer summary with its churn score and top reasons, for CRMs and BI tools."""
    import csv

    from api.presenters import export_customers

    if fmt not in ("csv", "jsonl"):
        fail(KoeError(f"--format {fmt!r} must be csv or jsonl"))
    rows = in_session(settings(), lambda session: list(export_customers(session)))
    handle = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == "jsonl":
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        elif rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in row.items()})
    finally:
        if output:
            handle.close()
    console.print(f"exported {len(rows)} customers")


@churn_app.command("train")
def churn_train(
    labels: Annotated[Path, typer.Option(help="CSV with customer_id,churned (1/0, true/false).")],
    as_json: JsonOption = False,
) -> None:
    """Fit a calibrated churn model on known outcomes, report cross-validated ROC AUC, and rescore everyone."""
    from flows.customers import refresh_customers
    from models.churn_model import train_churn_from_csv
    from models.customers import all_customer_ids

    config = settings()
    report = in_session(config, lambda session: train_churn_from_csv(session, labels))
    ids = in_session(config, all_customer_ids)
    try:
        report["customers_rescored"] = refresh_customers(config, ids)
    except KoeError as exc:
        fail(exc)
    if as_json:
        print_json(report)
        return
    console.print_json(data=report)
