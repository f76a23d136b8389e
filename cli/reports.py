"""``koe calls show`` and ``koe topics report``: what managers read, in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.context import JsonOption, console, fail, in_session, print_json, settings
from koe.errors import KoeError

calls_app = typer.Typer(help="Look at processed calls.", no_args_is_help=True)
topics_app = typer.Typer(help="Topic reports.", no_args_is_help=True)


@calls_app.command("show")
def calls_show(
    call_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON (same shape as GET /calls/{id}).")] = False,
) -> None:
    """Show one call: transcript (redacted), metrics, topics, tags, sentiment and effort."""
    from models.call_detail import call_detail

    detail = in_session(settings(), lambda session: call_detail(session, call_id))
    if as_json:
        print_json(detail)
        return
    console.print(
        f"[bold]{detail['call_id']}[/] customer={detail['customer_id']} agent={detail['agent_id']} "
        f"status={detail['status']} effort={detail['effort_index']}",
        highlight=False,
    )
    if detail["error"]:
        console.print(f"[red]{detail['error']}[/]", highlight=False)
    for utterance in detail["utterances"]:
        console.print(
            f"{utterance['start_s']:7.1f}s {utterance['speaker']:>8}: {utterance['text']}", highlight=False
        )
    for tag in detail["tags"]:
        console.print(f"  [yellow]#{tag['tag']}[/] @{tag['start_s']:.1f}s 「{tag['evidence']}」", highlight=False)


@topics_app.command("report")
def topics_report(
    since: Annotated[str | None, typer.Option(help="ISO 8601 start (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 end (exclusive).")] = None,
    granularity: Annotated[str, typer.Option(help="day, week or month.")] = "week",
    as_json: JsonOption = False,
) -> None:
    """Per topic: volume, share, weekly trend, sentiment, effort, top tags and quotes."""
    from koe.fields import parse_started_at
    from models.topic_report import topic_report

    if granularity not in ("day", "week", "month"):
        fail(KoeError(f"--granularity {granularity!r} must be day, week or month"))
    try:
        start, end = parse_started_at(since, "--since"), parse_started_at(until, "--until")
    except KoeError as exc:
        fail(exc)
    report = in_session(
        settings(),
        lambda session: topic_report(session, since=start, until=end, granularity=granularity),  # type: ignore[arg-type]
    )
    if as_json:
        print_json(report)
        return
    for topic in report["topics"]:
        console.print(
            f"{topic['topic_id']:>3} {topic['label']:<30} calls={topic['volume']} share={topic['share']:.0%}",
            highlight=False,
        )


def _editor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@topics_app.command("rename")
def topics_rename(topic_id: int, label: str, as_json: JsonOption = False) -> None:
    """Give a topic your own name; it is kept across refits and reprocessing."""
    from models.topic_edits import rename_topic

    result = in_session(settings(), lambda session: rename_topic(session, topic_id, label, by=_editor()))
    print_json(result) if as_json else console.print(f"topic {topic_id} is now 「{result['label']}」")


@topics_app.command("merge")
def topics_merge(
    topic_id: int,
    into: Annotated[int, typer.Option(help="The topic whose calls the merged topic's calls join.")],
    as_json: JsonOption = False,
) -> None:
    """Count a topic's calls for another topic, in history and in every refit from now on."""
    from models.topic_edits import merge_topic

    result = in_session(settings(), lambda session: merge_topic(session, topic_id, into, by=_editor()))
    print_json(result) if as_json else console.print(f"topic {topic_id} now counts for topic {result['merged_into']}")


@topics_app.command("edits")
def topics_edits(as_json: JsonOption = False) -> None:
    """Every rename and merge made so far: which topic, by whom and when."""
    from models.topic_edits import list_topic_edits

    edits = in_session(settings(), list_topic_edits)
    if as_json:
        print_json(edits)
        return
    for edit in edits:
        target = f"→ {edit['into_topic_id']}" if edit["action"] == "merge" else f"「{edit['label']}」"
        console.print(f"{edit['edited_at']} {edit['edited_by']}: {edit['action']} {edit['topic_id']} {target}", highlight=False)
