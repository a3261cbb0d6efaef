"""The `liquidsky` command line: the parser of every command, and the entry point that turns what
goes wrong into one line and an exit status. Each command group is a module of its own beside this
one; what they share is in options.py, what they print while rendering in reports.py."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import synth
from synth.app.cli import live, pager, render, scores, studio, voice
from synth.app.cli.options import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    PROG,
    Parser,
    UsageError,
)
from synth.errors import one_line, user_errors

DESCRIPTION = (
    "liquidsky: a Fairlight CMI channel-card synthesiser; renders MIDI files the way the CMI's cards "
    "would play them"
)


class _LazyVersion(argparse.Action):
    """--version, reading the installed version only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            text = version("liquidsky")
        except PackageNotFoundError:
            text = synth.__version__
        print(f"{PROG} {text}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=(
            "examples:\n"
            "  liquidsky render demo -o demo.wav        the built-in demo piece\n"
            "  liquidsky render song.mid -o song.flac --model iii --normalize\n"
            "  liquidsky info song.mid                  length, channels, polyphony, voice stealing\n"
            "  liquidsky render sonnerie --style ominous -o sonnerie.wav   a score of Liquid Sky, in a style\n"
            "  liquidsky scores                         the scores and the styles\n"
            "\n"
            "Run 'liquidsky COMMAND --help' for the options of a command."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_LazyVersion, help="print the version and exit")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="on an error, show the full Python traceback")
    # --debug is accepted after the command too; SUPPRESS keeps the subcommand from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="on an error, show the full Python traceback")

    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True

    for group in (render, voice, live, scores, studio, pager):
        group.register(commands, common)
    return parser


# --- the entry point -----------------------------------------------------------------------------


class _Terminated(KeyboardInterrupt):
    """SIGTERM, unwinding like Ctrl-C so that the writers remove their temporary files."""


def _raise_on_sigterm(signum, frame):
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 2 for errors, 130 when interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else EXIT_OK
    debug = getattr(args, "debug", False)

    previous_sigterm = None
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        previous_sigterm = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        return args.run(args)
    except KeyboardInterrupt as e:
        if debug:
            traceback.print_exc()
        if isinstance(e, _Terminated):
            print(f"{PROG}: terminated", file=sys.stderr)
            return EXIT_TERMINATED
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (liquidsky info ... | head); nothing more to say.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_OK
    except Exception as e:
        if debug:
            traceback.print_exc()
        if isinstance(e, user_errors()):
            print(f"{PROG}: error: {one_line(e)}", file=sys.stderr)
        else:
            print(f"{PROG}: error: unexpected {type(e).__name__}: {one_line(e)} "
                  "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
