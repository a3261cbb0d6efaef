"""Render jobs as data: one frozen record per variation of a piece, read from a JSONL or CSV jobs file.

A jobs file lists one render per row. JSONL: one JSON object a line (blank lines skipped). CSV: a
header row naming the fields, then one row a render (an empty cell takes the default). Fields:

    source       a MIDI file, a built-in piece's or a score's name, or a Page R song (required); a
                 relative path is taken from the jobs file's folder
    output       the file to write inside the output folder, NAME.wav or NAME.flac, whose extension
                 picks the format (default: made from the source and the variation, see
                 `derived_output_name`)
    model        iix, ii, i or iii              n_voices   1-64 (default: the model's)
    voice        a voice name, or CH=NAME for one channel; several as a JSON list or, in CSV,
                 separated by ';'
    program_map  a TOML program map (relative to the jobs file's folder)
    style, seed, tempo_scale   the arrangement, as --style, --seed and --tempo-scale
    rate_hz      8000-192000    bits  16 or 24    format  wav or flac    normalize  true or false

Fields a row leaves out take the command line's values. Every field is checked as the file is read;
a bad one is refused in one line naming the file, the line and the field.

>>> import io
>>> rows = read_jobs(io.StringIO('{"source": "demo", "style": "ominous", "seed": 3}\\n'), "jobs.jsonl")
>>> rows[0].style, rows[0].seed, derived_output_name(rows[0])
('ominous', 3, 'demo-ominous-seed3.wav')
>>> read_jobs(io.StringIO('{"source": "demo", "rate_hz": "fast"}\\n'), "jobs.jsonl")
Traceback (most recent call last):
...
synth.app.jobs.JobsFileError: jobs.jsonl:1: rate_hz: 'fast' is not a whole number
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scores.styles import get_style
from synth.app.limits import (
    RATE_MAX_HZ,
    RATE_MIN_HZ,
    SEED_MAX,
    TEMPO_SCALE_MAX,
    TEMPO_SCALE_MIN,
    VOICES_MAX,
    VOICES_MIN,
)
from synth.app.sources import builtin_names
from synth.hardware import DEFAULT_PROFILE, PROFILES
from synth.catalog import find_voice, parse_channel_voice, read_program_map

FORMATS = ("wav", "flac")
CSV_LIST_SEPARATOR = ";"


class JobsFileError(ValueError):
    """A jobs file that cannot be read, or a row with a bad field: FILE:LINE: FIELD: PROBLEM."""


@dataclass(frozen=True)
class RenderJob:
    """One render: a source and the variation to play it in. Frozen: a job is a value.

    >>> RenderJob("demo", model="iii", rate_hz=48000).variation()["model"]
    'iii'
    """

    source: str
    output: str | None = None
    model: str = DEFAULT_PROFILE
    n_voices: int | None = None
    voice: tuple[str, ...] = ()
    program_map: str | None = None
    style: str | None = None
    seed: int = 0
    tempo_scale: float = 1.0
    rate_hz: int = 44100
    bits: int = 16
    format: str = "wav"
    normalize: bool = False
    where: str = field(default="", compare=False)  # "FILE:LINE" of the row, for messages

    def variation(self) -> dict[str, Any]:
        """The fields that choose how the source is played (not which file it goes to), as JSON values."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self) if f.name not in ("source", "output", "where")}


# --- checking one field ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is not a text")
    return value.strip()


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else _text(value)


def _whole(low: int, high: int, unit: str = "") -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"{number} is outside {low}-{high}{unit}")
        return number

    return parse


def _optional_whole(low: int, high: int) -> Callable[[Any], int | None]:
    whole = _whole(low, high)
    return lambda value: None if value in (None, "") else whole(value)


