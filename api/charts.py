"""Inline SVG charts for the pages: geometry computed here, drawn by the templates.

No chart library (everything offline): a line chart of topic volume per period, the call timeline
bar (talk, silence, overtalk, hold) and a customer's per-call sentiment/effort timeline. Sizes are
SVG user units; the SVGs scale to their container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Colour-blind-safe palette (Okabe-Ito), readable on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933")


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its label, colour and SVG points."""

    label: str
    colour: str
    points: str
    dots: tuple[tuple[float, float, str], ...]


@dataclass(frozen=True, slots=True)
class LineChart:
    """A line chart's geometry."""

    width: int
    height: int
    series: tuple[Series, ...]
    x_labels: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    plot: tuple[float, float, float, float]  # left, top, right, bottom


def volume_chart(periods: list[str], topics: list[dict[str, Any]], *, width: int = 760, height: int = 260) -> LineChart:
    """Calls per period for each topic (at most :data:`PALETTE` topics, largest first)."""
    left, top, right, bottom = 48.0, 12.0, width - 12.0, height - 36.0
    shown = topics[: len(PALETTE)]
    peak = max((p["calls"] for t in shown for p in t["trend"]), default=0) or 1
    step = (right - left) / max(len(periods) - 1, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - top) * value / peak, 1)

    series = []
    for colour, topic in zip(PALETTE, shown, strict=False):
        xy = [(round(left + i * step, 1), y(p["calls"]), f"{p['period']}: {p['calls']}件") for i, p in enumerate(topic["trend"])]
        series.append(Series(str(topic["label"]), colour, " ".join(f"{a},{b}" for a, b, _ in xy), tuple(xy)))
    every = max(1, len(periods) // 8)
    x_labels = tuple((round(left + i * step, 1), p[5:]) for i, p in enumerate(periods) if i % every == 0)
    y_ticks = tuple((y(v), str(v)) for v in sorted({0, peak // 2, peak}))
    return LineChart(width, height, tuple(series), x_labels, y_ticks, (left, top, right, bottom))


@dataclass(frozen=True, slots=True)
class Segment:
    """A rectangle of the call timeline bar."""

    kind: str
    x: float
    width: float
    y: float
    height: float
    title: str
    start_s: float


@dataclass(slots=True)
class Timeline:
    """The call timeline bar: lanes of talk (agent, customer), silence, overtalk and hold."""

    width: int
    height: int
    duration_s: float
    segments: list[Segment] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)


LANES = {"agent": 0, "customer": 1, "silence": 2, "overtalk": 2, "hold": 2}
LANE_NAMES = ("オペレーター", "お客様", "無音・被り・保留")


def mmss(seconds: float | None) -> str:
    """``m:ss`` text of a time in seconds."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def call_timeline(detail: dict[str, Any], *, width: int = 760, lane_h: int = 18) -> Timeline:
    """The timeline bar of a call (``models.call_detail.call_detail`` shape)."""
    duration = float(detail.get("duration_s") or 0.0) or max((u["end_s"] for u in detail["utterances"]), default=1.0)
    left, usable = 100.0, width - 110.0
    timeline = Timeline(width, lane_h * 3 + 30, duration)

    def add(kind: str, start: float, end: float, title: str) -> None:
        x = left + usable * max(start, 0.0) / duration
        w = max(usable * max(end - start, 0.0) / duration, 1.0)
        lane = LANES[kind]
        timeline.segments.append(Segment(kind, round(x, 1), round(w, 1), lane * lane_h + 4, lane_h - 6, title, start))

    for u in detail["utterances"]:
        kind = "agent" if u["speaker"] == "agent" else "customer"
        add(kind, u["start_s"], u["end_s"], f"{mmss(u['start_s'])} {u['text'][:40]}")
    intervals = (detail.get("metrics") or {}).get("intervals") or {}
    names = {"silences": ("silence", "無音"), "overtalks": ("overtalk", "被り"), "holds": ("hold", "保留")}
    for key, (kind, label) in names.items():
        for i in intervals.get(key, []):
            add(kind, i["start_s"], i["end_s"], f"{label} {mmss(i['start_s'])}–{mmss(i['end_s'])}")
    step = max(10.0, round(duration / 6 / 10) * 10)
    t = 0.0
    while t <= duration:
        timeline.ticks.append((round(left + usable * t / duration, 1), mmss(t)))
        t += step
    return timeline


@dataclass(frozen=True, slots=True)
class CallPoint:
    """One call on the customer timeline."""

    call_id: str
    x: float
    y_sentiment: float | None
    effort_y: float | None
    effort_h: float
    title: str


def customer_timeline(calls: list[dict[str, Any]], *, width: int = 760, height: int = 200) -> dict[str, Any]:
    """Per-call sentiment (line, [-1, 1]) and effort (bars, 0-100), oldest call on the left."""
    ordered = list(reversed(calls))
    left, right, top, bottom = 48.0, width - 48.0, 12.0, height - 28.0
    step = (right - left) / max(len(ordered) - 1, 1)
    mid = (top + bottom) / 2
    points = []
    for i, call in enumerate(ordered):
        x = round(left + i * step, 1) if len(ordered) > 1 else (left + right) / 2
        s = call.get("customer_sentiment")
        e = call.get("effort_index")
        y_s = round(mid - (mid - top) * float(s), 1) if s is not None else None
        effort_h = round((bottom - top) * float(e) / 100.0, 1) if e is not None else 0.0
        date = (call.get("started_at") or "")[:10]
        title = f"{date} {call['call_id']}: 感情 {s if s is not None else '-'} / 負担 {e if e is not None else '-'}"
        points.append(CallPoint(call["call_id"], x, y_s, round(bottom - effort_h, 1) if e is not None else None, effort_h, title))
    line = " ".join(f"{p.x},{p.y_sentiment}" for p in points if p.y_sentiment is not None)
    return {"width": width, "height": height, "points": points, "line": line, "top": top, "bottom": bottom, "mid": mid, "left": left, "right": right}
