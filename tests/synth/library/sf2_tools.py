"""A tiny SoundFont written byte by byte: one preset, one instrument, one looped sample."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def _chunk(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _list(kind: bytes, *chunks: bytes) -> bytes:
    return _chunk(b"LIST", kind + b"".join(chunks))


def write_tiny_sf2(path: Path, *, freq_hz: float = 440.0, rate_hz: int = 32000, root_key: int = 69,
                   correction_cents: int = 0, program: int = 0, seconds: float = 0.5) -> tuple[int, int]:
    """A sine at freq_hz with a loop of whole periods; returns the loop (start, end) in samples."""
    n = int(rate_hz * seconds)
    t = np.arange(n + 46)
    pcm = np.round(0.8 * 32767 * np.sin(2 * np.pi * freq_hz * t / rate_hz)).astype("<i2")
    pcm[n:] = 0  # the 46 zero samples the specification asks after each sample
    period = rate_hz / freq_hz
    loop_start = int(round(round(n / 2 / period) * period))
    loop_end = int(round(round((n - 8) / period) * period))
    gen = lambda op, amount: struct.pack("<HH", op, amount & 0xFFFF)  # noqa: E731
    pgen = gen(43, 0 | 127 << 8) + gen(41, 0) + gen(0, 0)
    igen = gen(43, 0 | 127 << 8) + gen(54, 1) + gen(53, 0) + gen(0, 0)
    name = lambda s: s.encode().ljust(20, b"\0")  # noqa: E731
    pdta = _list(
        b"pdta",
        _chunk(b"phdr", struct.pack("<20sHHHIII", name("Tiny Sine"), program, 0, 0, 0, 0, 0)
               + struct.pack("<20sHHHIII", name("EOP"), 0, 0, 1, 0, 0, 0)),
        _chunk(b"pbag", struct.pack("<HH", 0, 0) + struct.pack("<HH", 2, 0)),
        _chunk(b"pmod", b"\0" * 10),
        _chunk(b"pgen", pgen),
        _chunk(b"inst", struct.pack("<20sH", name("Sine"), 0) + struct.pack("<20sH", name("EOI"), 1)),
        _chunk(b"ibag", struct.pack("<HH", 0, 0) + struct.pack("<HH", 3, 0)),
        _chunk(b"imod", b"\0" * 10),
        _chunk(b"igen", igen),
        _chunk(b"shdr", struct.pack("<20sIIIIIBbHH", name("Sine"), 0, n, loop_start, loop_end, rate_hz,
                                    root_key, correction_cents, 0, 1)
               + struct.pack("<20sIIIIIBbHH", name("EOS"), 0, 0, 0, 0, 0, 0, 0, 0, 0)),
    )
    info = _list(b"INFO", _chunk(b"ifil", struct.pack("<HH", 2, 1)), _chunk(b"INAM", b"tiny\0\0"))
    sdta = _list(b"sdta", _chunk(b"smpl", pcm.tobytes()))
    path.write_bytes(_chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
    return loop_start, loop_end
