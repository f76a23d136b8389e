"""koe's error tree.

Every error koe raises on purpose is a ``KoeError``. A message names the input and the fix, e.g.
``calls/0012.wav: cannot decode audio (invalid data found); re-export as WAV/FLAC``. Third-party
exceptions are wrapped with ``raise ... from exc``. The API maps the tree to HTTP status codes in one
handler (``api/errors.py``) and the CLI prints the message without a traceback.
"""

from __future__ import annotations


class KoeError(Exception):
    """Base class of every error koe raises on purpose."""

    #: Whether retrying the same operation later may succeed.
    transient: bool = False


class ConfigError(KoeError):
    """A setting is invalid; the message names the ``KOE_`` variable and the fix."""


class InputError(KoeError):
    """An input (recording, manifest, transcript file) cannot be used as it is."""


class AudioDecodeError(InputError):
    """A recording cannot be decoded, is empty, truncated or too short."""


class ManifestError(InputError):
    """A manifest row or the whole manifest is invalid."""


class TranscriptFormatError(InputError):
    """An imported transcript (JSONL) line is invalid."""


class NoSpeechError(InputError):
    """A recording decodes but holds no speech (silence or noise only): nothing to analyse."""


class UnsupportedLanguageError(InputError):
    """The speech is not in the configured language (recorded as such, not as garbage text)."""


class ModelError(KoeError):
    """A speech or text model cannot be found, assembled or loaded."""


class StorageError(KoeError):
    """The database refused an operation."""


class UniqueConflictError(StorageError):
    """A write lost a unique-key race with another worker (the row now exists); running it again succeeds."""


class TransientStorageError(StorageError):
    """The database is busy, locked or unreachable for now; retrying later may succeed."""

    transient = True


class NotFoundError(KoeError):
    """A requested call, customer, topic or run does not exist."""


class AuthError(KoeError):
    """No key, an unknown key, or a key without the role an operation needs."""


class ForbiddenError(AuthError):
    """A valid key whose role does not allow the operation."""


class TrainingError(KoeError):
    """A model cannot be trained from the given labels (too few, one class only, ...)."""
