"""The command line's studio subcommand (registered into synth.app.cli.main's parser)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import webbrowser

from synth.app.cli.options import int_in
from synth.hardware import DEFAULT_PROFILE, PROFILES

STUDIO_PIP = "pip install 'liquidsky[studio]'"


class StudioMissing(ValueError):
    """The studio extra is not installed."""


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    studio = commands.add_parser(
        "studio", parents=[common],
        help="the CMI's pages (3, 4, D, 7, 8, R) in the web browser",
        description=(
            "Serve the CMI's pages to the web browser: registers (Page 3), harmonic profiles (4), "
            "waveforms (D), controls (7), sampling (8), the Real Time Composer (R) and a keyboard. "
            "Prints its URL, with the token that every request needs, on the first line; listens on "
            f"127.0.0.1 only unless --host says otherwise. Needs the studio extra: {STUDIO_PIP}."
        ),
    )
    studio.add_argument("--port", metavar="N", type=int_in(0, 65535), default=None,
                        help="the port to listen on (default 8478, or the next free one of the nine after it; "
                             "0: any free port)")
    studio.add_argument("--host", metavar="H", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only; the token "
                             "still guards every request)")
    studio.add_argument("--no-browser", action="store_true", help="do not open the web browser")
    studio.add_argument("--model", choices=list(PROFILES), default=DEFAULT_PROFILE, type=str.lower,
                        help=f"which CMI to emulate (default {DEFAULT_PROFILE})")
    studio.set_defaults(run=_cmd_studio)


def _cmd_studio(args: argparse.Namespace) -> int:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
        import websockets  # noqa: F401
    except ImportError:
        raise StudioMissing(f"liquidsky studio needs the studio extra: {STUDIO_PIP}") from None
    from synth.app.studio.server import Studio  # the studio's web server: an optional backend

    studio = Studio(host=args.host, port=args.port, model=args.model)
    print(studio.url, flush=True)
    print("liquidsky studio: open the URL above (the token in it guards the studio); Ctrl-C stops", flush=True)
    if not args.no_browser:
        with contextlib.suppress(Exception):  # no browser: the URL is printed
            webbrowser.open(studio.url)
    try:
        studio.run()
    except KeyboardInterrupt as e:  # Ctrl-C is how the studio ends; SIGTERM is reported as such
        if type(e) is not KeyboardInterrupt:
            raise
    print("liquidsky studio: stopped", file=sys.stderr, flush=True)
    return 0
