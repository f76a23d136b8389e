"""Decoding recordings into 16 kHz float32 channels, whole or in bounded windows.

Decoding uses PyAV (the decoder faster-whisper itself uses), so every container and codec that
FFmpeg reads works: WAV, FLAC, MP3, M4A/AAC, OGG/Opus, 8 kHz μ-law telephony, ... Audio is
resampled once, by FFmpeg's resampler, straight to planar float32 at 16 kHz; the s16 round trip of
``faster_whisper.decode_audio`` is skipped.

Memory: a 3-hour stereo call is 1.4 GB as float32, so the transcription stage never holds a whole
long call. :func:`iter_audio_windows` streams the decoder output into windows of about
``window_s`` seconds (10 minutes by default, ~77 MB for stereo), cutting each window at the
quietest 100 ms of its last ``cut_search_s`` seconds so that no word is split. :func:`decode_audio`
returns the whole recording and is meant for short audio (tests, benchmarks, the player).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np

from koe.errors import AudioDecodeError

#: Sample rate of everything this module returns, in Hz (what Whisper and Silero VAD expect).
SAMPLE_RATE = 16_000
#: Recordings with less audio than this, in seconds, are rejected as too short.
MIN_DURATION_S = 0.5
_FIX = "re-export the recording as WAV, FLAC or MP3 and try again"


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """A recording decoded to 16 kHz float32.

    Attributes:
        channels: One 1-D float32 array per channel (1 for mono, 2 for stereo), samples in
            [-1, 1] at :data:`SAMPLE_RATE`. Recordings with more than two channels are mixed down
            to mono.
        duration_s: Length of the audio in seconds.
        source_sample_rate: Sample rate of the file before resampling, in Hz.

    """

    channels: tuple[np.ndarray, ...]
    duration_s: float
    source_sample_rate: int

    @property
    def is_stereo(self) -> bool:
        """Whether the recording has two channels (agent and customer, in call recordings)."""
        return len(self.channels) == 2


@dataclass(frozen=True, slots=True)
class AudioWindow:
    """A consecutive piece of a recording, for bounded-memory processing.

    Attributes:
        start_s: Where the window starts in the recording, in seconds.
        channels: One 1-D float32 16 kHz array per channel, all of the same length.
        is_last: True for the final window of the recording.

    """

    start_s: float
    channels: tuple[np.ndarray, ...]
    is_last: bool

    @property
    def duration_s(self) -> float:
        """Length of the window in seconds."""
        return len(self.channels[0]) / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the container says about a recording, read without decoding it.

    Attributes:
        channel_count: Channels koe will return (1 or 2; more are mixed down to 1).
        source_sample_rate: The stream's sample rate, in Hz.
        declared_duration_s: Duration from the container header, in seconds; None if absent.

    """

    channel_count: int
    source_sample_rate: int
    declared_duration_s: float | None


def probe_audio(path: str | Path) -> AudioInfo:
    """Read a recording's header: channels, sample rate and declared duration.

    Args:
        path: The recording.

    Returns:
        The header information.

    Raises:
        AudioDecodeError: If the file is missing, empty, not a media file or has no audio stream.

    """
    path = Path(path)
    _check_file(path)
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            return _info(path, container)
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"{path}: cannot decode audio ({_reason(exc)}); {_FIX}") from exc


def decode_audio(path: str | Path) -> DecodedAudio:
    """Decode a whole recording to 16 kHz float32, one array per channel.

    Holds the whole recording in memory (64 kB per second per channel); the transcription stage
    uses :func:`iter_audio_windows` instead so that long calls stay bounded.

    Args:
        path: Any recording PyAV can read, at any sample rate.

    Returns:
        The decoded audio.

    Raises:
        AudioDecodeError: If the file is missing, empty, not audio, truncated or shorter than
            :data:`MIN_DURATION_S`; the message names the file and the fix.

    """
    windows = list(iter_audio_windows(path, window_s=math.inf))
    window = windows[0]
    return DecodedAudio(
        channels=window.channels,
        duration_s=window.duration_s,
        source_sample_rate=probe_audio(path).source_sample_rate,
    )


