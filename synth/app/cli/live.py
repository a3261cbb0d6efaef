"""The command line's live subcommands: play, live and devices (registered into synth.app.cli.main's parser)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from synth import live, midiin
from synth.app.cli.options import (
    add_style_options,
    add_voice_options,
    audio_path,
    format_clock,
    int_in,
    positive_seconds,
    seconds_in,
    source_from_args,
    voice_set_from_args,
)
from synth.app.limits import RATE_MAX_HZ, RATE_MIN_HZ, VOICES_MAX, VOICES_MIN
from synth.engine import Engine
from synth.hardware import DEFAULT_PROFILE, PROFILES
from synth.keys import KeyboardInput, KeysError, layout_help
from synth.midifile import pack_events
from synth.sinks import AudioFileWriter

BLOCK_MIN, BLOCK_MAX = 16, 8192
BUFFER_MIN_S, BUFFER_MAX_S = 0.02, 60.0


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands to the parser (common: the shared --debug option)."""

    def add_output_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--device", metavar="ID",
                            help="the audio output: its number or part of its name from 'liquidsky devices' "
                                 "(default: the system's default output)")
        parser.add_argument("--audio", choices=("auto", "jack", "portaudio"), type=str.lower, default="auto",
                            help="the audio path: jack is liquidsky's own JACK client (needs libjack and a running "
                                 "JACK server, not PortAudio), portaudio is PortAudio's output on any device, auto "
                                 "(the default) is the JACK client when the output chosen is PortAudio's JACK "
                                 "device, else PortAudio")
        parser.add_argument("--blocksize", metavar="FRAMES", type=int_in(BLOCK_MIN, BLOCK_MAX), default=256,
                            help="frames per audio block, the unit of rendering and of latency "
                                 f"({BLOCK_MIN}-{BLOCK_MAX}, default 256: 5.3 ms at 48 kHz)")
        parser.add_argument("--rate", metavar="HZ", type=int_in(RATE_MIN_HZ, RATE_MAX_HZ, " Hz"), default=None,
                            help="sample rate in Hz (default: the device's own; a JACK server plays only at "
                                 "its own rate)")
        parser.add_argument("--record", metavar="OUT", type=audio_path,
                            help="also write what is played to OUT.wav or OUT.flac (complete even when "
                                 "stopped with Ctrl-C)")
        parser.add_argument("--model", choices=list(PROFILES), default=DEFAULT_PROFILE, type=str.lower,
                            help=f"which CMI to emulate (default {DEFAULT_PROFILE})")
        parser.add_argument("--voices", metavar="N", type=int_in(VOICES_MIN, VOICES_MAX), default=None,
                            help=f"number of voices (cards), {VOICES_MIN}-{VOICES_MAX} (default: the model's own)")
        _add_voice_options(parser)
        parser.add_argument("-q", "--quiet", action="store_true",
                            help="no status line; the closing report and errors are still printed")

    play = commands.add_parser(
        "play", parents=[common],
        help="play a MIDI file (or a built-in piece) through the sound card in real time",
        description=(
            "Play a MIDI file through the sound card as the CMI's channel cards would, with a status "
            "line (time, voices in use, underruns). Ctrl-C stops at once; a recording made with "
            "--record is then closed as a complete file. Needs PortAudio (sudo apt-get install "
            "libportaudio2) and the sounddevice package (pip install 'liquidsky[live]'); with --audio jack, "
            "the JACK library (sudo apt-get install libjack-jackd2-0) and a running JACK server instead."
        ),
    )
    play.add_argument("source", metavar="SOURCE",
                      help="a .mid file, a Page R song (.toml), or the name of a built-in piece (try 'demo') or "
                           "of a score")
    add_style_options(play)
    add_output_options(play)
    play.add_argument("--buffer", metavar="SECONDS", type=seconds_in(BUFFER_MIN_S, BUFFER_MAX_S), default=None,
                      help="audio rendered ahead of the sound card, to ride out a busy machine "
                           f"({BUFFER_MIN_S:g}-{BUFFER_MAX_S:g} s, default 2; rendered before the sound starts)")
    play.set_defaults(run=_cmd_play)

    live = commands.add_parser(
        "live", parents=[common],
        help="play the CMI from a MIDI keyboard (or the computer keyboard) in real time",
        description=(
            "Play the CMI live: notes, velocity, program changes, controllers, pitch bend and sustain "
            "from a MIDI input reach the cards on the frame matching their arrival, a constant three "
            "audio blocks later (with the device's own latency on top). Stop with Ctrl-C "
            "(or Esc with --keys). Without --midi-in and --keys, the first MIDI input port is opened, "
            "or a port named 'liquidsky' for other programs to connect to when there is none."
        ),
    )
    live.add_argument("--midi-in", metavar="PORT",
                      help="a MIDI input port (its number or part of its name, see 'liquidsky devices'), or "
                           "'virtual' for a port named 'liquidsky' that other programs connect to")
    live.add_argument("--midi-backend", choices=("alsa", "jack"), type=str.lower, default=None,
                      help="the MIDI system to use (default: the ALSA sequencer where present, else JACK)")
    live.add_argument("--keys", action="store_true",
                      help="play from the computer keyboard: z-m and q-u are two octaves as in trackers, "
                           "- and = shift the octave, space is the sustain pedal, Esc quits")
    live.add_argument("--duration", metavar="SECONDS", type=positive_seconds, default=None,
                      help="stop after this many seconds (default: run until Ctrl-C)")
    add_output_options(live)
    live.set_defaults(run=_cmd_live)

    devices = commands.add_parser(
        "devices", parents=[common],
        help="list audio outputs and MIDI inputs, and what is missing to use them",
        description="List the audio outputs and MIDI input ports play and live can use, and say what to "
                    "install or start when there are none.",
    )
    devices.set_defaults(run=_cmd_devices)


