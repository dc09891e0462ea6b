"""Per-frame cost of reading OCPP-J frames: the `ocpp` package's `unpack` (json.loads) against
cpms's `decode_frame` (orjson, then one walk checking depth and number ranges).

Both read the same typical frames in one run, interleaved round by round so a busy machine
slows both alike; the figure is the median over rounds of the mean time per frame in a round.

    .venv/bin/python benchmarks/frame_decoding.py [--rounds 200] [--per-round 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
from ocpp.messages import unpack

from cpms.gateway.frames import decode_frame

AT = "2026-11-23T08:10:00Z"
FRAMES = {
    "StatusNotification 1.6": [
        2,
        "19223201",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": AT},
    ],
    "MeterValues 1.6": [
        2,
        "19223202",
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 1042,
            "meterValue": [
                {
                    "timestamp": AT,
                    "sampledValue": [
                        {"value": "15234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "7.36", "measurand": "Power.Active.Import", "unit": "kW"},
                        {"value": "231.2", "measurand": "Voltage", "phase": "L1", "unit": "V"},
                        {"value": "31.8", "measurand": "Current.Import", "phase": "L1", "unit": "A"},
                    ],
                }
            ],
        },
    ],
    "TransactionEvent 2.0.1": [
        2,
        "5f3c1a2e-6b1d-4c2a-9d7e-2b1f0c9e8a71",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": AT,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 17,
            "offline": False,
            "transactionInfo": {"transactionId": "tx-2026-0001", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": AT,
                    "sampledValue": [
                        {
                            "value": 15234.5,
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "Wh", "multiplier": 0},
                        },
                        {
                            "value": 7360,
                            "context": "Sample.Periodic",
                            "measurand": "Power.Active.Import",
                            "unitOfMeasure": {"unit": "W"},
                        },
                    ],
                }
            ],
        },
    ],
}

READERS: dict[str, Callable[[str], Any]] = {
    "ocpp unpack (json.loads)": unpack,
    "cpms decode_frame (orjson + walk)": decode_frame,
    "orjson.loads alone, for scale": orjson.loads,
}


def per_frame_us(read: Callable[[str], Any], frame: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        read(frame)
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--per-round", type=int, default=2000)
    args = parser.parse_args()

    print(f"Python {platform.python_version()}, orjson {orjson.__version__}, {platform.machine()}")
    print(f"{args.rounds} rounds x {args.per_round} frames per reader and frame; median of round means\n")
    for name, message in FRAMES.items():
        frame = json.dumps(message, separators=(",", ":"))
        assert vars(decode_frame(frame)) == vars(unpack(frame))
        samples: dict[str, list[float]] = {reader: [] for reader in READERS}
        for _ in range(args.rounds):
            for reader, read in READERS.items():
                samples[reader].append(per_frame_us(read, frame, args.per_round))
        print(f"{name} ({len(frame)} bytes)")
        baseline = statistics.median(samples["ocpp unpack (json.loads)"])
        for reader, times in samples.items():
            median = statistics.median(times)
            print(f"  {reader:36} {median:6.2f} us/frame  ({median / baseline:4.2f}x unpack)")
        print()


if __name__ == "__main__":
    main()
