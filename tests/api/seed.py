"""Demo data for the API tests and the browser test, written through ``models/`` like a real run.

Three customers, two agents, six calls over three weeks with real Japanese support sentences,
tags, metrics, two topics and (when ``recordings`` is given) a WAV recording per call.
"""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from koe.records import (
    CallAnalysis,
    CallMetrics,
    CallSource,
    EffortScore,
    Interval,
    SentimentSummary,
    TagHit,
    TopicWeight,
    Transcript,
    Utterance,
    UtteranceAnalysis,
)
from models.calls import claim_call, store_results
from models.customers import refresh_summaries
from models.db import transaction
from models.keys import create_key
from models.runs import start_run
from models.topics import TopicDraft, save_topic_model

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

#: (call_id, customer, agent, day offset, topic, [(speaker, text, redacted, sentiment)], tags)
CALLS = [
    ("call-001", "C-1001", "A-01", 0, 0, [
        ("agent", "お電話ありがとうございます、あおばネットの田中です。", "お電話ありがとうございます、あおばネットの田中です。", 0.4),
        ("customer", "先週から回線がつながらないんです。電話番号は090-1234-5678です。", "先週から回線がつながらないんです。電話番号は［電話番号］です。", -0.5),
        ("agent", "ご不便をおかけして申し訳ございません。確認いたします。", "ご不便をおかけして申し訳ございません。確認いたします。", 0.1),
        ("customer", "前にも電話したのに、また同じ説明をしないといけないんですか。", "前にも電話したのに、また同じ説明をしないといけないんですか。", -0.7),
    ], [("repeat_contact", 3), ("repeat_explanation", 3)]),
    ("call-002", "C-1001", "A-02", 7, 0, [
        ("agent", "あおばネットです。ご用件をお伺いします。", "あおばネットです。ご用件をお伺いします。", 0.2),
        ("customer", "まだ回線がつながらないので、解約を考えています。", "まだ回線がつながらないので、解約を考えています。", -0.8),
        ("agent", "担当部署におつなぎしますので、少々お待ちください。", "担当部署におつなぎしますので、少々お待ちください。", 0.0),
    ], [("churn_intent", 1), ("transfer", 2)]),
    ("call-003", "C-1002", "A-01", 1, 1, [
        ("agent", "お電話ありがとうございます。", "お電話ありがとうございます。", 0.4),
        ("customer", "今月の請求金額が高いのですが、理由を教えてください。", "今月の請求金額が高いのですが、理由を教えてください。", -0.2),
        ("agent", "オプション料金が加算されております。", "オプション料金が加算されております。", 0.0),
        ("customer", "わかりました、ありがとうございます。", "わかりました、ありがとうございます。", 0.6),
    ], []),
    ("call-004", "C-1002", "A-02", 9, 1, [
        ("customer", "請求書の送付先を変更したいです。メールは taro@example.com です。", "請求書の送付先を変更したいです。メールは［メール］です。", 0.0),
        ("agent", "かしこまりました。変更を承ります。", "かしこまりました。変更を承ります。", 0.3),
    ], []),
    ("call-005", "C-1003", "A-01", 14, 0, [
        ("customer", "ずっと待たされて、もう三十分です。", "ずっと待たされて、もう三十分です。", -0.6),
        ("agent", "大変お待たせいたしました。", "大変お待たせいたしました。", 0.1),
    ], [("long_wait", 0)]),
    ("call-006", "C-1003", "A-02", 15, 1, [
        ("customer", "支払い方法をクレジットカードに変えたいです。", "支払い方法をクレジットカードに変えたいです。", 0.1),
        ("agent", "お手続きをご案内します。", "お手続きをご案内します。", 0.3),
    ], []),
]
TOPICS = [
    TopicDraft(0, "回線・つながらない", ("回線", "つながる", "工事"), ({"call_id": "call-001", "start_s": 4.0, "text": "先週から回線がつながらないんです。"},)),
    TopicDraft(1, "請求・支払い", ("請求", "料金", "支払い"), ({"call_id": "call-003", "start_s": 4.0, "text": "今月の請求金額が高いのですが、理由を教えてください。"},)),
]
RAW_PHONE = "090-1234-5678"
RAW_EMAIL = "taro@example.com"


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the seed wrote: one key per role and the calls."""

    keys: dict[str, str]
    call_ids: tuple[str, ...]
    recordings: Path | None


def write_wav(path: Path, seconds: float, rate: int = 8000) -> None:
    """A short mono tone as 16-bit PCM WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def seed(url: str, *, recordings: Path | None = None, keep_raw_text: bool = True) -> Seeded:
    """Write the demo calls, topics and one API key per role into the database at ``url``."""
    with transaction(url) as session:
        save_topic_model(session, version="test-1", model={}, drafts=TOPICS, n_documents=len(CALLS))
        keys = {role: create_key(session, role, name=f"test {role}")[0] for role in ("manager", "csm", "data")}
        # The calls were "ingested" from the recordings folder: the audio route serves files inside it.
        run_id = start_run(session, "process_calls", {"source": str(recordings) if recordings else "import.jsonl"})
    for call_id, customer, agent, day, topic, lines, tags in CALLS:
        utterances = []
        t = 0.0
        for speaker, text, _redacted, _s in lines:
            utterances.append(Utterance(speaker, t, t + 3.5, text))  # type: ignore[arg-type]
            t += 4.0
        transcript = Transcript(tuple(utterances), duration_s=t, speakers_separated=True)
        audio = None
        if recordings is not None:
            audio = recordings / f"{call_id}.wav"
            write_wav(audio, min(t, 2.0))
        source = CallSource(
            call_id=call_id,
            sha256=call_id.ljust(64, "0"),
            origin=f"{call_id}.wav",
            audio_path=audio,
            customer_id=customer,
            agent_id=agent,
            started_at=START + timedelta(days=day, hours=day % 3),
        )
        analysis = CallAnalysis(
            utterances=tuple(
                UtteranceAnalysis(i, redacted, s, "negative" if s < -0.3 else "positive" if s > 0.3 else "neutral")
                for i, (_sp, _text, redacted, s) in enumerate(lines)
            ),
            tags=tuple(TagHit(tag, index, index * 4.0, lines[index][2], rule=f"{tag}-rule") for tag, index in tags),
            categories=(),
            sentiment=SentimentSummary(
                customer_mean=sum(s for sp, *_r, s in lines if sp == "customer") / max(1, sum(sp == "customer" for sp, *_ in lines)),
                agent_mean=0.2,
                customer_start=None,
                customer_end=None,
                trajectory="worsening" if tags else "neutral",
            ),
            effort=EffortScore(index=20.0 * len(tags), do_effort=10.0 * len(tags), feel_effort=10.0 * len(tags)),
        )
        metrics = CallMetrics(
            duration_s=t, talk_s_agent=t / 2, talk_s_customer=t / 2, talk_s_unknown=0.0, talk_ratio_agent=0.5,
            silence_count=1, silence_s=0.5, longest_silence_s=0.5, silence_ratio=0.05, overtalk_count=1,
            overtalk_s=0.3, hold_count=1 if tags else 0, hold_s=2.0 if tags else 0.0, turn_count=len(lines),
            speaking_rate_agent=7.5, speaking_rate_customer=8.0,
            silences=(Interval(3.5, 4.0),), overtalks=(Interval(7.3, 7.6, "customer"),),
            holds=(Interval(1.0, 3.0),) if tags else (),
        )
        with transaction(url) as session:
            claim = claim_call(session, source, worker="seed")
        assert claim.call_pk is not None
        with transaction(url) as session:
            store_results(
                session,
                claim.call_pk,
                transcript=transcript,
                metrics=metrics,
                analysis=analysis,
                topics=(TopicWeight(topic, TOPICS[topic].label, 1.0),),
                keep_raw_text=keep_raw_text,
                run_id=run_id,
            )
    with transaction(url) as session:
        refresh_summaries(session, sorted({c[1] for c in CALLS}), now=START + timedelta(days=20))
    return Seeded(keys, tuple(c[0] for c in CALLS), recordings)
