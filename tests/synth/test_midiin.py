"""Live MIDI input: choosing the backend and the port, and messages from a port reaching the inbox."""

from __future__ import annotations

import builtins
import sys
import time

import mido
import pytest
from jack_tools import jack_server, require_rtmidi  # noqa: F401  (jack_server is a fixture)

from synth import midiin
from synth.live import Inbox


def test_a_port_is_found_by_whole_name_number_or_a_part_only_it_has():
    names = ["Midi Through:Midi Through Port-0 14:0", "USB Keys:USB Keys MIDI 1 20:0", "fakekbd:kbd"]
    assert midiin.resolve_port("fakekbd:kbd", names) == "fakekbd:kbd"
    assert midiin.resolve_port("1", names) == "USB Keys:USB Keys MIDI 1 20:0"
    assert midiin.resolve_port("usb", names) == "USB Keys:USB Keys MIDI 1 20:0"
    with pytest.raises(midiin.MidiInError, match="more than one MIDI input port matches ':'"):
        midiin.resolve_port(":", names)
    with pytest.raises(midiin.MidiInError, match=r"no MIDI input port matches 'piano' \(ports: Midi Through"):
        midiin.resolve_port("piano", names)
    with pytest.raises(midiin.MidiInError, match=r"\(ports: none\)"):
        midiin.resolve_port("0", [])


def test_the_default_port_skips_pass_throughs_and_our_own_else_is_virtual():
    assert midiin.default_port(["Midi Through:Midi Through Port-0 14:0", "USB Keys:MIDI 1"]) == "USB Keys:MIDI 1"
    assert midiin.default_port(["Midi Through:Midi Through Port-0 14:0", "liquidsky:liquidsky"]) == "virtual"
    assert midiin.default_port([]) == "virtual"


def test_an_unknown_backend_is_refused():
    pytest.importorskip("rtmidi")
    with pytest.raises(midiin.MidiInError, match="unknown MIDI backend 'coremidi' \\(use alsa or jack\\)"):
        midiin.choose_backend("coremidi")


def test_alsa_without_the_sequencer_device_says_how_to_load_it(monkeypatch, tmp_path):
    rtmidi = pytest.importorskip("rtmidi")
    if "alsa" not in midiin.compiled_backends(rtmidi):
        pytest.skip("python-rtmidi built without ALSA")
    monkeypatch.setattr(midiin, "ALSA_SEQUENCER", str(tmp_path / "no-seq"))
    with pytest.raises(midiin.MidiInError, match="the alsa MIDI backend does not work here: .*modprobe snd-seq"):
        midiin.choose_backend("alsa")


def test_no_working_backend_names_both_ways_to_get_one(monkeypatch, tmp_path):
    pytest.importorskip("rtmidi")
    monkeypatch.setattr(midiin, "backend_works", lambda rtmidi, name: False)
    with pytest.raises(midiin.MidiInError) as e:
        midiin.choose_backend()
    assert "snd-seq" in str(e.value) and "jackd -d dummy" in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_rtmidi_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_rtmidi(name, *args, **kwargs):
        if name == "rtmidi":
            raise ImportError("No module named 'rtmidi'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "rtmidi", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_rtmidi)
    with pytest.raises(midiin.MidiInError) as e:
        midiin.import_rtmidi("live")
    assert str(e.value) == "live needs the python-rtmidi package: pip install 'liquidsky[live]'"


def _wait_for(inbox: Inbox, n: int, timeout_s: float = 5.0) -> list[mido.Message]:
    got: list[mido.Message] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        got += [m for _, m in inbox.drain()]
        time.sleep(0.005)
    return got


def test_messages_sent_to_the_virtual_port_arrive_in_the_inbox(jack_server):  # noqa: F811
    require_rtmidi()
    backend = midiin.choose_backend()
    inbox = Inbox()
    sent = [
        mido.Message("program_change", channel=2, program=19),
        mido.Message("note_on", channel=2, note=61, velocity=93),
        mido.Message("control_change", channel=2, control=64, value=127),
        mido.Message("pitchwheel", channel=2, pitch=-4096),
        mido.Message("note_off", channel=2, note=61, velocity=0),
    ]
    with midiin.open_input("virtual", backend, inbox) as port:
        assert port.virtual
        assert port.name.startswith("liquidsky:")
        with midiin.mido_backend(backend).open_output(port.name) as sender:
            sender.send(mido.Message("clock"))  # dropped: it means nothing to the cards
            for message in sent:
                sender.send(message)
            got = _wait_for(inbox, len(sent))
    assert [m.bytes() for m in got] == [m.bytes() for m in sent]


def test_a_named_port_of_another_program_is_opened_and_read(jack_server):  # noqa: F811
    require_rtmidi()
    backend = midiin.choose_backend()
    api = midiin.mido_backend(backend)
    inbox = Inbox()
    with api.open_output("keys", client_name="testkeyboard") as keyboard:
        assert any("testkeyboard" in name for name in midiin.input_names(backend))
        with midiin.open_input("testkeyboard", backend, inbox) as port:
            assert not port.virtual
            assert "testkeyboard" in port.name
            time.sleep(0.05)  # JACK connects the ports on its next cycle
            keyboard.send(mido.Message("note_on", note=72, velocity=40))
            got = _wait_for(inbox, 1)
    assert [(m.type, m.note, m.velocity) for m in got] == [("note_on", 72, 40)]
