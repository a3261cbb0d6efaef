"""The command line's voice subcommands: voices; voice info, show, import and export."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np
import soundfile as sf

from synth import hardware as hw
from synth.app.cli.options import audio_path, int_in, picture_path
from synth.gm import default_voice_set
from synth.instrument import Instrument
from synth.library import user
from synth.catalog import (
    all_instruments,
    all_voices,
    factory_instruments,
    factory_voices,
    find_single_voice,
    find_voice,
)
from synth.library.display import draw_voice, used_samples
from synth.units import note_name, parse_note

# Loops and start segments are shown and typed as Page 7 counts segments, 1-128; the voice file
# and the --json output keep the 0-based numbers the code uses.
PAGE7_FIRST_SEGMENT = 1
IMPORT_RATE_MIN_HZ, IMPORT_RATE_MAX_HZ = 2_000, 100_000


class VoiceCommandError(ValueError):
    """A voice command that cannot be done: one line saying why."""


# --- argument types -----------------------------------------------------------------------------------


def _root(text: str) -> int | str:
    if text.lower() == "auto":
        return "auto"
    try:
        return parse_note(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a note (60, C4, F#3) or 'auto'") from None


def _loop(text: str) -> str | tuple[int, int]:
    if text.lower() in ("auto", "none"):
        return text.lower()
    start, sep, end = text.partition(":")
    try:
        s, e = int(start), int(end)
    except ValueError:
        s = e = 0
    if not sep or not 1 <= s <= e <= 128:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use auto, none, or START:END, segments 1-128 with START <= END"
        )
    return s - PAGE7_FIRST_SEGMENT, e - PAGE7_FIRST_SEGMENT


def _rate(text: str) -> int:
    return int_in(IMPORT_RATE_MIN_HZ, IMPORT_RATE_MAX_HZ, " Hz")(text)


# --- registering --------------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands to the parser (common: the shared --debug option)."""
    voices = commands.add_parser(
        "voices", parents=[common], help="list the voices: name, mode, General MIDI programs, role",
        description="List every voice: the factory voices, then your own (from 'liquidsky voice import'), "
                    "with the General MIDI programs and drum keys that play each by default.",
    )
    voices.add_argument("--json", action="store_true", help="print the list as JSON")
    voices.set_defaults(run=_cmd_voices)

    voice = commands.add_parser(
        "voice", parents=[common], help="one voice: info, show, import, export",
        description="Look at a voice, draw it, make one from a recording, or write one out as audio.",
    )
    sub = voice.add_subparsers(dest="voice_command", metavar="ACTION")
    sub.required = True

    info = sub.add_parser(
        "info", parents=[common], help="a voice's mode, root, rate, RAM use, loop and Page 7 parameters",
        description="Describe a voice: mode, root key, recording rate, bytes of wave RAM used, loop "
                    "segments, distinct sample levels and its Page 7 parameters; for an instrument, each "
                    "key split's keys, voice and root.",
    )
    info.add_argument("name", metavar="NAME",
                      help="a voice or instrument name (see 'liquidsky voices'), a .cmv or an instrument .toml file")
    info.add_argument("--json", action="store_true", help="print the description as JSON")
    info.set_defaults(run=_cmd_info)

    show = sub.add_parser(
        "show", parents=[common], help="draw a voice's waveform page (needs matplotlib)",
        description="Draw a voice as the CMI's waveform pages showed one: its segments as a 3-D stack, "
                    "its spectrum (Mode 4) or harmonic profile (Mode 1), and the whole wave RAM. "
                    "Needs matplotlib: pip install 'liquidsky[plot]'.",
    )
    show.add_argument("name", metavar="NAME", help="a voice name or a .cmv file")
    show.add_argument("-o", "--output", metavar="PAGE", required=True, type=picture_path,
                      help="the picture to write: .png, .svg or .pdf")
    show.set_defaults(run=_cmd_show)

    imp = sub.add_parser(
        "import", parents=[common], help="make a voice from a WAV or FLAC recording (Page 8)",
        description=(
            "Sample a recording into a Mode 4 voice as the CMI's sampling card did: mixed to mono, "
            "resampled to the recording rate, 8-bit, at most 16,384 samples, looped on whole 128-sample "
            "segments. The voice is saved in your voice folder and plays by name everywhere "
            "(--voice NAME, program maps)."
        ),
    )
    imp.add_argument("input", metavar="IN", help="the recording: WAV, FLAC, or any format libsndfile reads")
    imp.add_argument("--name", required=True, help="the new voice's name (letters, digits, - _ . +)")
    imp.add_argument("--root", type=_root, default=60, metavar="NOTE|auto",
                     help="the note at which the recording plays at its own speed: a MIDI number or a "
                          "name (60, C4, F#3), or 'auto' to detect the pitch (default 60, middle C)")
    imp.add_argument("--loop", type=_loop, default="none", metavar="auto|none|START:END",
                     help="none (default: the sound plays once), auto (the segment boundaries where "
                          "the data match best), or START:END, segments 1-128 as Page 7 counts them")
    imp.add_argument("--rate", type=_rate, default=None, metavar="HZ",
                     help=f"the recording rate, {IMPORT_RATE_MIN_HZ}-{IMPORT_RATE_MAX_HZ} Hz (default 30200, "
                          "the Series IIx's)")
    imp.add_argument("--fit", choices=("rate", "truncate"), default="rate",
                     help="when the sound is longer than 16,384 samples: 'rate' lowers the recording rate "
                          "until it fits (default, the CMI way; costs treble), 'truncate' keeps the rate "
                          "and cuts the end")
    imp.add_argument("--bits", type=int, choices=(8, 16), default=8,
                     help="sample width: 8 (default, Series I-IIx) or 16 (Series III)")
    imp.add_argument("--normalize", action="store_true",
                     help="raise the recording so its peak is at full scale before quantising")
    imp.add_argument("--force", action="store_true", help="replace a user voice of the same name")
    imp.add_argument("--program", type=int, default=None, metavar="P",
                     help="for a SoundFont (.sf2/.sf3): the preset's program, 0-127")
    imp.add_argument("--bank", type=int, default=0, metavar="B", help="for a SoundFont: the preset's bank (default 0)")
    imp.add_argument("--key", type=int, default=60, metavar="K",
                     help="for a SoundFont: the key whose sample is taken (default 60)")
    imp.set_defaults(run=_cmd_import)

    exp = sub.add_parser(
        "export", parents=[common], help="write a voice's wave RAM as a WAV at its recording rate",
        description="Write the whole wave RAM (16,384 samples) of a voice as audio at its recording "
                    "rate: 8-bit WAV for 8-bit voices (bit-exact), 16-bit otherwise.",
    )
    exp.add_argument("name", metavar="NAME", help="a voice name or a .cmv file")
    exp.add_argument("-o", "--output", metavar="OUT", required=True, type=audio_path,
                     help="OUT.wav or OUT.flac")
    exp.set_defaults(run=_cmd_export)