def iter_audio_windows(
    path: str | Path, *, window_s: float = 600.0, cut_search_s: float = 30.0
) -> Iterator[AudioWindow]:
    """Stream a recording as consecutive 16 kHz float32 windows of about ``window_s`` seconds.

    Each window is cut at the quietest 100 ms (summed over channels) within its last
    ``cut_search_s`` seconds, so a window boundary falls in a pause rather than inside a word.
    Peak memory is about two windows (``2 * window_s * 64 kB`` per channel).

    Args:
        path: Any recording PyAV can read, at any sample rate.
        window_s: Target window length in seconds; ``math.inf`` yields one window.
        cut_search_s: How far back from the window end to look for a quiet cut point, in seconds.

    Yields:
        Windows in order; the last one has ``is_last=True``.

    Raises:
        AudioDecodeError: If the file is missing, empty, not audio, truncated or shorter than
            :data:`MIN_DURATION_S`. Truncation is only known at the end of the stream, so it is
            raised after the earlier windows have been yielded.

    """
    path = Path(path)
    _check_file(path)
    limit = None if math.isinf(window_s) else int(window_s * SAMPLE_RATE)
    search = int(cut_search_s * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    pending_n = 0
    offset = 0  # samples already yielded
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            info = _info(path, container)
            for block in _decode_blocks(container, info.channel_count):
                pending.append(block)
                pending_n += block.shape[1]
                if limit is None or pending_n < limit + search:
                    continue
                buffer = np.concatenate(pending, axis=1)
                cut = _quiet_cut(buffer, limit, search)
                yield AudioWindow(offset / SAMPLE_RATE, tuple(buffer[:, :cut]), is_last=False)
                offset += cut
                # Copy the short tail so the yielded window's buffer can be freed.
                pending = [buffer[:, cut:].copy()]
                pending_n = pending[0].shape[1]
                del buffer
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"{path}: cannot decode audio ({_reason(exc)}); {_FIX}") from exc

    total_s = (offset + pending_n) / SAMPLE_RATE
    if offset + pending_n == 0:
        raise AudioDecodeError(f"{path}: no audio samples could be decoded (empty or damaged file); {_FIX}")
    if total_s < MIN_DURATION_S:
        raise AudioDecodeError(
            f"{path}: only {total_s:.2f} s of audio, need at least {MIN_DURATION_S} s; "
            "check that the recording is complete"
        )
    declared = info.declared_duration_s
    if declared is not None and total_s < 0.9 * declared - 0.5:
        raise AudioDecodeError(
            f"{path}: truncated recording (header says {declared:.1f} s, only {total_s:.1f} s decoded); "
            "copy or export the file again"
        )
    tail = np.concatenate(pending, axis=1) if pending else np.zeros((info.channel_count, 0), np.float32)
    yield AudioWindow(offset / SAMPLE_RATE, tuple(tail), is_last=True)


def frame_rms_db(samples: np.ndarray, frame_s: float = 0.05) -> np.ndarray:
    """Loudness of consecutive frames of a 16 kHz signal, in dBFS.

    Args:
        samples: 1-D float32 signal at :data:`SAMPLE_RATE`.
        frame_s: Frame length in seconds; a trailing partial frame is dropped.

    Returns:
        One value per frame, in dB relative to full scale (silence floors at -120 dB).

    """
    frame = max(1, int(frame_s * SAMPLE_RATE))
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    frames = samples[: count * frame].reshape(count, frame)
    power = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frame
    return (10.0 * np.log10(np.maximum(power, 1e-12))).astype(np.float32)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise AudioDecodeError(f"{path}: no such file; check the path in the manifest or command line")
    size = path.stat().st_size
    if size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes); {_FIX}")
    # FFmpeg silently shortens a truncated WAV to what is there, so check the RIFF size field
    # (0 and 0xFFFFFFFF mean "unknown", written by recorders that stream to disk).
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        declared = int.from_bytes(head[4:8], "little") + 8
        if 8 < declared < 0xFFFFFFFF and size < declared:
            raise AudioDecodeError(
                f"{path}: truncated recording (header says {declared} bytes, file has {size}); "
                "copy or export the file again"
            )


def _info(path: Path, container: av.container.InputContainer) -> AudioInfo:
    if not container.streams.audio:
        raise AudioDecodeError(f"{path}: the file has no audio stream; {_FIX}")
    stream = container.streams.audio[0]
    channels = stream.codec_context.layout.nb_channels or 1
    declared: float | None = None
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = container.duration / av.time_base
    return AudioInfo(
        channel_count=2 if channels == 2 else 1,
        source_sample_rate=int(stream.codec_context.sample_rate or stream.rate or 0),
        declared_duration_s=declared,
    )


def _decode_blocks(container: av.container.InputContainer, channel_count: int) -> Iterator[np.ndarray]:
    """Decoded, resampled (channels, samples) float32 blocks of the first audio stream."""
    resampler = av.AudioResampler(format="fltp", layout="stereo" if channel_count == 2 else "mono", rate=SAMPLE_RATE)
    stream = container.streams.audio[0]
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            # One corrupt packet in a long call should not lose the whole call (faster-whisper
            # skips them too); real truncation is caught by the duration check afterwards.
            continue
        for frame in frames:
            for out in resampler.resample(frame):
                yield out.to_ndarray().astype(np.float32, copy=False)
    for out in resampler.resample(None):
        yield out.to_ndarray().astype(np.float32, copy=False)


def _quiet_cut(buffer: np.ndarray, limit: int, search: int) -> int:
    """Sample index in ``[limit - search, limit]`` at the start of the quietest 100 ms frame."""
    frame = SAMPLE_RATE // 10
    lo = max(0, limit - search)
    region = buffer[:, lo:limit]
    count = region.shape[1] // frame
    if count == 0:
        return limit
    frames = region[:, : count * frame].reshape(region.shape[0], count, frame)
    energy = np.einsum("cij,cij->i", frames, frames)
    return lo + int(np.argmin(energy)) * frame


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip().rstrip(".").lower() or type(exc).__name__