def _number(low: float, high: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        if not low <= number <= high:
            raise ValueError(f"{value} is outside {low:g}-{high:g}")
        return number

    return parse


def _choice(choices: Sequence[Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        text = value.lower() if isinstance(value, str) else value
        if isinstance(text, str) and text.isdigit() and int(text) in choices:
            return int(text)
        if text not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, choices))}")
        return text

    return parse


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _voices(value: Any) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    items = value.split(CSV_LIST_SEPARATOR) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{value!r} is not a voice name or a list of them")

    names = tuple(v.strip() for v in items if v.strip())
    for name in names:
        find_voice(parse_channel_voice(name)[1])  # CH=NAME names a melodic channel 1-16 and a known voice
    return names


def _style(value: Any) -> str | None:
    if value in (None, ""):
        return None

    name = _text(value)
    get_style(name)
    return name


def _output(value: Any) -> str | None:
    if value in (None, ""):
        return None
    name = _text(value)
    if os.path.splitext(name)[1].lower() not in (".wav", ".flac"):
        raise ValueError(f"{name}: not a .wav or .flac file name")
    if os.path.isabs(name) or ".." in Path(name).parts:
        raise ValueError(f"{name}: an output is a name inside the output folder")
    return name


PARSERS: dict[str, Callable[[Any], Any]] = {
    "source": _text,
    "output": _output,
    "model": _choice(list(PROFILES)),
    "n_voices": _optional_whole(VOICES_MIN, VOICES_MAX),
    "voice": _voices,
    "program_map": _optional_text,
    "style": _style,
    "seed": _whole(0, SEED_MAX),
    "tempo_scale": _number(TEMPO_SCALE_MIN, TEMPO_SCALE_MAX),
    "rate_hz": _whole(RATE_MIN_HZ, RATE_MAX_HZ, " Hz"),
    "bits": _choice([16, 24]),
    "format": _choice(list(FORMATS)),
    "normalize": _flag,
}


# --- reading a file ----------------------------------------------------------------------------------


def read_jobs_file(path: str | os.PathLike, defaults: RenderJob | None = None) -> list[RenderJob]:
    """Every row of a JSONL (.jsonl, .ndjson) or CSV (.csv) jobs file, checked, as RenderJobs.

    Fields a row leaves out come from `defaults` (its source is ignored). Relative sources and
    program maps are resolved against the jobs file's folder.
    """
    name = os.fspath(path)
    suffix = Path(name).suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise JobsFileError(f"{name}: a jobs file is .jsonl or .csv")
    try:
        with open(name, encoding="utf-8-sig", newline="") as f:  # -sig: a spreadsheet's byte-order mark
            return read_jobs(f, name, defaults, base=os.path.dirname(name), csv_format=suffix == ".csv")
    except OSError as e:
        raise JobsFileError(f"{name}: {(e.strerror or str(e)).lower()}") from None
    except UnicodeDecodeError:
        raise JobsFileError(f"{name}: not a UTF-8 text file") from None


def read_jobs(f: IO[str], name: str, defaults: RenderJob | None = None, *, base: str = "",
              csv_format: bool = False) -> list[RenderJob]:
    """The rows of an open jobs file (JSONL, or CSV with csv_format); `name` is used in messages."""
    rows = _csv_rows(f, name) if csv_format else _jsonl_rows(f, name)
    jobs = [_job(row, f"{name}:{line}", defaults, base) for line, row in rows]
    if not jobs:
        raise JobsFileError(f"{name}: no jobs in the file")
    return jobs


