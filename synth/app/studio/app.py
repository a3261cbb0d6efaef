"""The studio's web application: the routes, as a Starlette app on uvicorn.

Starlette because it is small, well kept and typed, serves static files and WebSockets in one ASGI
app, and lets tests drive the whole app in process (starlette.testclient) as well as over a socket;
uvicorn because it is Starlette's reference server and runs in a thread for the tests. FastAPI
would add request models and docs pages the studio does not need; aiohttp would bring a second
HTTP stack beside httpx2 (what starlette.testclient drives).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import os
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs

import mido
import numpy as np
import soundfile as sf
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from synth import hardware as hw
from synth.app.studio import security, songs
from synth.app.studio.audio import BLOCK_FRAMES
from synth.app.studio.session import KEYBOARD_CHANNEL, REGISTER_LETTERS, StudioError, StudioSession, profile_of
from synth.errors import user_errors
from synth import catalog
from synth.library import page7, page8, paged, user
from synth.library.page8 import Page8Error
from synth.voice import VoiceError

STATIC_DIR = Path(__file__).parent / "static"
# An upload (a recording for Page 8) may be at most this big: a minute of 48 kHz stereo 24-bit WAV
# is 17 MB; 32 MB leaves room and keeps a runaway upload from filling memory (a choice).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024  # a Page R song or a profile is a few tens of KB
# The stream renders this far ahead of the wall clock (a choice: a few blocks, well under what a key
# press would notice, enough that the page's worklet never runs dry on a busy machine).
LEAD_S = 0.12


def _user_errors() -> tuple[type[BaseException], ...]:
    return (StudioError, security.NameError_, VoiceError, Page8Error, *user_errors())


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class TokenGuard:
    """ASGI middleware: a request without the token, or from another origin or host, goes no further."""

    def __init__(self, app, token: str, host: str, port: int) -> None:
        self.app = app
        self.token = token
        # A server told to listen on every address (0.0.0.0) cannot know the names it is reached by.
        self.hosts = None if host in ("0.0.0.0", "::", "") else security.allowed_hosts(host, port)
        self.cookie = f"{security.TOKEN_COOKIE}_{port}"  # cookies do not tell ports apart

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        cookies = {}
        with contextlib.suppress(Exception):
            jar = SimpleCookie(headers.get("cookie", ""))
            cookies = {k: m.value for k, m in jar.items()}
        cookies = {security.TOKEN_COOKIE: cookies[self.cookie]} if self.cookie in cookies else {}
        problem = None
        if self.hosts is not None and headers.get("host") not in self.hosts:
            problem = "this server answers only to its own address"
        elif not security.token_matches(security.request_token(query, headers, cookies), self.token):
            problem = "the studio's token is missing or wrong: open the URL liquidsky studio printed"
        else:
            state_changing = scope["type"] == "websocket" or scope.get("method") not in security.SAFE_METHODS
            hosts = self.hosts or {headers.get("host", "")}
            foreign = (not security.origin_allowed(headers.get("origin"), hosts, require=False)
                       or headers.get("sec-fetch-site") == "cross-site")
            if state_changing and foreign:
                problem = "requests from other web pages are refused"
        if problem is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": problem})
                return
            await error(problem, 403)(scope, receive, send)
            return
        scope.setdefault("state", {})["token_from_query"] = query.get(security.TOKEN_QUERY) is not None
        await self.app(scope, receive, send)


async def _json(request: Request) -> dict:
    body = await _body(request, MAX_JSON_BYTES)
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise StudioError("the request's body is not JSON") from None
    if not isinstance(data, dict):
        raise StudioError("the request's body must be a JSON object")
    return data


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, or a 413 error once it passes `limit` bytes (counted as it arrives)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise TooLarge(limit)
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > limit:
            raise TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is larger than {limit // (1024 * 1024)} MB")


def voice_json(session: StudioSession) -> dict:
    """The voice being edited as the pages draw it."""
    voice = session.voice
    return {
        "name": voice.name,
        "bits": voice.bits,
        "recording_rate_hz": voice.recording_rate_hz,
        "parameters": page7.parameters(voice),
        "wave": voice.wave.tolist(),
        "peaks": paged.segment_peaks(voice).tolist(),
        "profile": session.profile.round(4).tolist(),
        "volume": session.volume.round(4).tolist(),
        "envelope": [[round(t, 5), level] for t, level in page7.envelope_points(voice)],
        "source": voice.source,
    }


def note_message(data: dict) -> mido.Message:
    """A key of the page's keyboard as a MIDI message on the keyboard's channel."""
    kind = data.get("type")
    note = data.get("note")
    velocity = data.get("velocity", 100)
    if kind not in ("note_on", "note_off"):
        raise StudioError("a note is note_on or note_off")
    for what, value in (("note", note), ("velocity", velocity)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 127:
            raise StudioError(f"{what} must be 0..127")
    return mido.Message(kind, channel=KEYBOARD_CHANNEL, note=note, velocity=velocity)


def build_app(session: StudioSession, token: str, host: str = "127.0.0.1", port: int = 0) -> Starlette:
    """The studio as an ASGI app around one session; every route behind the token guard."""
    cookie = f"{security.TOKEN_COOKIE}_{port}"

    async def index(request: Request) -> Response:
        response = FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})
        if request.scope.get("state", {}).get("token_from_query"):
            # The cookie carries the token from now on; the page takes it out of the address bar.
            # (Served here rather than redirected: a SameSite=Strict cookie is not sent on a redirect
            # that a link from another site started.)
            response.set_cookie(cookie, token, httponly=True, samesite="strict", path="/")
        return response

    async def state(request: Request) -> Response:
        return JSONResponse({
            "model": session.model,
            "n_cards": session.n_cards(),
            "output": session.output,
            "registers": [{"letter": letter, "voice": r.voice, "polyphony": r.polyphony}
                          for letter, r in zip(REGISTER_LETTERS, session.registers, strict=True)],
            "voices": catalog.voice_names(),
            "user_voices": user.user_voice_names(),
            "segment_samples": hw.SEGMENT_SAMPLES,
        })

    async def get_voice(request: Request) -> Response:
        return JSONResponse(voice_json(session))

    async def compute(request: Request) -> Response:
        data = await _json(request)
        session.compute_profile(data.get("profile"), data.get("volume"))
        return JSONResponse(voice_json(session))

    async def params(request: Request) -> Response:
        data = await _json(request)
        changes = data.get("parameters")
        if not isinstance(changes, dict):
            raise StudioError("parameters must be an object of Page 7 names and values")
        session.set_parameters(changes)
        return JSONResponse(voice_json(session))

    async def segment(request: Request) -> Response:
        data = await _json(request)
        index = data.get("segment")
        if isinstance(index, bool) or not isinstance(index, int):
            raise StudioError("segment must be a number 0..127")
        levels = data.get("levels")
        if not isinstance(levels, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in levels):
            raise StudioError("levels must be a list of whole numbers")
        session.set_segment(index, levels)
        return JSONResponse(voice_json(session))

    async def macro(request: Request) -> Response:
        data = await _json(request)
        first, last, gain = data.get("first"), data.get("last"), data.get("gain", 1.0)
        for what, value in (("first", first), ("last", last), ("gain", gain)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise StudioError(f"{what} must be a number")
            if what != "gain" and value != int(value):
                raise StudioError(f"{what} must be a number")
        session.segment_macro(data.get("macro"), int(first), int(last), float(gain))
        return JSONResponse(voice_json(session))

    async def load(request: Request) -> Response:
        data = await _json(request)
        session.load_voice(data.get("name"))
        return JSONResponse(voice_json(session))

    async def undo(request: Request) -> Response:
        session.undo()
        return JSONResponse(voice_json(session))

    async def save(request: Request) -> Response:
        data = await _json(request)
        path = session.save_voice(data.get("name"), replace=bool(data.get("replace", False)))
        return JSONResponse({"saved": session.voice.name, "file": path.name})

    async def delete(request: Request) -> Response:
        data = await _json(request)
        session.delete_voice(data.get("name"))
        return JSONResponse({"deleted": data.get("name")})

    async def page8_import(request: Request) -> Response:
        q = request.query_params
        name = security.check_name(q.get("name", "sample"), "voice")
        root_text = q.get("root", "60")
        root: int | str = "auto" if root_text == "auto" else _int(root_text, 0, 127, "root")
        loop_text = q.get("loop", "none")
        loop: str | tuple[int, int] = loop_text
        if loop_text not in ("none", "auto"):
            start, _, end = loop_text.partition(":")
            loop = (_int(start, 1, 128, "loop start") - 1, _int(end, 1, 128, "loop end") - 1)
        rate_hz = _int(q.get("rate", str(int(page8.DEFAULT_RATE_HZ))), 4000, 100_000, "rate")
        fit = q.get("fit", "rate")
        if fit not in page8.FITS:
            raise StudioError(f"fit must be one of {', '.join(page8.FITS)}, not {fit!r}")
        body = await _body(request, MAX_UPLOAD_BYTES)
        if not body:
            raise StudioError("the upload is empty")
        # The recording goes to a temporary file of ours (never a path from the browser) and through
        # the same import as `liquidsky voice import`, with its checks.
        fd, tmp = tempfile.mkstemp(prefix="liquidsky-upload-", suffix=".audio")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            voice, report = await asyncio.to_thread(
                page8.import_recording, tmp, name, root=root, loop=loop, rate_hz=rate_hz, fit=fit,
                normalize=q.get("normalize") == "1")
        finally:
            os.unlink(tmp)
        session.set_voice(voice.with_params(source="sampled from an upload"))

        session.profile = profile_of(session.voice)
        out = voice_json(session)
        out["report"] = {"rate_hz": report.rate_hz, "n_used": report.n_used, "fitted": report.fitted,
                         "peak_dbfs": report.peak_dbfs,
                         "root": voice.root_key}
        return JSONResponse(out)

    async def registers(request: Request) -> Response:
        data = await _json(request)
        session.set_registers(data.get("registers"))
        return await state(request)

    async def note(request: Request) -> Response:
        session.send(note_message(await _json(request)))
        return JSONResponse({"ok": True})

    async def output(request: Request) -> Response:
        data = await _json(request)
        which = data.get("output")
        if which == "card":
            name = await asyncio.to_thread(session.use_card, data.get("device"))
            return JSONResponse({"output": "card", "device": name})
        if which == "browser":
            session.output = "browser"
            return JSONResponse({"output": "browser"})
        raise StudioError("output is 'browser' or 'card'")

    async def recording(request: Request) -> Response:
        data = await _json(request)
        feed = session.feed
        if feed is None:
            raise StudioError("no sound is playing yet: open the page's sound first")
        if data.get("action") == "start":
            feed.start_recording()
            return JSONResponse({"recording": True})
        if data.get("action") == "stop":
            feed.stop_recording()
            return JSONResponse({"recording": False})
        raise StudioError("action is 'start' or 'stop'")

    async def recording_wav(request: Request) -> Response:
        feed = session.feed
        audio = feed.recording() if feed is not None else np.zeros((0, 2), np.float32)
        buf = io.BytesIO()
        sf.write(buf, audio, feed.rate_hz if feed else 48000, format="WAV", subtype="FLOAT")
        return Response(buf.getvalue(), media_type="audio/wav")

    async def audio_ws(websocket: WebSocket) -> None:
        try:
            rate_hz = int(websocket.query_params.get("rate", "48000"))
            feed = session.browser_feed(rate_hz)
        except (ValueError, StudioError) as e:
            await websocket.close(code=1008, reason=str(e)[:120])
            return
        await websocket.accept()
        # The newest page's stream is the one that plays: two pulling one feed would each get half.
        session.stream_id += 1
        mine = session.stream_id
        await websocket.send_json({"type": "format", "rate_hz": rate_hz, "channels": 2, "block_frames": BLOCK_FRAMES})

        async def pump() -> None:
            t0, sent = time.monotonic(), 0
            lead = int(LEAD_S * rate_hz)
            while session.feed is feed and session.output == "browser" and session.stream_id == mine:
                due = (time.monotonic() - t0) * rate_hz + lead
                if sent < due:
                    block = await asyncio.to_thread(feed.next_block)
                    await websocket.send_bytes(block.tobytes())
                    sent += block.shape[0]
                else:
                    await asyncio.sleep(BLOCK_FRAMES / rate_hz / 2)

        async def listen() -> None:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text:
                    try:
                        session.send(note_message(json.loads(text)))
                    except (ValueError, StudioError) as e:
                        await websocket.send_json({"type": "error", "error": str(e)})

        pumping = asyncio.create_task(pump())
        listening = asyncio.create_task(listen())
        try:
            await asyncio.wait({pumping, listening}, return_when=asyncio.FIRST_COMPLETED)
        except WebSocketDisconnect:
            pass
        finally:
            for task in (pumping, listening):
                task.cancel()
            for task in (pumping, listening):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception):
                    await task

    async def on_user_error(request: Request, exc: Exception) -> Response:
        return error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return error(str(exc), 413)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return error(f"unexpected {type(exc).__name__}: {exc}", 500)

    routes = [
        Route("/", index),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/api/state", state),
        Route("/api/voice", get_voice),
        Route("/api/voice/compute", compute, methods=["POST"]),
        Route("/api/voice/parameters", params, methods=["POST"]),
        Route("/api/voice/segment", segment, methods=["POST"]),
        Route("/api/voice/macro", macro, methods=["POST"]),
        Route("/api/voice/load", load, methods=["POST"]),
        Route("/api/voice/save", save, methods=["POST"]),
        Route("/api/voice/undo", undo, methods=["POST"]),
        Route("/api/voice/delete", delete, methods=["POST"]),
        Route("/api/page8/import", page8_import, methods=["POST"]),
        Route("/api/registers", registers, methods=["POST"]),
        Route("/api/note", note, methods=["POST"]),
        Route("/api/output", output, methods=["POST"]),
        Route("/api/recording", recording, methods=["POST"]),
        Route("/api/recording.wav", recording_wav),
        WebSocketRoute("/ws/audio", audio_ws),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    routes[-1:-1] = songs.routes(session, _json)
    handlers = {exc: on_user_error for exc in _user_errors()}
    handlers[TooLarge] = on_too_large
    handlers[Exception] = on_unexpected
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.session = session
    return TokenGuard(app, token, host, port)


def _int(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise StudioError(f"{what} {text!r} is not a number") from None
    if not low <= value <= high:
        raise StudioError(f"{what} must be {low}..{high}")
    return value
