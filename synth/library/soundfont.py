"""SoundFont 2 files as a sampling source: presets, and the sample a preset plays for a key.

A small reader of the RIFF structure (SoundFont 2.04 specification, sections 5-8) rather than a
library. sf2utils 1.0.0, the reader PyPI offers, was checked: it seeks past the sample chunk as this
reader does (FluidR3_GM opens in about 25 ms), but it is GPL-3.0-or-later (its metadata; its classifier
says LGPL-3.0-or-later) where liquidsky is MIT, it logs a damaged file as warnings and then fails with
an unrelated exception (a truncated RIFF gives "TypeError: object of type 'NoneType' has no len()"),
it leaves the combination of preset and instrument zones for a (key, velocity) to the caller, and it
does not decode SF3. What the toolkit needs is small: the hydra (phdr, pbag, pgen, inst, ibag, igen,
shdr), the zone lookup for (key, velocity) and one sample's bytes, read by seeking to them. SF3 files
(samples compressed as Ogg Vorbis, sample type bit 0x10) are decoded by libsndfile through soundfile.

Every problem with a file is a SoundFontError, one line naming the file and what is wrong.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

# Generator operators (SoundFont 2.04, section 8.1.2).
GEN_START_OFFSET = 0
GEN_END_OFFSET = 1
GEN_LOOP_START_OFFSET = 2
GEN_LOOP_END_OFFSET = 3
GEN_START_COARSE_OFFSET = 4
GEN_END_COARSE_OFFSET = 12
GEN_INSTRUMENT = 41
GEN_KEY_RANGE = 43
GEN_VEL_RANGE = 44
GEN_LOOP_START_COARSE_OFFSET = 45
GEN_END_LOOP_COARSE_OFFSET = 50
GEN_COARSE_TUNE = 51
GEN_FINE_TUNE = 52
GEN_SAMPLE_ID = 53
GEN_SAMPLE_MODES = 54
GEN_OVERRIDING_ROOT_KEY = 58

_RANGE_GENS = (GEN_KEY_RANGE, GEN_VEL_RANGE)
_RECORD = {  # hydra sub-chunk: (struct format, record size in bytes), section 7
    "phdr": ("<20sHHHIII", 38),
    "pbag": ("<HH", 4),
    "pgen": ("<HH", 4),
    "inst": ("<20sH", 22),
    "ibag": ("<HH", 4),
    "igen": ("<HH", 4),
    "shdr": ("<20sIIIIIBbHH", 46),
}
COMPRESSED_SAMPLE = 0x10  # sample type bit of an SF3 Ogg Vorbis sample
ROM_SAMPLE = 0x8000


class SoundFontError(ValueError):
    """A SoundFont that cannot be read, or a preset, key or sample it does not have."""


@dataclass(frozen=True)
class SoundFontSample:
    """One sample as a preset plays it for a key: mono float samples in -1..1 and how to tune them."""

    name: str
    samples: np.ndarray  # float32, mono
    rate_hz: int
    root_key: int  # the key at which the sample plays at its own speed
    pitch_correction_cents: float  # the sample header's correction plus the zones' coarse/fine tune
    loop: tuple[int, int] | None  # (start, end) in samples, end exclusive, or None (plays once)


@dataclass(frozen=True)
class _Zone:
    gens: dict[int, int]

    def covers(self, key: int, velocity: int) -> bool:
        for gen, value in ((GEN_KEY_RANGE, key), (GEN_VEL_RANGE, velocity)):
            if gen in self.gens:
                low, high = self.gens[gen] & 0xFF, self.gens[gen] >> 8
                if not low <= value <= high:
                    return False
        return True


def _signed(amount: int) -> int:
    return amount - 0x10000 if amount >= 0x8000 else amount


def _name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


class SoundFont:
    """An open SoundFont file: its hydra in memory, its samples read from disk when asked for."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file_size = self.path.stat().st_size
            with open(self.path, "rb") as f:
                self._read_structure(f)
        except (struct.error, UnicodeDecodeError, IndexError) as e:
            raise SoundFontError(f"{self.path}: damaged SoundFont ({e})") from None

    # -- structure ----------------------------------------------------------------------------
    def _fail(self, problem: str) -> SoundFontError:
        return SoundFontError(f"{self.path}: {problem}")

    def _read_structure(self, f: io.BufferedReader) -> None:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise self._fail("not a SoundFont (no RIFF sfbk header)")
        riff_end = min(8 + struct.unpack("<I", head[4:8])[0], self._file_size)
        self._smpl: tuple[int, int] | None = None  # (file offset, bytes)
        self._sm24: tuple[int, int] | None = None
        hydra: dict[str, bytes] = {}
        pos = 12
        while pos + 8 <= riff_end:
            f.seek(pos)
            cid, size = struct.unpack("<4sI", f.read(8))
            body = pos + 8
            if body + size > self._file_size:
                raise self._fail(f"truncated: chunk {cid.decode('latin-1')!r} at byte {pos} runs past the end")
            if cid == b"LIST":
                kind = f.read(4)
                sub = body + 4
                while sub + 8 <= body + size:
                    f.seek(sub)
                    sid, ssize = struct.unpack("<4sI", f.read(8))
                    if sub + 8 + ssize > body + size:
                        raise self._fail(f"truncated: sub-chunk {sid.decode('latin-1')!r} at byte {sub}")
                    if kind == b"sdta" and sid == b"smpl":
                        self._smpl = (sub + 8, ssize)
                    elif kind == b"sdta" and sid == b"sm24":
                        self._sm24 = (sub + 8, ssize)
                    elif kind == b"pdta" and sid.decode("latin-1") in _RECORD:
                        if ssize > 64 * 1024 * 1024:
                            raise self._fail(f"hydra chunk {sid.decode('latin-1')!r} is implausibly large")
                        hydra[sid.decode("latin-1")] = f.read(ssize)
                    sub += 8 + ssize + (ssize & 1)
            pos = body + size + (size & 1)
        missing = [k for k in _RECORD if k not in hydra]
        if missing:
            raise self._fail(f"not a SoundFont 2 file: no {', '.join(missing)} chunk")
        if self._smpl is None:
            raise self._fail("no sample data (smpl chunk)")
        rec = {}
        for key, (fmt, size) in _RECORD.items():
            data = hydra[key]
            if len(data) % size or len(data) < 2 * size:
                raise self._fail(f"damaged {key} chunk ({len(data)} bytes, not whole {size}-byte records)")
            rec[key] = [struct.unpack_from(fmt, data, i) for i in range(0, len(data), size)]
        self._phdr, self._pbag, self._pgen = rec["phdr"], rec["pbag"], rec["pgen"]
        self._inst, self._ibag, self._igen = rec["inst"], rec["ibag"], rec["igen"]
        self._shdr = rec["shdr"]

    def _zones(self, bags: list, gens: list, first: int, last: int, terminal: int) -> tuple[dict, list]:
        """(global generators, [zone]) of the bags first..last-1; `terminal` ends a local zone."""
        if not 0 <= first <= last < len(bags):
            raise self._fail("damaged bag indices")
        global_gens: dict[int, int] = {}
        zones: list[_Zone] = []
        for b in range(first, last):
            g0, g1 = bags[b][0], bags[b + 1][0]
            if not 0 <= g0 <= g1 <= len(gens):
                raise self._fail("damaged generator indices")
            zone_gens = {op: amount for op, amount in gens[g0:g1]}
            if terminal in zone_gens:
                zones.append(_Zone(zone_gens))
            elif b == first:
                global_gens = zone_gens
        return global_gens, zones

    # -- presets ------------------------------------------------------------------------------
    def presets(self) -> list[tuple[int, int, str]]:
        """Every preset as (bank, program, name), sorted by bank and program."""
        return sorted((bank, prog, _name(raw)) for raw, prog, bank, *_ in self._phdr[:-1])

    def _preset_index(self, program: int, bank: int) -> int:
        for i, (_raw, prog, bnk, *_rest) in enumerate(self._phdr[:-1]):
            if prog == program and bnk == bank:
                return i
        raise self._fail(f"no preset with bank {bank} and program {program}")

    def sample_for(self, program: int, bank: int = 0, key: int = 60, velocity: int = 100) -> SoundFontSample:
        """The sample preset (bank, program) plays for key and velocity, resolved zone by zone."""
        if not 0 <= key <= 127 or not 0 <= velocity <= 127:
            raise self._fail(f"key and velocity must be 0-127 (got {key}, {velocity})")
        p = self._preset_index(program, bank)
        pglobal, pzones = self._zones(self._pbag, self._pgen, self._phdr[p][3], self._phdr[p + 1][3], GEN_INSTRUMENT)
        for pzone in pzones:
            pg = {**pglobal, **pzone.gens}
            if not _Zone(pg).covers(key, velocity):
                continue
            i = pg[GEN_INSTRUMENT]
            if i + 1 >= len(self._inst):
                raise self._fail(f"preset {program} names instrument {i}, which does not exist")
            iglobal, izones = self._zones(self._ibag, self._igen, self._inst[i][1], self._inst[i + 1][1], GEN_SAMPLE_ID)
            for izone in izones:
                ig = {**iglobal, **izone.gens}
                if _Zone(ig).covers(key, velocity):
                    return self._sample(ig, pg)
        raise self._fail(f"preset {bank}:{program} has no sample for key {key} at velocity {velocity}")

    # -- samples ------------------------------------------------------------------------------
    def _sample(self, ig: dict[int, int], pg: dict[int, int]) -> SoundFontSample:
        s = ig[GEN_SAMPLE_ID]
        if s + 1 >= len(self._shdr):
            raise self._fail(f"an instrument names sample {s}, which does not exist")
        raw, start, end, loop_start, loop_end, rate, orig_pitch, correction, _link, stype = self._shdr[s]

        def gen(op: int) -> int:  # instrument value plus the preset's (additive, section 9.4)
            value = _signed(ig.get(op, 0))
            if op not in (GEN_SAMPLE_ID, GEN_SAMPLE_MODES, GEN_OVERRIDING_ROOT_KEY):
                value += _signed(pg.get(op, 0))
            return value

        if stype & ROM_SAMPLE:
            raise self._fail(f"sample {_name(raw)!r} lives in a ROM this file does not hold")
        if rate <= 0:
            raise self._fail(f"sample {_name(raw)!r} has sample rate 0")
        if stype & COMPRESSED_SAMPLE:
            audio = self._ogg(start, end, _name(raw))
            base = 0
        else:
            start += gen(GEN_START_OFFSET) + 32768 * gen(GEN_START_COARSE_OFFSET)
            end += gen(GEN_END_OFFSET) + 32768 * gen(GEN_END_COARSE_OFFSET)
            audio = self._pcm(start, end, _name(raw))
            base = start
        loop_start += gen(GEN_LOOP_START_OFFSET) + 32768 * gen(GEN_LOOP_START_COARSE_OFFSET) - base
        loop_end += gen(GEN_LOOP_END_OFFSET) + 32768 * gen(GEN_END_LOOP_COARSE_OFFSET) - base
        loops = ig.get(GEN_SAMPLE_MODES, 0) & 3 in (1, 3)
        loop = None
        if loops and 0 <= loop_start < loop_end <= len(audio):
            loop = (loop_start, loop_end)
        root = ig.get(GEN_OVERRIDING_ROOT_KEY, 0xFFFF)
        root = root if 0 <= root <= 127 else (orig_pitch if orig_pitch <= 127 else 60)
        cents = correction + 100 * gen(GEN_COARSE_TUNE) + gen(GEN_FINE_TUNE)
        return SoundFontSample(_name(raw), audio, int(rate), int(root), float(cents), loop)

    def _pcm(self, start: int, end: int, name: str) -> np.ndarray:
        offset, size = self._smpl  # type: ignore[misc]
        n_total = size // 2
        if not 0 <= start < end <= n_total:
            raise self._fail(f"sample {name!r} lies outside the sample data ({start}-{end} of {n_total})")
        with open(self.path, "rb") as f:
            f.seek(offset + 2 * start)
            data = np.frombuffer(f.read(2 * (end - start)), dtype="<i2").astype(np.int32) << 8
            if self._sm24 is not None and self._sm24[1] >= n_total:
                f.seek(self._sm24[0] + start)
                data |= np.frombuffer(f.read(end - start), dtype=np.uint8)
        return (data / 8388608.0).astype(np.float32)

    def _ogg(self, start: int, end: int, name: str) -> np.ndarray:
        offset, size = self._smpl  # type: ignore[misc]
        if not 0 <= start < end <= size:
            raise self._fail(f"compressed sample {name!r} lies outside the sample data")
        with open(self.path, "rb") as f:
            f.seek(offset + start)
            blob = f.read(end - start)
        try:
            audio, _rate = soundfile.read(io.BytesIO(blob), dtype="float32", always_2d=True)
        except soundfile.SoundFileError as e:
            raise self._fail(f"compressed sample {name!r} cannot be decoded ({e})") from None
        return audio.mean(axis=1).astype(np.float32)


def open_soundfont(path: str | Path) -> SoundFont:
    """Open a SoundFont (SF2, or SF3 with Ogg samples); a SoundFontError names what is wrong."""
    return SoundFont(path)