def _jsonl_rows(f: IO[str], name: str) -> Iterable[tuple[int, dict[str, Any]]]:
    for line, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as e:
            raise JobsFileError(f"{name}:{line}: not JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(row, dict):
            raise JobsFileError(f"{name}:{line}: a row is a JSON object, {{\"source\": ...}}")
        yield line, row


def _csv_rows(f: IO[str], name: str) -> Iterable[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(f)
    if reader.fieldnames is None:
        return
    for row in reader:
        if None in row:
            raise JobsFileError(f"{name}:{reader.line_num}: more cells than the header names")
        if not any((v or "").strip() for v in row.values()):
            continue
        yield reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if v is not None}


def _job(row: dict[str, Any], where: str, defaults: RenderJob | None, base: str) -> RenderJob:
    unknown = sorted(set(row) - set(PARSERS))
    if unknown:
        near = difflib.get_close_matches(unknown[0], PARSERS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else f" (fields: {', '.join(PARSERS)})"
        raise JobsFileError(f"{where}: {unknown[0]}: not a field of a job{hint}")
    if row.get("source") in (None, ""):
        raise JobsFileError(f"{where}: source: missing (every row names its source)")
    values: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str) and value == "" and key != "source":
            continue  # an empty CSV cell takes the default
        try:
            values[key] = PARSERS[key](value)
        except ValueError as e:
            from synth.errors import one_line

            raise JobsFileError(f"{where}: {key}: {one_line(e)}") from None
    for key in ("source", "program_map"):
        if values.get(key) is not None:
            values[key] = _resolve(values[key], base)
    if values.get("program_map") is not None:
        try:
            read_program_map(values["program_map"])
        except (ValueError, OSError) as e:
            raise JobsFileError(f"{where}: program_map: {one_line(e)}") from None
    start = dataclasses.replace(defaults, output=None) if defaults is not None else RenderJob(source="")
    return dataclasses.replace(start, where=where, **values)


def _resolve(name: str, base: str) -> str:
    """A relative path from the jobs file's folder; names of built-in pieces and scores stay names."""
    if not base or os.path.isabs(name) or name in builtin_names() or "://" in name:
        return name
    return os.path.join(base, name)


# --- naming outputs ----------------------------------------------------------------------------------


def source_stem(source: str) -> str:
    """'demo' for a built-in piece; a file's name without its folder and suffix."""
    return source if source in builtin_names() else Path(source).stem


def derived_output_name(job: RenderJob, defaults: RenderJob | None = None) -> str:
    """The source's stem and every field that differs from `defaults`, in the job's format.

    >>> derived_output_name(RenderJob("songs/fugue.mid", model="iii", voice=("2=hum",), rate_hz=48000))
    'fugue-iii-2_hum-48000hz.wav'
    """
    base = defaults or RenderJob(source="")
    parts = [source_stem(job.source)]
    if job.style not in (None, base.style):
        parts.append(job.style)
    if job.seed != base.seed:
        parts.append(f"seed{job.seed}")
    if job.tempo_scale != base.tempo_scale:
        parts.append(f"x{job.tempo_scale:g}")
    if job.model != base.model:
        parts.append(job.model)
    if job.n_voices != base.n_voices:
        parts.append(f"{job.n_voices}v")
    if job.voice != base.voice:
        parts.extend(job.voice)
    if job.program_map != base.program_map and job.program_map is not None:
        parts.append(Path(job.program_map).stem)
    if job.rate_hz != base.rate_hz:
        parts.append(f"{job.rate_hz}hz")
    if job.bits != base.bits:
        parts.append(f"{job.bits}bit")
    if job.normalize != base.normalize:
        parts.append("normalized" if job.normalize else "raw")
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.+]+", "_", p).strip("_") or "_" for p in parts)
    return f"{stem}.{job.format}"


def plan_output_names(jobs: Sequence[RenderJob], defaults: RenderJob | None = None) -> list[str]:
    """Each job's output file name; two rows that would write one file are refused, naming both lines."""
    seen: dict[str, RenderJob] = {}
    names = []
    for job in jobs:
        name = job.output or derived_output_name(job, defaults)
        key = os.path.normcase(name)
        if key in seen:
            first = seen[key]
            raise JobsFileError(f"{job.where}: output: {name} is written by {first.where} already "
                                "(give one of them an output name)")
        seen[key] = job
        names.append(name)
    return names
