"""Generate bench/data/textmining_eval.jsonl: labelled Japanese support calls for bench/textmining.py.

The phrase banks below were written BEFORE the tag/category rules in textmining/rules/, from how
callers actually talk (polite, casual, Kansai-ish, ASR slips), not from the rules. Calls are composed
with a seeded RNG: greeting, identity check with PII, the topic's problem, optional effort/frustration
episodes, distractors that look like tags but are not (negated churn, agent apologies, 「前回の件は解決
しました」), optional hold, and a resolved or unresolved close. ASR-like noise drops punctuation,
swaps kanji for kana, inserts fillers and mixes widths.

A held-out split (``"split": "heldout"``) uses separate phrase banks (``*_HELDOUT``) with different
wording from the main banks, so the bench can report how rules generalise beyond what their author
had in mind. Labels come from the generator's ground truth.

Run: ``.venv/bin/python bench/make_textmining_eval.py`` (deterministic; seed below).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261123
N_MAIN = 150
N_HELDOUT = 50
OUT = Path(__file__).parent / "data" / "textmining_eval.jsonl"

# A segment is (text, pii_type | None). A phrase is (segments-or-text, sentiment | None).
SURNAMES = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "山本",
            "松本", "井上", "木村", "清水", "山口", "池田", "橋本", "石川", "前田", "藤田", "岡田", "後藤",
            "長谷川", "村上", "近藤", "石井", "坂本", "遠藤", "青木", "藤井", "西村", "福田", "太田", "三浦"]
GIVEN = ["太郎", "花子", "健一", "美咲", "翔太", "由美", "大輔", "恵子", "誠", "直子", "拓也", "陽子"]
COMPANIES = ["さくらネット", "ひかり通信", "あおばモバイル", "みらいでんき"]
DOMAINS = ["example.com", "example.co.jp", "mail.example.ne.jp", "docomo.example.jp"]
ADDRESSES = [
    "東京都港区芝公園4-2-8", "大阪府大阪市北区梅田1丁目2番3号", "神奈川県横浜市中区山下町2-5",
    "愛知県名古屋市中村区名駅3丁目4番10号", "福岡県福岡市博多区博多駅前2-1-1", "北海道札幌市中央区北1条西2丁目1",
    "京都府京都市左京区下鴨本町12", "埼玉県さいたま市浦和区高砂3-15-1", "千葉県船橋市本町1丁目3番1号",
    "兵庫県神戸市中央区三宮町1-9-1",
]
KANJI_DIGITS = "〇一二三四五六七八九"
SPOKEN_DIGITS = [["ゼロ", "まる", "れい"], ["いち"], ["に", "にー"], ["さん"], ["よん"], ["ご", "ごー"],
                 ["ろく"], ["なな"], ["はち"], ["きゅう", "きゅー"]]
SPOKEN_DIGITS_KATA = ["ゼロ", "イチ", "ニー", "サン", "ヨン", "ゴー", "ロク", "ナナ", "ハチ", "キュー"]

# ---------------------------------------------------------------- PII renderers


def _luhn_complete(prefix: str, rng: random.Random, length: int = 16) -> str:
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


def _phone_digits(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(["090", "080", "070"]) + "".join(rng.choice("0123456789") for _ in range(8))
    return rng.choice(["03", "06"]) + "".join(rng.choice("0123456789") for _ in range(8))


def _groups(d: str) -> list[str]:
    return [d[:3], d[3:7], d[7:]] if len(d) == 11 else [d[:2], d[2:6], d[6:]]


def render_phone(rng: random.Random) -> str:
    d = _phone_digits(rng)
    g = _groups(d)
    style = rng.randrange(8)
    if style == 0:
        return "-".join(g)
    if style == 1:
        return d
    if style == 2:
        return "－".join(g).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if style == 3:
        return "の".join("".join(KANJI_DIGITS[int(c)] for c in part) for part in g)
    if style == 4:
        return "の".join("".join(rng.choice(SPOKEN_DIGITS[int(c)]) for c in part) for part in g)
    if style == 5:
        return "の".join("".join(SPOKEN_DIGITS_KATA[int(c)] for c in part) for part in g)
    if style == 6:
        return "+81 " + " ".join([g[0][1:], g[1], g[2]])
    return " ".join(g)


def render_email(rng: random.Random) -> str:
    user = rng.choice(["taro.yamada", "h-sato", "suzuki1985", "k.tanaka", "miyu_ito", "nakamura.k"])
    dom = rng.choice(DOMAINS)
    if rng.random() < 0.5:
        return f"{user}@{dom}"
    spoken_dom = " ドット ".join(dom.split("."))
    return f"{user} アットマーク {spoken_dom}"


def render_card(rng: random.Random) -> str:
    n = _luhn_complete(rng.choice(["4", "5", "35", "37"]), rng, 16)
    style = rng.randrange(3)
    if style == 0:
        return " ".join(n[i:i + 4] for i in range(0, 16, 4))
    if style == 1:
        return "-".join(n[i:i + 4] for i in range(0, 16, 4))
    return n


def render_postal(rng: random.Random) -> str:
    p = f"{rng.randrange(100, 999)}-{rng.randrange(0, 9999):04d}"
    return "〒" + p if rng.random() < 0.5 else p


def render_account(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 10, 12])))


# ---------------------------------------------------------------- phrase banks (main)
# Customer problem statements per topic: (text, sentiment).
TOPICS: dict[str, list[tuple[str, str | None]]] = {
    "請求・料金": [
        ("今月の請求額がいつもより高いんですけど", "negative"),
        ("請求書を見たら身に覚えのない料金が入ってて", "negative"),
        ("先月の利用料金が二重に引き落とされてるみたいなんです", "negative"),
        ("料金の内訳について教えてほしいんですが", "neutral"),
        ("請求がおかしいと思うんだよね、オプション料金って何", "negative"),
        ("明細に知らない有料オプションが載ってるんですけど", "negative"),
        ("割引が適用されてない気がするんですが確認してもらえますか", None),
        ("今月の請求金額の確認をしたくてお電話しました", "neutral"),
    ],
    "通信障害": [
        ("昨日の夜からインターネットがつながらないんです", "negative"),
        ("ネットが急に遅くなって動画も見られないんですよ", "negative"),
        ("ルーターのランプが赤く点滅してて通信できません", "negative"),
        ("朝から回線が切れたりつながったりしてて困ってます", "negative"),
        ("wifiが全然つながらへんのやけど障害ですか", "negative"),
        ("在宅勤務なのにネットが使えなくて仕事にならないんです", "negative"),
        ("通信障害が起きてるか知りたくてお電話しました", "neutral"),
        ("光回線の速度がすごく遅いんですけど", "negative"),
    ],
    "ログイン・アカウント": [
        ("マイページにログインできなくなってしまって", "negative"),
        ("パスワードを忘れてしまってログインできないんです", "negative"),
        ("IDとパスワードを入れてもエラーになります", "negative"),
        ("アカウントがロックされたみたいで入れないんですけど", "negative"),
        ("登録してるメールアドレスを変更したいんですが", "neutral"),
        ("二段階認証のコードが届かなくてログインできない", "negative"),
        ("会員ページのパスワード再設定のやり方を教えてください", "neutral"),
    ],
    "プラン変更": [
        ("今のプランから安いプランに変えたいんですが", "neutral"),
        ("料金プランの変更をお願いしたいんです", "neutral"),
        ("データ容量の大きいプランに変更できますか", "neutral"),
        ("家族割のプランに切り替えたいと思って", "neutral"),
        ("プランを見直したいので相談させてください", "neutral"),
        ("ギガが足りないので上のプランにしたいんだけど", "neutral"),
        ("オプションを外してプランを変えたいです", "neutral"),
    ],
    "機器・配送": [
        ("注文したルーターがまだ届かないんですけど", "negative"),
        ("届いたモデムの電源が入らないんです", "negative"),
        ("配送予定日を過ぎても機器が来ないんですが", "negative"),
        ("送られてきた端末が壊れてたんですよ", "negative"),
        ("機器の交換をお願いしたいんですが", "neutral"),
        ("レンタルのルーターを返却したいんですけどどこに送ればいいですか", "neutral"),
        ("宅配の再配達の日にちを変えたいんです", "neutral"),
    ],
    "支払い方法": [
        ("支払い方法をクレジットカードに変更したいんですが", "neutral"),
        ("口座振替から払込票に変えられますか", "neutral"),
        ("カードの有効期限が切れたので登録し直したいんです", "neutral"),
        ("引き落とし口座を別の銀行にしたいんですけど", "neutral"),
        ("コンビニ払いの用紙が届かないんですが", "negative"),
        ("支払いが遅れてしまったんですけどどうすればいいですか", "negative"),
        ("請求書払いをやめてカード払いにしたいです", "neutral"),
    ],
    "解約": [],  # the problem statement is a churn_intent phrase
}

TOPIC_AGENT: dict[str, list[str]] = {
    "請求・料金": ["ご請求内容を確認いたします", "明細を拝見しますとオプション料金が計上されております",
               "こちらは日割りの料金となっております", "差額は来月のご請求で調整させていただきます"],
    "通信障害": ["現在お客様の地域で障害は発生しておりません", "一度ルーターの電源を抜いて再起動していただけますか",
              "回線の状態をこちらで確認いたします", "ケーブルがしっかり差し込まれているかご確認ください"],
    "ログイン・アカウント": ["パスワードの再設定のご案内をいたします", "アカウントのロックを解除いたしました",
                   "ご登録のメールアドレスに認証コードをお送りします", "ログインIDはご契約書に記載がございます"],
    "プラン変更": ["プランの変更は来月一日から適用となります", "こちらのプランですと月額が千円ほどお安くなります",
              "変更の手数料はかかりません", "ご利用状況ですとこちらのプランがおすすめです"],
    "機器・配送": ["配送状況をお調べいたします", "新しい機器を本日発送いたします",
              "返却用の箱をお送りいたします", "配送業者に確認いたします"],
    "支払い方法": ["お支払い方法の変更を承ります", "変更の書類をご郵送いたします",
              "マイページからもカード情報の変更ができます", "次回のご請求分から変更となります"],
    "解約": ["解約のお手続きについてご案内いたします", "違約金が発生する場合がございます",
           "解約日は月末でよろしいでしょうか", "よろしければ割引のご案内もできますが"],
}

TAGS_MAIN: dict[str, list[tuple[str, str | None]]] = {
    "repeat_contact": [
        ("前にも同じことで電話したんですけど", "negative"), ("先週も問い合わせたんですが", None),
        ("これで電話するの三回目なんですよ", "negative"), ("何度も連絡してるんですけど", "negative"),
        ("昨日もお電話したんですけど", None), ("この前も同じ件で電話したよね", "negative"),
        ("以前にも問い合わせをした件なんですが", None), ("先月もこの件で連絡しとるんやけど", "negative"),
        ("もう何回も電話してるんだけど", "negative"), ("前回問い合わせた時は確認しますって言われて", None),
    ],
    "repeat_explanation": [
        ("さっきも言いましたけど", "negative"), ("同じ説明を何回もさせられてるんですけど", "negative"),
        ("前の人にも説明したんですが", None), ("だから何度も言ってるじゃないですか", "negative"),
        ("また最初から説明しないといけないんですか", "negative"), ("先ほどもお伝えしたんですけど", None),
        ("それもう言ったよね", "negative"), ("前の担当の方に全部話したんですけど", None),
    ],
    "escalation_request": [
        ("上の人を出してください", "negative"), ("責任者の方に代わってもらえますか", "negative"),
        ("上司と話させてください", "negative"), ("あなたじゃ話にならないので上の方お願いします", "negative"),
        ("責任者を呼んでくれ", "negative"), ("管理職の方とお話しできますでしょうか", None),
        ("もっと上の人に代わって", "negative"), ("スーパーバイザーの方に代わっていただけませんか", None),
    ],
    "long_wait": [
        ("電話が全然つながらなくて", "negative"), ("三十分も待たされたんですけど", "negative"),
        ("何度かけても話し中で", "negative"), ("ずっと待たされてやっとつながったんですよ", "negative"),
        ("電話がなかなかつながらなかったんですけど", "negative"), ("一時間近く待ってたんですよ", "negative"),
        ("待ち時間が長すぎますよ", "negative"), ("ずっと保留音聞かされてたんやけど", "negative"),
    ],
    "churn_intent": [
        ("解約したいんですけど", None), ("もう解約しようと思ってます", "negative"),
        ("他社に乗り換えようと思っています", None), ("こんなことならもう辞めます", "negative"),
        ("解約の手続きをお願いします", None), ("契約をやめたいんですが", None),
        ("他の会社に変えようかなって考えてて", None), ("もう解約するわ", "negative"),
        ("解約させていただきたいのですが", None), ("正直もう乗り換えを検討してます", "negative"),
    ],
    "anger": [
        ("ふざけないでください", "negative"), ("いい加減にしてください", "negative"),
        ("どうなってるんですか本当に", "negative"), ("ありえないでしょこれ", "negative"),
        ("本当に腹が立ちます", "negative"), ("ちょっと信じられないんですけど", "negative"),
        ("なめてるんですか", "negative"), ("いい加減にしろよ", "negative"),
        ("こっちは本当に怒ってるんですよ", "negative"), ("ほんまに頭にくるわ", "negative"),
    ],
    "channel_switch": [
        ("チャットで問い合わせたんですが", None), ("メールで問い合わせても返事がなくて", "negative"),
        ("ホームページを見てもわからなくて", "negative"), ("アプリから手続きしようとしたんですができなくて", "negative"),
        ("ウェブのお問い合わせフォームから送ったんですけど", None), ("ショップに行ったら電話してくれって言われて", None),
        ("FAQも見たんですけど解決しなくて", "negative"), ("チャットボットじゃ埒があかなくて", "negative"),
    ],
}

# Agent transfers (agent speaker).
TRANSFER_MAIN = ["担当部署にお繋ぎいたします", "専門の窓口におつなぎしますので少々お待ちください",
                 "技術担当の者に代わります", "担当の部署へ転送いたします",
                 "こちらでは分かりかねますので担当窓口へお電話をお回しします", "係の者に替わりますね"]
# Unresolved closing lines: (speaker, text).
UNRESOLVED_MAIN = [("agent", "確認して折り返しご連絡いたします"), ("agent", "後日担当者からご連絡いたします"),
                   ("customer", "結局解決してないじゃないですか"), ("customer", "まだ直ってないんですけど"),
                   ("agent", "調査に数日かかりますので結果が分かり次第ご連絡します"),
                   ("customer", "じゃあ今日は何も解決しないってことですね")]
RESOLVED_CLOSE = [("customer", "直りました、ありがとうございます", "positive"),
                  ("customer", "助かりました、ありがとうございました", "positive"),
                  ("customer", "わかりました、ありがとうございます", "positive"),
                  ("customer", "ああ、できました。よかったです", "positive"),
                  ("customer", "了解です、それでお願いします", "neutral"),
                  ("customer", "丁寧にありがとうございました", "positive")]

# Distractors: look like a tag, are not. (speaker, text, sentiment)
DISTRACTORS: list[tuple[str, str, str | None]] = [
    ("customer", "解約はしません", "neutral"), ("customer", "解約するつもりはないんですけど", "neutral"),
    ("customer", "解約じゃなくてプランを変えたいだけです", "neutral"),
    ("customer", "別に怒ってないですよ", "neutral"), ("customer", "怒ってるわけじゃないんですけど", "neutral"),
    ("customer", "前回の件は解決しました、今日は別の件で", "positive"),
    ("customer", "初めて電話するんですけど", "neutral"),
    ("agent", "お待たせいたしました", None), ("agent", "お待たせして申し訳ございません", None),
    ("agent", "ご不便をおかけして大変申し訳ございません", None),
    ("agent", "念のためもう一度確認させてください", None),
    ("agent", "恐れ入りますがもう一度お伺いしてもよろしいでしょうか", None),
    ("agent", "詳しくはホームページをご覧ください", None),
    ("agent", "メールでもご案内をお送りします", None),
    ("agent", "責任者に確認いたします", None),
    ("agent", "解約をご希望の場合は違約金がかかります", None),
    ("customer", "上司に相談してからまた決めます", "neutral"),
    ("customer", "他社に乗り換えるつもりはないです", "neutral"),
]

# ---------------------------------------------------------------- phrase banks (held-out)
# Different wording, written separately; never used to write or tune the rules.
TAGS_HELDOUT: dict[str, list[tuple[str, str | None]]] = {
    "repeat_contact": [
        ("おととい窓口に問い合わせた件の続きなんですが", None), ("この件でお電話するのもう四回目なんですよ", "negative"),
        ("以前相談したのにまだ片付いてなくて", "negative"), ("先日お電話した者なんですけど", None),
        ("何べんも電話かけてるんですよこっちは", "negative"), ("前にも連絡させてもらったんですが", None),
    ],
    "repeat_explanation": [
        ("さっきの方にも同じ話をしたんですが", None), ("何回同じこと言わせるんですか", "negative"),
        ("ですから先ほど申し上げた通りです", None), ("また一から話さなきゃいけないの", "negative"),
        ("それはさっき言いました", "negative"),
    ],
    "escalation_request": [
        ("上の者を出してもらえますか", "negative"), ("担当じゃなくて責任者と話したいです", "negative"),
        ("あなたの上司に代わってください", "negative"), ("もういいから上の人呼んで", "negative"),
        ("責任ある立場の方と話をさせてください", "negative"),
    ],
    "long_wait": [
        ("つながるまで二十分かかりましたよ", "negative"), ("電話が全くつながらない状態でした", "negative"),
        ("かけてもかけても混み合ってますって言われて", "negative"), ("ずいぶん長いこと待ちましたよ", "negative"),
        ("朝からずっとかけててやっとつながった", "negative"),
    ],
    "churn_intent": [
        ("もう契約を打ち切りたいんです", "negative"), ("よそに変えるつもりです", None),
        ("今月いっぱいで解約したいと考えております", None), ("ほかの会社に移ろうと思いまして", None),
        ("退会の手続きをしたいんですが", None), ("もうこのサービスはやめにします", "negative"),
    ],
    "anger": [
        ("ちょっといい加減にしてもらえませんか", "negative"), ("冗談じゃないですよ", "negative"),
        ("本当に頭にきてるんです", "negative"), ("どういうことなんですかこれは", "negative"),
        ("ふざけてるの", "negative"), ("正直ものすごく腹立たしいです", "negative"),
    ],
    "channel_switch": [
        ("チャットの方でも聞いたんですけど", None), ("メールを送ったのに返信が来なくて", "negative"),
        ("サイトのよくある質問を読んでも書いてなくて", "negative"), ("お店の人に聞いても分からないって言われて", "negative"),
        ("問い合わせフォームから連絡したんですが", None),
    ],
}
TRANSFER_HELDOUT = ["ただいま担当部署にお電話をおつなぎいたします", "専門のスタッフへ転送させていただきます",
                    "別の窓口の者と交代いたします", "担当の者にお電話を代わらせていただきます"]
UNRESOLVED_HELDOUT = [("agent", "改めてこちらからお電話いたします"), ("customer", "まだ問題は解決してないですよね"),
                      ("agent", "担当部署から追ってご連絡させていただきます"),
                      ("customer", "全然解決になってないんですが")]

GREETINGS = ["お電話ありがとうございます。{co}サポートセンターの{name}でございます",
             "お待たせいたしました。{co}カスタマーセンター、担当の{name}です",
             "はい、{co}お客様窓口の{name}が承ります",
             "お電話ありがとうございます、{co}の{name}と申します"]
ID_REQUESTS = ["ご本人様確認のため、ご契約者様のお名前とお電話番号をお願いいたします",
               "恐れ入りますが、ご登録のお電話番号をお伺いできますか",
               "お客様情報を確認させていただきます"]
FILLERS = ["えーと", "あの", "まあ", "えー", "あのー", "そのー", "えっと"]
KANA_SWAPS = {"解約": "かいやく", "請求": "せいきゅう", "電話": "でんわ", "前回": "ぜんかい", "上司": "じょうし",
              "担当": "たんとう", "確認": "かくにん", "説明": "せつめい", "料金": "りょうきん", "問い合わせ": "といあわせ",
              "責任者": "せきにんしゃ", "連絡": "れんらく", "待た": "また", "乗り換え": "のりかえ", "何度": "なんど"}


def noisy(text: str, rng: random.Random, *, first: bool = True) -> str:
    """ASR-like noise on a non-PII segment."""
    if rng.random() < 0.45:
        text = text.replace("、", "").replace("。", "").replace("？", "")
    if rng.random() < 0.3:
        for k, v in KANA_SWAPS.items():
            if k in text and rng.random() < 0.6:
                text = text.replace(k, v)
    if rng.random() < 0.15:
        text = text.replace("を", "", 1)  # dropped particle
    if first and rng.random() < 0.3 and text:
        text = rng.choice(FILLERS) + ("、" if rng.random() < 0.5 else "") + text
    return text


class CallBuilder:
    """Accumulates utterances with timings and labels."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = 0.0
        self.utts: list[dict[str, object]] = []

    def say(self, speaker: str, segments: list[tuple[str, str | None]] | str, sentiment: str | None = None,
            gap_s: float | None = None, noise: bool = True) -> None:
        if isinstance(segments, str):
            segments = [(segments, None)]
        parts, pii = [], []
        for k, (text, ptype) in enumerate(segments):
            if ptype is None:
                parts.append(noisy(text, self.rng, first=k == 0) if noise else text)
            else:
                parts.append(text)
                pii.append({"type": ptype, "text": text})
        text = "".join(parts)
        self.t += gap_s if gap_s is not None else self.rng.uniform(0.2, 1.5)
        dur = max(1.0, len(text) * self.rng.uniform(0.11, 0.16))
        utt: dict[str, object] = {"speaker": speaker, "start_s": round(self.t, 2), "end_s": round(self.t + dur, 2),
                                  "text": text}
        if sentiment:
            utt["sentiment"] = sentiment
        if pii:
            utt["pii"] = pii
        self.utts.append(utt)
        self.t += dur


