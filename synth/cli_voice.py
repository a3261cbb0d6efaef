"""The command line's voice subcommands (registered into synth.cli's parser)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add this module's subcommands to the parser (common: the shared --debug option)."""
