"""`cpms audit verify`, `cpms audit checkpoint` and `cpms audit keygen`: the log's hash chain."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from cpms.command_line import subcommand
from cpms.infra.settings import AUDIT, Settings, SettingsError


def add_actions(actions: Any) -> None:
    verify = _action(
        actions,
        "verify",
        "check the log's hash chain from its genesis, then every checkpoint (stored and given) against"
        " it; prints the first broken link with its position and exits 1, exits 0 when all holds",
    )
    verify.add_argument(
        "--site", metavar="ID", help="also report which of this site's records the chain vouches for"
    )
    verify.add_argument(
        "--public-key",
        metavar="FILE",
        type=Path,
        help="the operator's public key (PEM): checkpoints signed by any other key fail",
    )
    verify.add_argument(
        "--checkpoint",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint kept outside the store (JSON from `cpms audit checkpoint`); repeatable",
    )
    verify.set_defaults(run=_verify)

    checkpoint = _action(
        actions,
        "checkpoint",
        "verify the chain, then sign its last link (position, hash, time, store) with the operator's key;"
        " stores the checkpoint and prints it as JSON for the auditor to keep",
    )
    checkpoint.add_argument(
        "--key", metavar="FILE", type=Path, help="the Ed25519 private key (default: CPMS_AUDIT_KEY_FILE)"
    )
    checkpoint.add_argument("--out", metavar="FILE", type=Path, help="also write the checkpoint to FILE")
    checkpoint.set_defaults(run=_checkpoint)

    keygen = _action(
        actions,
        "keygen",
        "create an Ed25519 key pair for checkpoints: FILE (private, mode 0600) and FILE.pub",
    )
    keygen.add_argument("file", type=Path, metavar="FILE")
    keygen.set_defaults(run=_keygen)


def _action(actions: Any, name: str, text: str) -> argparse.ArgumentParser:
    return subcommand(actions, name, text, AUDIT)


async def _verify(args: argparse.Namespace) -> int:
    from cpms.audit import chain

    try:
        public_key = None if args.public_key is None else chain.load_public_key(args.public_key)
        given = [chain.Checkpoint.parse(path.read_text()) for path in args.checkpoint]
    except (OSError, ValueError) as error:
        raise SettingsError(str(error)) from None

    def run() -> chain.Report:
        with _recorder() as recorder:
            checkpoints = chain.stored_checkpoints(recorder) + given
            return chain.verify(recorder, checkpoints, public_key, args.site)

    report = await asyncio.to_thread(run)
    if public_key is None and report.checkpoints:
        print("note: checkpoint signatures checked against their own keys only (no --public-key)")
    for line in chain.lines(report, args.site):
        print(line)
    return 0 if report.ok else 1


async def _checkpoint(args: argparse.Namespace) -> int:
    from cpms.audit import chain

    settings = Settings.from_env()
    path = args.key or settings.audit_key_file
    if path is None:
        raise SettingsError(
            "no key: give --key FILE or set CPMS_AUDIT_KEY_FILE (cpms audit keygen makes one)"
        )
    try:
        key = chain.load_private_key(path)
    except (OSError, ValueError) as error:
        raise SettingsError(f"CPMS_AUDIT_KEY_FILE / --key: {error}") from None

    def run() -> chain.Report | chain.Checkpoint:
        with _recorder(settings) as recorder:
            report = chain.verify(recorder, chain.stored_checkpoints(recorder), key.public_key())
            if not report.ok:
                return report
            return chain.sign_checkpoint(recorder, report, key)

    outcome = await asyncio.to_thread(run)
    if isinstance(outcome, chain.Report):
        for line in chain.lines(outcome, None):
            print(line, file=sys.stderr)
        print("cpms: not signing a broken chain", file=sys.stderr)
        return 1
    document = outcome.document()
    if args.out is not None:
        args.out.write_text(document + "\n")
    print(document)
    return 0


async def _keygen(args: argparse.Namespace) -> int:
    from cpms.audit import chain

    try:
        public = chain.generate_key(args.file)
    except OSError as error:
        raise SettingsError(f"cannot create {error.filename}: {error.strerror}") from None
    print(f"private key: {args.file} (keep it with the operator)\npublic key: {public} (give it to auditors)")
    return 0


class _recorder:
    """The event store's recorder, opened for one command (tables, and the genesis of a store
    without a chain, are created on the way)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()

    def __enter__(self) -> Any:
        from cpms.infra.eventstore import open_event_store
        from cpms.infra.startup import prepare_database

        prepare_database(self.settings.database)
        self.store = open_event_store(self.settings.database)
        return self.store.recorder

    def __exit__(self, *exc: object) -> None:
        self.store.close()