def build_call(i: int, split: str, rng: random.Random) -> dict[str, object]:
    heldout = split == "heldout"
    tag_bank = TAGS_HELDOUT if heldout else TAGS_MAIN
    topic = rng.choice(list(TOPICS))
    tags: set[str] = set()
    b = CallBuilder(rng)
    agent_name = rng.choice(SURNAMES)
    co = rng.choice(COMPANIES)
    greet = rng.choice(GREETINGS).split("{name}")
    b.say("agent", [(greet[0].format(co=co), None), (agent_name, "name"), (greet[1], None)], noise=False)

    want = {t for t in [*tag_bank, "transfer", "hold", "unresolved"] if rng.random() < 0.22}
    if topic == "解約":
        want.add("churn_intent")
    opening: list[tuple[str, str | None]] = []
    if rng.random() < 0.6:
        surname = rng.choice(SURNAMES) + (rng.choice(GIVEN) if rng.random() < 0.3 else "")
        intro = rng.choice(["{n}と申します", "{n}です", "あ、もしもし{n}ですけど", "契約者の{n}と申しますが"])
        a, c = intro.split("{n}")
        opening = [(a, None), (surname, "name"), (c + "、", None)]
    cust_name = opening[1][0] if opening else None
    if opening:
        b.say("customer", opening, "neutral")
    early = [t for t in ("repeat_contact", "long_wait", "channel_switch") if t in want]
    rng.shuffle(early)
    for t in early:
        text, sent = rng.choice(tag_bank[t])
        b.say("customer", text, sent)
        tags.add(t)
        if rng.random() < 0.5:
            b.say("agent", rng.choice(["大変申し訳ございません", "さようでございますか", "ご迷惑をおかけしております"]))
    if topic == "解約":
        text, sent = rng.choice(tag_bank["churn_intent"])
        tags.add("churn_intent")
    else:
        text, sent = rng.choice(TOPICS[topic])
    b.say("customer", text, sent)

    # identity check with PII
    b.say("agent", rng.choice(ID_REQUESTS))
    pii_kinds = rng.sample(["phone", "email", "card", "postal", "address", "account"], k=rng.randint(1, 3))
    for kind in pii_kinds:
        if kind == "phone":
            b.say("customer", [(rng.choice(["電話番号は", "番号は", "", "携帯で"]), None), (render_phone(rng), "phone"),
                               (rng.choice(["です", "になります", "", "ですね"]), None)], "neutral")
        elif kind == "email":
            b.say("customer", [(rng.choice(["メールアドレスは", "アドレスは", "メールは"]), None),
                               (render_email(rng), "email"), (rng.choice(["です", "になります"]), None)], "neutral")
        elif kind == "card":
            b.say("customer", [(rng.choice(["カード番号は", "クレジットカードの番号が"]), None), (render_card(rng), "card"),
                               (rng.choice(["です", "で"]), None)], "neutral")
        elif kind == "postal":
            b.say("customer", [(rng.choice(["郵便番号が", "郵便番号は"]), None), (render_postal(rng), "postal"),
                               ("です", None)], "neutral")
        elif kind == "address":
            b.say("customer", [(rng.choice(["住所は", "住まいは", ""]), None), (rng.choice(ADDRESSES), "address"),
                               (rng.choice(["です", "になります"]), None)], "neutral")
        else:
            b.say("customer", [(rng.choice(["お客様番号は", "契約番号が", "会員番号は"]), None),
                               (render_account(rng), "account"), ("です", None)], "neutral")
    if cust_name and rng.random() < 0.7:
        b.say("agent", [("ありがとうございます。", None), (cust_name, "name"),
                        (rng.choice(["様ですね", "様、確認が取れました", "様でいらっしゃいますね"]), None)], noise=False)

    # the middle: topic answers, episodes, distractors
    middle: list[tuple[str, str, str | None]] = []
    for _ in range(rng.randint(2, 4)):
        middle.append(("agent", rng.choice(TOPIC_AGENT[topic]), None))
        if topic != "解約":
            text, sent = rng.choice(TOPICS[topic])
            middle.append(("customer", rng.choice(["それと、", "あと", "", "要は"]) + text, sent))
        else:
            middle.append(("customer", rng.choice(["はい", "そうですか", "わかりました"]), "neutral"))
    for t in ("repeat_explanation", "anger", "escalation_request"):
        if t in want:
            text, sent = rng.choice(tag_bank[t])
            middle.insert(rng.randrange(1, len(middle) + 1), ("customer", text, sent))
            tags.add(t)
    if "churn_intent" in want and topic != "解約":
        text, sent = rng.choice(tag_bank["churn_intent"])
        middle.insert(rng.randrange(1, len(middle) + 1), ("customer", text, sent))
        tags.add("churn_intent")
    for d in rng.sample(DISTRACTORS, k=rng.randint(0, 3)):
        if d[1].startswith("前回の件は") or d[1].startswith("初めて"):
            middle.insert(0, d)
        else:
            middle.insert(rng.randrange(0, len(middle) + 1), d)
    for spk, text, sent in middle:
        b.say(spk, text, sent)

    if "hold" in want:
        b.say("agent", rng.choice(["確認いたしますので少々お待ちいただけますか", "お調べしますのでこのままお待ちください",
                                   "少々お時間いただけますでしょうか"]))
        b.say("agent", rng.choice(["大変お待たせいたしました", "お待たせしました"]), gap_s=rng.uniform(45, 240))
        tags.add("hold")
    elif rng.random() < 0.3:  # a short wait is not a hold
        b.say("agent", "少々お待ちください")
        b.say("agent", "お待たせいたしました", gap_s=rng.uniform(2, 6))
    if "transfer" in want:
        b.say("agent", rng.choice(TRANSFER_HELDOUT if heldout else TRANSFER_MAIN))
        tags.add("transfer")
    if "unresolved" in want:
        spk, text = rng.choice(UNRESOLVED_HELDOUT if heldout else UNRESOLVED_MAIN)
        b.say(spk, text, "negative" if spk == "customer" else None)
        if rng.random() < 0.5:
            b.say("customer" if spk == "agent" else "agent",
                  "はい、お願いします" if spk == "agent" else "申し訳ございません、引き続き対応いたします")
        tags.add("unresolved")
    else:
        spk, text, sent = rng.choice(RESOLVED_CLOSE)
        b.say(spk, text, sent)
    b.say("agent", rng.choice(["お電話ありがとうございました", "他にご不明な点はございますか。失礼いたします",
                               f"本日は{agent_name}が承りました。ありがとうございました"]), noise=False)
    if "本日は" in str(b.utts[-1]["text"]):
        b.utts[-1]["pii"] = [{"type": "name", "text": agent_name}]

    started = datetime(2026, 10, 1, 9, tzinfo=timezone(timedelta(hours=9))) + timedelta(minutes=37 * i)
    return {
        "call_id": f"eval-{split}-{i:04d}",
        "customer_id": f"C{rng.randrange(1000, 9999)}",
        "agent_id": f"A{rng.randrange(10, 60)}",
        "started_at": started.isoformat(),
        "split": split,
        "utterances": b.utts,
        "labels": {"topic": topic, "tags": sorted(tags)},
    }


def main() -> None:
    """Write the evaluation set."""
    rng = random.Random(SEED)
    calls = [build_call(i, "main", rng) for i in range(N_MAIN)]
    calls += [build_call(N_MAIN + i, "heldout", rng) for i in range(N_HELDOUT)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for call in calls:
            fh.write(json.dumps(call, ensure_ascii=False) + "\n")
    n_utt = sum(len(c["utterances"]) for c in calls)  # type: ignore[arg-type]
    print(f"wrote {len(calls)} calls, {n_utt} utterances to {OUT}")


if __name__ == "__main__":
    main()
