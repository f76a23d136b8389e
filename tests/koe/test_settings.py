from __future__ import annotations

from pathlib import Path

import pytest

from koe.errors import ConfigError
from koe.settings import BUNDLED_MODEL, load_settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KOE_DATABASE_URL", "KOE_DATA_DIR", "KOE_WHISPER_MODEL", "KOE_DEVICE", "KOE_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.whisper_model == BUNDLED_MODEL
    assert settings.language == "ja"
    assert settings.device == "auto"
    assert settings.data_dir == Path("./var")
    assert settings.resolved_database_url == f"sqlite:///{Path('./var/koe.db').resolve()}"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KOE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KOE_DEVICE", "cpu")
    monkeypatch.setenv("KOE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    settings = load_settings()
    assert settings.device == "cpu"
    assert settings.model_cache_dir == tmp_path / "models"
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KOE_DEVICE", "tpu"),
        ("KOE_PORT", "99999"),
        ("KOE_DATABASE_URL", "not a url"),
        ("KOE_RETENTION_DAYS", "0"),
        ("KOE_DEFAULT_AGENT_CHANNEL", "2"),
    ],
)
def test_invalid_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        load_settings()