# --- facts about a voice ---------------------------------------------------------------------------------


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    parts: list[str] = []
    run: list[int] = []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        parts.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(parts)


def _gm_uses() -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """{voice name: GM programs (1-128)} and {voice name: drum keys} of the default map."""
    gm = default_voice_set()
    programs: dict[str, list[int]] = {}
    drums: dict[str, list[int]] = {}
    for program, name in gm.program_map.items():
        programs.setdefault(name, []).append(program + 1)
    for key, (name, _) in gm.drum_map.items():
        drums.setdefault(name, []).append(key)
    return programs, drums


def _origin(name: str) -> str:
    if name in factory_voices() or name in factory_instruments():
        return "factory"
    return "file" if name.endswith((".cmv", ".toml")) else "user"


def _ramp_ms(timer: int) -> float:
    return hw.envelope_step_s(timer) * hw.ENVELOPE_MAX * 1000.0


def voice_facts(voice) -> dict:
    """What 'voice info' tells, as plain data (segments 0-based, as in the voice file)."""
    n_used = used_samples(voice)
    programs, drums = _gm_uses()
    bytes_per_sample = voice.bits // 8
    filter_hz = None if voice.filter >= hw.FILTER_MAX else round(hw.filter_cutoff_hz(voice.filter), 1)
    filter_3db_hz = None if voice.filter >= hw.FILTER_MAX else round(hw.filter_minus_3db_hz(voice.filter), 1)
    return {
        "name": voice.name,
        "origin": _origin(voice.name),
        "mode": voice.mode,
        "bits": voice.bits,
        "root_key": voice.root_key,
        "root_note": note_name(voice.root_key),
        "recording_rate_hz": voice.recording_rate_hz,
        "wave_ram_bytes": hw.WAVE_RAM_SAMPLES * bytes_per_sample,
        "bytes_used": n_used * bytes_per_sample,
        "segments_used": -(-n_used // hw.SEGMENT_SAMPLES),
        "loop_start_segment": voice.loop_start_segment,
        "loop_end_segment": voice.loop_end_segment,
        "distinct_levels": int(np.unique(voice.wave[:n_used]).size) if n_used else 0,
        "page7": {
            "start_segment": voice.start_segment,
            "attack_timer": voice.attack_timer,
            "attack_ms": round(_ramp_ms(voice.attack_timer), 1),
            "decay_timer": voice.decay_timer,
            "decay_ms": round(_ramp_ms(voice.decay_timer), 1),
            "sustain_level": voice.sustain_level,
            "damping_timer": voice.damping_timer,
            "damping_ms": round(_ramp_ms(voice.damping_timer), 1),
            "curve": voice.curve,
            "volume": voice.volume,
            "filter": voice.filter,
            "filter_cutoff_hz": filter_hz,
            "filter_minus_3db_hz": filter_3db_hz,
            "filter_key_tracking": voice.filter_key_tracking,
            "segment_time_s": voice.segment_time_s,
        },
        "gm_programs": sorted(programs.get(voice.name, [])),
        "gm_drum_keys": sorted(drums.get(voice.name, [])),
        "role": voice.role,
        "source": voice.source,
    }


# --- the commands --------------------------------------------------------------------------------------


def _cmd_voices(args: argparse.Namespace) -> int:
    voices, errors = all_voices()
    programs, drums = _gm_uses()
    for e in errors:
        print(f"liquidsky: warning: {e}", file=sys.stderr)
    rows = []
    for name, voice in voices.items():
        rows.append({
            "name": name, "mode": voice.mode, "origin": _origin(name), "role": voice.role,
            "source": voice.source, "gm_programs": sorted(programs.get(name, [])),
            "gm_drum_keys": sorted(drums.get(name, [])),
        })
    for name, instrument in all_instruments(errors).items():
        splits = ", ".join(f"{s.describe()} {s.voice.name}" for s in instrument.splits)
        rows.append({
            "name": name, "mode": "split", "origin": _origin(name), "role": instrument.description,
            "source": f"{len(instrument.splits)} splits: {splits}", "gm_programs": sorted(programs.get(name, [])),
            "gm_drum_keys": [], "splits": _split_facts(instrument),
        })
    # factory voices, factory instruments, then the user's voices and instruments
    rows.sort(key=lambda r: (r["origin"] != "factory", r["mode"] == "split" and r["origin"] != "factory"))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len("NAME"), *(len(r["name"]) for r in rows))
    mapped = []
    for r in rows:
        text = _ranges(r["gm_programs"])
        if r["gm_drum_keys"]:
            text = "; ".join(t for t in (text, f"keys {_ranges(r['gm_drum_keys'])}") if t)
        mapped.append(text or "-")
    map_width = max(len("GM PROGRAMS"), *(len(m) for m in mapped))
    # On a terminal, long roles are clipped at its edge (one line per voice); piped, nothing is cut.
    columns = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    lines = [f"{'NAME':<{width}}   MODE  {'FROM':<7}  {'GM PROGRAMS':<{map_width}}  ROLE (SOURCE)"]
    for r, text in zip(rows, mapped, strict=True):
        about = r["role"] + (f" ({r['source']})" if r["source"] else "")
        lines.append(f"{r['name']:<{width}}  {r['mode']:>5}  {r['origin']:<7}  {text:<{map_width}}  {about}")
    for line in lines:
        print(line if columns is None or len(line) < columns else line[: columns - 4] + "...")
    return 0