# --- voice options ---------------------------------------------------------------------------------
# --voice [CH=]NAME and --program-map FILE, the same as render's (synth.app.cli.voice).


def _add_voice_options(parser: argparse.ArgumentParser) -> None:
    add_voice_options(parser)


def _voice_set(args: argparse.Namespace):
    """The VoiceSet the voice options ask for (the General MIDI default without them)."""
    return voice_set_from_args(args, getattr(args, "source", None))


# --- shared -----------------------------------------------------------------------------------------


def _open_output(command: str, args: argparse.Namespace):
    """(the card, the device, the rate): fails first, in one line, when a library or the server is missing."""
    return live.open_output(command, args.device, args.rate, args.audio)


def _engine_factory(args: argparse.Namespace, rate_hz: int):
    voices = _voice_set(args)

    def make():
        return Engine(model=args.model, rate_hz=rate_hz, n_voices=args.voices, voices=voices)

    return make


class _StatusLine:
    """One line on stderr, rewritten in place: time, voices in use, underruns."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.width = 0

    def __call__(self, status) -> None:
        if not self.enabled:
            return
            text = f"  {format_clock(status.played_s)}"
        if status.expected_s:
            text += f" / {format_clock(status.expected_s)}"
        text += f"   voices {status.n_sounding}/{status.n_cards}   underruns {status.underruns}"
        pad = max(0, self.width - len(text))
        self.width = len(text)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()

    def end(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.width = 0


def _summary(report, device, recorded: str | None, n_dropped: int = 0) -> str:
    plural = "" if report.underruns == 1 else "s"
    line = (f"{format_clock(report.played_s)} at {report.rate_hz} Hz in {report.block_frames}-frame blocks "
            f"on {device.name} ({device.hostapi}): {report.underruns} underrun{plural}")
    if report.underruns:
        line += f" ({report.device_underruns} reported by the device, {report.empty_blocks} blocks not ready)"
        times = getattr(report, "device_underrun_s", ())
        if times:
            line += (" [device underruns at " + ", ".join(f"{t:.2f}" for t in times[:8])
                     + (" ..." if len(times) > 8 else "") + f" s of {report.device_s:.2f} s]")
    if report.notes_stolen:
        line += f", {report.notes_stolen} notes stolen"
    if getattr(report, "late_messages", 0):
        line += f", {report.late_messages} MIDI messages late (played where the next block began)"
    if n_dropped:
        line += f", {n_dropped} MIDI messages dropped (they came faster than they could be played)"
    if recorded:
        line += f"; recorded {recorded}"
    return line


def _run_keeping_recording(player, sd, device, status, recorder, record_path: str | None):
    """player.run; when the device goes away mid-way, the recording so far is closed as a complete
    file and the error says where it is."""
    try:
        return player.run(sd, device.index, on_status=status)
    except live.DeviceLostError as e:
        if recorder is None:
            raise
        recorder.close()
        raise live.DeviceLostError(f"{e}; what was played until then is in {record_path}") from None


# --- the commands -----------------------------------------------------------------------------------


def _cmd_play(args: argparse.Namespace) -> int:
    name, midi = source_from_args(args)  # a bad file or style is named before the device is opened
    sd, device, rate_hz = _open_output("play", args)
    events = pack_events(midi, rate_hz)
    del midi  # the packed events are all the player needs, in a fraction of the memory
    make_engine = _engine_factory(args, rate_hz)
    live.warm_up(make_engine, args.blocksize)
    feed = live.FileFeed(events, make_engine(), args.blocksize, events.end_frame)
    status = _StatusLine(enabled=not args.quiet and sys.stderr.isatty())
    recorder = AudioFileWriter(args.record, rate_hz, 2) if args.record else None
    try:
        buffer_s = live.PLAY_BUFFER_S if args.buffer is None else args.buffer
        ring_blocks = max(live.RING_BLOCKS_PLAY, live.ring_blocks_for(buffer_s, rate_hz, args.blocksize))
        player = live.Player(feed, rate_hz=rate_hz, block_frames=args.blocksize,
                             ring_blocks=ring_blocks, recorder=recorder)
        if not args.quiet:
            print(f"playing {name} on {device.name} ({device.hostapi}); Ctrl-C stops", flush=True)
        try:
            report = _run_keeping_recording(player, sd, device, status, recorder, args.record)
        finally:
            status.end()
        if recorder is not None:
            recorder.close()
    except BaseException:
        if recorder is not None:
            recorder.abort()
        raise
    verb = "stopped after" if report.interrupted is not None else "played"
    print(f"{verb} {_summary(report, device, args.record)}", flush=True)
    if report.interrupted is not None:
        raise report.interrupted
    return 0


def _cmd_live(args: argparse.Namespace) -> int:
    sd, device, rate_hz = _open_output("live", args)
    midi_port = args.midi_in
    use_midi = midi_port is not None or not args.keys
    backend = None
    if use_midi:
        backend = midiin.choose_backend(args.midi_backend, "live")
        if midi_port is None:
            midi_port = midiin.default_port(midiin.input_names(backend))
    if args.keys:
        _check_terminal()

    make_engine = _engine_factory(args, rate_hz)
    live.warm_up(make_engine, args.blocksize)
    inbox = live.Inbox()
    max_frames = round(args.duration * rate_hz) if args.duration else None
    feed = live.LiveFeed(make_engine(), inbox, max_frames=max_frames)
    status = _StatusLine(enabled=not args.quiet and sys.stderr.isatty())

    with contextlib.ExitStack() as stack:
        if use_midi:
            port = stack.enter_context(midiin.open_input(midi_port, backend, inbox))
            if not args.quiet:
                how = "other programs can connect to it" if port.virtual else "listening"
                print(f"MIDI in: {port.name} ({backend}); {how}", flush=True)
        recorder = None
        if args.record:
            recorder = AudioFileWriter(args.record, rate_hz, 2)
            stack.callback(recorder.abort)  # after an error; a no-op once closed
        player = live.Player(feed, rate_hz=rate_hz, block_frames=args.blocksize,
                             ring_blocks=live.RING_BLOCKS_LIVE, recorder=recorder)
        if args.keys:
            keyboard = KeyboardInput(inbox, on_quit=feed.finish)
            if not args.quiet:
                print(layout_help(keyboard.state.octave), flush=True)
            stack.enter_context(keyboard)
        if not args.quiet:
            print(f"playing live on {device.name} ({device.hostapi}); Ctrl-C stops", flush=True)
        try:
            report = _run_keeping_recording(player, sd, device, status, recorder, args.record)
        finally:
            status.end()
        if recorder is not None:
            recorder.close()
    print(f"played live {_summary(report, device, args.record, inbox.n_dropped)}", flush=True)
    if report.interrupted is not None and type(report.interrupted) is not KeyboardInterrupt:
        raise report.interrupted  # SIGTERM: reported as such; Ctrl-C is how live ends
    return 0


def _check_terminal() -> None:
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, OSError):
        fd = -1
    if fd < 0 or not os.isatty(fd):
        raise KeysError("--keys needs a terminal: standard input is not one")


def _cmd_devices(args: argparse.Namespace) -> int:
    try:
        sd = live.import_sounddevice("play")
    except live.LiveError as e:
        print(f"audio outputs: none usable ({e})")
        sd = None
    if sd is not None:
        version = sd.get_portaudio_version()[1]
        outputs = live.output_devices(sd)
        print(f"audio outputs ({version}):")
        if not outputs:
            print("  none found: start a JACK server (jackd -d alsa; jackd -d dummy without a sound card) "
                  "or check that ALSA sees a card (/dev/snd)")
        for dev in outputs:
            default = "  (default)" if dev.is_default else ""
            print(f"  {dev.index:>2}  {dev.name} [{dev.hostapi}], {dev.n_channels} channels, "
                  f"{dev.default_rate_hz} Hz{default}")
    jack = live.JackCard()
    try:
        rate_hz, period_frames = jack.server_info("play --audio jack")
    except live.LiveError as e:
        print(f"JACK: {e}")
    else:
        print(f"JACK server '{jack.server_label}': {rate_hz} Hz, {period_frames}-frame periods; play and live "
              "play to it through liquidsky's own JACK client (--audio jack, and the default for PortAudio's "
              "JACK device)")

    try:
        rtmidi = midiin.import_rtmidi("live")
    except midiin.MidiInError as e:
        print(f"MIDI inputs: none usable ({e})")
        return 0
    working = []
    for name in midiin.compiled_backends(rtmidi):
        if midiin.backend_works(rtmidi, name):
            working.append(name)
        else:
            why = (f"{midiin.ALSA_SEQUENCER} is missing: sudo modprobe snd-seq" if name == "alsa"
                   else "no JACK server running")
            print(f"MIDI backend {name}: not available ({why})")
    if not working:
        print(f"MIDI inputs: none usable ({midiin.missing_backend_message()})")
    for name in working:
        ports = midiin.input_names(name)
        print(f"MIDI inputs ({name}):")
        for i, port in enumerate(ports):
            print(f"  {i:>2}  {port}")
        if not ports:
            print("  none; 'liquidsky live --midi-in virtual' opens a port named 'liquidsky' to connect to")
    return 0
