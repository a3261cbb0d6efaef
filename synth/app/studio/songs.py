"""Page R in the studio: the song being edited as the page holds it, the song folder, and playing it.

The page holds a song in the shape of its TOML file (synth.pager.fileformat): title, speed, grid,
metre, song, sections, registers and patterns with a track string per track. The server turns it
into a Song by writing that TOML and reading it with loads_song, so a song from the page is
checked exactly as a file is, and every error names its field.
"""

from __future__ import annotations

import json

import tomllib
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from synth.app.studio.security import check_name
from synth.app.studio.session import StudioError
from synth.midifile import timed_events
from synth.pager import (
    dumps_song,
    folder,
    load_song,
    loads_song,
    save_song,
    song_channel_voices,
    song_to_midi,
    speed_to_bpm,
    step_start_s,
)

LOOP_TIMES = 64  # "loop a pattern" plays it this many times unless stopped (a choice: minutes at any tempo)
_TOP = ("title", "speed", "bpm", "grid", "metre", "song")


def _q(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise StudioError(f"a song value must be text or a number, not {value!r}")
    return json.dumps(value)  # a JSON string or number is a TOML basic string or number


def _key(text: object) -> str:
    if not isinstance(text, str) or not text or not all(c.isalnum() or c in "_-" for c in text):
        raise StudioError(f"{text!r} is not a song file key")
    return text


def song_toml(data: dict) -> str:
    """The TOML text of a song in the page's shape (the song file's own shape)."""
    if not isinstance(data, dict):
        raise StudioError("a song is an object")
    lines = []
    for key, value in data.items():
        if key not in ("sections", "registers", "patterns"):
            lines.append(f"{_key(key)} = {_q(value)}")
    for table in ("sections", "registers"):
        entries = data.get(table) or {}
        if not isinstance(entries, dict):
            raise StudioError(f"{table} must be an object")
        if entries:
            lines.append(f"[{table}]")
        for key, value in entries.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{_key(k)} = {_q(v)}" for k, v in value.items())
                lines.append(f"{_key(key)} = {{ {inner} }}")
            else:
                lines.append(f"{_key(key)} = {_q(value)}")
    patterns = data.get("patterns") or {}
    if not isinstance(patterns, dict):
        raise StudioError("patterns must be an object")
    for number, pattern in patterns.items():
        if not isinstance(pattern, dict):
            raise StudioError(f"pattern {number!r} must be an object")
        lines.append(f"[patterns.{_key(str(number))}]")
        for key, value in pattern.items():
            lines.append(f"{_key(key)} = {_q(value)}")
    return "\n".join(lines) + "\n"


def song_from_page(data: dict):
    """The Song the page describes (SongFileError, a ValueError, naming the field when it breaks a rule)."""
    return loads_song(song_toml(data), name="song")


def song_to_page(song) -> dict:
    """A Song in the page's shape."""
    return tomllib.loads(dumps_song(song))


def routes(session, read_json) -> list:
    """The Page R routes: list, load, save, play (from a step, or a pattern looped), stop."""
    async def songs(request: Request) -> JSONResponse:
        return JSONResponse({"songs": folder.user_song_names(), "folder": str(folder.song_dir())})

    async def load(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = check_name(data.get("name"), "song")
        path = folder.user_song_path(name)
        if not path.is_file():
            raise StudioError(f"no song {name!r} in the song folder")
        song = load_song(path)
        session.song = song
        return JSONResponse({"name": name, "song": song_to_page(song)})

    async def save(request: Request) -> JSONResponse:
        data = await read_json(request)
        name = check_name(data.get("name"), "song")
        song = song_from_page(data.get("song"))
        path = folder.user_song_path(name)
        if path.exists() and not data.get("replace"):
            raise StudioError(f"a song {name!r} exists already (tick REPLACE to replace it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_song(song, path)
        session.song = song
        return JSONResponse({"saved": name, "file": path.name})

    async def check(request: Request) -> JSONResponse:
        data = await read_json(request)
        song = song_from_page(data.get("song"))
        steps = [{"step": i + 1, "entry": e if isinstance(e, str) else f"{e.pattern}x{e.repeats}",
                  "bars": song.entry_bars(e), "start_s": round(t, 4)}
                 for i, (e, t) in enumerate(zip(song.song, step_start_s(song), strict=True))]
        return JSONResponse({"speed": song.speed, "bpm": round(speed_to_bpm(song.speed), 3),
                             "song": song_to_page(song), "steps": steps})

    async def play(request: Request) -> JSONResponse:
        data = await read_json(request)
        song = song_from_page(data.get("song"))
        feed = session.feed
        if feed is None:
            raise StudioError("no sound yet: the page's sound has not started")
        from_step = data.get("from_step", 0)
        loop = data.get("loop_pattern")
        if isinstance(from_step, bool) or not isinstance(from_step, int) or not 0 <= from_step < len(song.song):
            raise StudioError(f"from_step must be 0..{len(song.song) - 1}")
        if loop is not None and (isinstance(loop, bool) or not isinstance(loop, int)):
            raise StudioError("loop_pattern must be a pattern number")
        midi = song_to_midi(song, from_step=from_step,
                            loop_pattern=None if loop is None else (loop, LOOP_TIMES))
        session.set_song_voices(song_channel_voices(song))
        session.song = song
        events = [(e.frame, e.message) for e in timed_events(midi, feed.rate_hz)]
        start = feed.play_events(events)
        return JSONResponse({"playing": True, "start_frame": start, "rate_hz": feed.rate_hz,
                             "n_events": len(events)})

    async def stop(request: Request) -> JSONResponse:
        if session.feed is not None:
            session.feed.stop_events()
        return JSONResponse({"playing": False})

    return [
        Route("/api/songs", songs),
        Route("/api/song/load", load, methods=["POST"]),
        Route("/api/song/save", save, methods=["POST"]),
        Route("/api/song/check", check, methods=["POST"]),
        Route("/api/song/play", play, methods=["POST"]),
        Route("/api/song/stop", stop, methods=["POST"]),
    ]