def _split_facts(instrument) -> list[dict]:
    return [{"low": note_name(s.low_key), "high": note_name(s.high_key), "low_key": s.low_key,
             "high_key": s.high_key, "voice": s.voice.name, "root": note_name(s.voice.root_key),
             "root_key": s.voice.root_key} for s in instrument.splits]


def _instrument_info(instrument, as_json: bool) -> int:
    programs, _ = _gm_uses()
    facts = {"name": instrument.name, "origin": _origin(instrument.name), "instrument": True,
             "description": instrument.description, "splits": _split_facts(instrument),
             "gm_programs": sorted(programs.get(instrument.name, []))}
    if as_json:
        print(json.dumps(facts, indent=2))
        return 0
    print(f"{instrument.name}: an instrument of {len(instrument.splits)} key splits"
          + (f", {instrument.description}" if instrument.description else ""))
    width = max(len(f"{s['low']}-{s['high']}") for s in facts["splits"])
    for s in facts["splits"]:
        keys = f"{s['low']}-{s['high']}"
        print(f"  {keys:<{width}}  {s['voice']} (root {s['root']}: clocked from it)")
    if facts["gm_programs"]:
        print(f"  General MIDI: programs {_ranges(facts['gm_programs'])}")
    print("  a key outside every split plays the nearest one")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    voice = find_voice(args.name)
    if isinstance(voice, Instrument):
        return _instrument_info(voice, args.json)
    facts = voice_facts(voice)
    if args.json:
        print(json.dumps(facts, indent=2))
        return 0
    p7 = facts["page7"]
    mode = ("Mode 1: 32 single cycles in turn" if voice.mode == 1 else "Mode 4: sampled, segments in order")
    loop = "none"
    if voice.looped:
        s, e = voice.loop_start_segment + 1, voice.loop_end_segment + 1
        n = e - s + 1
        loop = f"segments {s}-{e} of 1-128 ({n} segment{'s' if n > 1 else ''}, {n * 128:,} samples)"
    cutoff = "open" if p7["filter_cutoff_hz"] is None else (
        f"-3 dB at {p7['filter_minus_3db_hz']:,.0f} Hz, 4 poles at {p7['filter_cutoff_hz']:,.0f} Hz")
    full_levels = 2**voice.bits
    lines = [
        f"{voice.name} ({facts['origin']})",
        ("role", voice.role or "-"),
        ("source", voice.source or "-"),
        ("mode", mode),
        ("root key", f"{facts['root_note']} ({voice.root_key})"),
        ("recording rate", f"{voice.recording_rate_hz:,.0f} Hz"
         + (" (Mode 1 plays each cycle at the note's pitch)" if voice.mode == 1 else "")),
        ("wave RAM", f"{facts['bytes_used']:,} of {facts['wave_ram_bytes']:,} bytes used "
                     f"({facts['segments_used']} segments), {voice.bits}-bit"),
        ("loop", loop),
        ("distinct sample levels", f"{facts['distinct_levels']} of {full_levels:,}"),
        ("start segment", str(p7["start_segment"] + 1)),
        ("attack", f"timer {p7['attack_timer']} ({p7['attack_ms']:g} ms for a full ramp)"),
        ("decay", f"timer {p7['decay_timer']} ({p7['decay_ms']:g} ms) to sustain level {p7['sustain_level']}"),
        ("damping", f"timer {p7['damping_timer']} ({p7['damping_ms']:g} ms), {p7['curve']} curve"),
        ("volume", str(p7["volume"])),
        ("filter", f"{p7['filter']} ({cutoff}), key tracking {p7['filter_key_tracking']:g}"),
    ]
    if voice.mode == 1:
        lines.append(("segment time", f"{p7['segment_time_s'] * 1000:g} ms"))
    gm = _ranges(facts["gm_programs"]) or "-"
    if facts["gm_drum_keys"]:
        gm += f"; drum keys {_ranges(facts['gm_drum_keys'])}"
    lines.append(("General MIDI", f"programs {gm}" if facts["gm_programs"] else gm))
    print(lines[0])
    for label, text in lines[1:]:
        print(f"  {label}: {text}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    voice = find_single_voice(args.name, "voice show")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise VoiceCommandError("voice show needs matplotlib: pip install 'liquidsky[plot]'") from None

    path = draw_voice(voice, args.output)
    print(f"wrote {path}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    # Page 8 resamples with scipy.signal, which takes longer to import than all the rest of the command
    # line together (0.6 s): it loads with the command that samples, so that --help answers at once.
    from synth.library.page8 import DEFAULT_RATE_HZ, import_recording, import_soundfont

    name = user.check_name(args.name)
    if name in factory_voices() or name in factory_instruments():
        raise VoiceCommandError(f"--name {name}: a factory voice or instrument has that name; choose another")
    target = user.user_voice_path(name)
    if target.exists() and not args.force:
        raise VoiceCommandError(f"{target}: a user voice {name!r} exists already (--force replaces it)")
    rate = args.rate if args.rate is not None else DEFAULT_RATE_HZ
    if str(args.input).lower().endswith((".sf2", ".sf3")):
        if args.program is None:
            raise VoiceCommandError(f"{args.input}: a SoundFont needs --program P (and --bank B, --key K)")
        voice = import_soundfont(args.input, name, program=args.program, bank=args.bank, key=args.key,
                                 rate_hz=rate, bits=args.bits, normalize=args.normalize)
        path = user.save_user_voice(voice, replace=args.force)
        loop = (f"loop segments {voice.loop_start_segment + 1}-{voice.loop_end_segment + 1}"
                if voice.looped else "no loop")
        print(f"{path}: {rate:,.0f} Hz, root {note_name(voice.root_key)}, {loop}")
        return 0
    voice, report = import_recording(
        args.input, name, root=args.root, loop=args.loop, rate_hz=rate, fit=args.fit, bits=args.bits,
        normalize=args.normalize,
    )
    path = user.save_user_voice(voice, replace=args.force)

    parts = [f"{report.in_seconds:.2f} s"]
    if report.fitted == "rate":
        parts.append(f"too long for 16,384 samples at {rate:,.0f} Hz: recorded at {report.rate_hz:,.0f} Hz "
                     "to fit (--fit truncate keeps the rate)")
    elif report.fitted == "truncate":
        parts.append(f"too long for 16,384 samples at {rate:,.0f} Hz: cut to the first "
                     f"{report.kept_seconds:.2f} s (--fit rate keeps it all)")
    else:
        parts.append(f"{report.rate_hz:,.0f} Hz")
    parts.append(f"{report.n_used:,} samples")
    if report.pitch is not None:
        parts.append(f"root {note_name(voice.root_key)} detected ({report.pitch.freq_hz:.1f} Hz, "
                     f"{report.pitch.cents:+.0f} cents)")
    else:
        parts.append(f"root {note_name(voice.root_key)}")
    if voice.looped:
        parts.append(f"loop segments {voice.loop_start_segment + 1}-{voice.loop_end_segment + 1}")
    elif args.loop == "auto":
        parts.append("no loop found (the sound plays once)")
    else:
        parts.append("no loop")
    parts.append("silent" if report.peak_dbfs == float("-inf") else f"peak {report.peak_dbfs:.1f} dBFS")
    print(f"imported {args.input} as {name}: {', '.join(parts)}; saved to {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    voice = find_single_voice(args.name, "voice export")
    out = args.output
    flac = out.lower().endswith(".flac")
    if voice.bits == 8:
        # WAV stores 8-bit samples as offset binary, FLAC as signed: either way the levels go
        # through unchanged when given as 16-bit values with a zero low byte.
        data, subtype = voice.wave.astype(np.int16) * 256, "PCM_S8" if flac else "PCM_U8"
    else:
        data, subtype = voice.wave.astype(np.int16), "PCM_16"
    rate = int(round(voice.recording_rate_hz))
    tmp = os.path.join(os.path.dirname(out) or ".", f".{os.path.basename(out)}.partial-{os.getpid()}")
    try:
        sf.write(tmp, data, rate, subtype=subtype, format="FLAC" if flac else "WAV")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"wrote {out}: {len(data):,} samples at {rate:,} Hz, {voice.bits}-bit, "
          f"{len(data) / rate:.3f} s")
    return 0
