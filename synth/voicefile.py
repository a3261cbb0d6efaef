"""The voice file (.cmv): a Voice's wave RAM image and Page 7 parameters on disk, versioned and checked.

Layout (all integers little-endian):

    offset  size  what
    0       8     magic b"LQSKVOIC"
    8       4     header length H (uint32)
    12      H     header: UTF-8 JSON object, "format_version": 1 and the Voice's parameters
    12+H    R     wave RAM image: 16,384 bytes of offset binary (8-bit voices: byte = level + 128),
                  or 16,384 int16 levels (16-bit voices)
    end-4   4     CRC-32 of every byte before it (zlib.crc32)

The RAM image is stored exactly as the card's RAM holds it, so a file can be inspected with any hex
viewer; everything else is in the readable header.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from synth import hardware as hw
from synth.voice import Voice, VoiceError

MAGIC = b"LQSKVOIC"
FORMAT_VERSION = 1
SUFFIX = ".cmv"
_PARAMS = (
    "name", "mode", "bits", "recording_rate_hz", "root_key", "start_segment", "loop_start_segment",
    "loop_end_segment", "attack_timer", "decay_timer", "sustain_level", "damping_timer", "curve", "volume",
    "filter", "filter_key_tracking", "segment_time_s", "role", "source", "meta",
)
_REQUIRED = ("name", "mode", "bits")


class VoiceFileError(ValueError):
    """A voice file that cannot be read: one line naming the file and the problem."""


def _plain(value):
    """numpy values in a voice's meta (a Page 4 profile, say) as JSON lists and numbers."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    raise TypeError(f"a voice's meta cannot hold {type(value).__name__} in a voice file")


def voice_to_bytes(voice: Voice) -> bytes:
    header = {"format_version": FORMAT_VERSION}
    for key in _PARAMS:
        header[key] = getattr(voice, key)
    header_bytes = json.dumps(header, sort_keys=True, separators=(",", ":"), default=_plain).encode("utf-8")
    if voice.bits == 8:
        ram = (voice.wave.astype(np.int16) + 128).astype(np.uint8).tobytes()
    else:
        ram = voice.wave.astype("<i2").tobytes()
    body = MAGIC + struct.pack("<I", len(header_bytes)) + header_bytes + ram
    return body + struct.pack("<I", zlib.crc32(body))


def voice_from_bytes(data: bytes, name: str = "<voice bytes>") -> Voice:
    def fail(problem: str) -> VoiceFileError:
        return VoiceFileError(f"{name}: {problem}")

    if len(data) < len(MAGIC) + 8 or not data.startswith(MAGIC):
        raise fail("not a liquidsky voice file (no LQSKVOIC header)")
    (header_len,) = struct.unpack("<I", data[8:12])
    if 12 + header_len > len(data) - 4:
        raise fail("truncated voice file (header runs past the end)")
    (crc,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(data[:-4]) != crc:
        expected = _expected_size(data, header_len)
        if expected is not None and len(data) < expected:
            raise fail(f"truncated voice file ({len(data):,} bytes of {expected:,})")
        raise fail("damaged voice file (checksum does not match)")
    try:
        header = json.loads(data[12 : 12 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise fail("damaged voice file (unreadable header)") from None
    if not isinstance(header, dict):
        raise fail("damaged voice file (header is not an object)")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise fail(f"voice file format {version!r} is not supported (this version reads {FORMAT_VERSION})")
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        raise fail(f"voice file header lacks {', '.join(missing)}")
    bits = header["bits"]
    ram = data[12 + header_len : -4]
    if bits == 8 and len(ram) == hw.WAVE_RAM_SAMPLES:
        wave = np.frombuffer(ram, dtype=np.uint8).astype(np.int16) - 128
    elif bits == 16 and len(ram) == 2 * hw.WAVE_RAM_SAMPLES:
        wave = np.frombuffer(ram, dtype="<i2").astype(np.int16)
    else:
        raise fail(f"wave RAM image is {len(ram)} bytes; a {bits}-bit voice needs "
                   f"{hw.WAVE_RAM_SAMPLES * (2 if bits == 16 else 1)}")
    params = {k: header[k] for k in _PARAMS if k in header}
    unknown = set(header) - set(_PARAMS) - {"format_version"}
    if unknown:
        raise fail(f"unknown voice parameters: {', '.join(sorted(unknown))}")
    try:
        return Voice(wave=wave, **params)
    except (VoiceError, TypeError) as e:
        raise fail(str(e)) from None


def _expected_size(data: bytes, header_len: int) -> int | None:
    """The whole file's size as its header implies, or None when the header does not say."""
    try:
        bits = json.loads(data[12 : 12 + header_len].decode("utf-8"))["bits"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None
    if bits not in (8, 16):
        return None
    return 12 + header_len + hw.WAVE_RAM_SAMPLES * bits // 8 + 4


def save_voice(voice: Voice, path: str | os.PathLike) -> Path:
    """Write a voice file atomically (a temporary file beside the target, renamed when complete)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_bytes(voice_to_bytes(voice))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_voice(path: str | os.PathLike) -> Voice:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise VoiceFileError(f"{path}: {e.strerror or e}") from None
    return voice_from_bytes(data, name=str(path))
