"""What every `cpms` subcommand's parser shares: its --help says what it does, and which
environment variables it reads."""

from __future__ import annotations

import argparse
from typing import Any

from cpms.infra.settings import environment_help


def subcommand(
    commands: Any, name: str, text: str, roles: frozenset[str], *, description: str | None = None
) -> argparse.ArgumentParser:
    """`commands` is an `add_subparsers()` object; `description` (default: `text`) opens --help."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=text,
        description=description or text,
        epilog=environment_help(roles),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser
