"""What typed API models cost per request: msgspec against pydantic v2, with today's orjson and
hand-written field checks as the baseline.

Three typical payloads, each read or written by every candidate, interleaved round by round so a
busy machine slows all alike; the figure is the median over rounds of the mean time per call:

- a station commissioned with an inline site (`POST /stations`), decoded and validated;
- a station configuration (`PUT /stations/{ocpp_id}/configuration`), decoded and validated;
- a page of 50 sessions as the read model returns them (dicts), turned into the response body.

Both candidates refuse unknown fields and wrong types (pydantic in strict mode, as cpms needs);
the msgspec side runs cpms's own models (api/models/), the pydantic side their equivalents.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/request_models.py [--rounds 200] [--per-round 500]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
import orjson
import pydantic
import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from cpms.api.models.access import StationConfiguration
from cpms.api.models.sessions import SessionPage
from cpms.api.models.stations import NewStation

# -- the payloads --------------------------------------------------------------------------------

ADDRESS = {"street": "12 Quai de Valmy", "postal_code": "75010", "city": "Paris", "country": "FR"}
COMMISSION = orjson.dumps(
    {
        "ocpp_id": "CP-0042",
        "serial_number": "SN-2026-000042",
        "site": {"name": "Lyon Part-Dieu", "address": ADDRESS, "provider": "EDF"},
        "plan": "Business",
        "connectors": 2,
        "evse_ids": ["FR*ACM*E0000042*1", "FR*ACM*E0000042*2"],
        "password": "correct-horse-battery",
        "security_profile": 2,
    }
)
CONFIGURATION = orjson.dumps(
    {
        "access_group_ids": [str(uuid.uuid4()) for _ in range(3)],
        "roaming_enabled": True,
        "scan2pay_enabled": False,
    }
)


def session(n: int) -> dict[str, Any]:
    """A session as `projections.sessions` returns it."""
    return {
        "id": str(uuid.uuid4()),
        "ocpp_id": "CP-0042",
        "connector_id": 1 + n % 2,
        "evse_id": f"FR*ACM*E0000042*{1 + n % 2}",
        "site_id": "0b7a5a4e-3c1f-4d6e-9a8b-2f1e0d9c8b7a",
        "transaction_id": str(1000 + n),
        "started_at": "2026-11-23T08:10:00.000Z",
        "ended_at": "2026-11-23T09:02:30.000Z",
        "state": "Completed",
        "meter_start_wh": 15234.0,
        "meter_stop_wh": 27000.0 + n,
        "energy_wh": 11766.0 + n,
        "duration_s": 3150,
        "stop_reason": "EVDisconnected",
        "authorization": {
            "method": "rfid",
            "card_uid": "04A1B2C3",
            "card_label": "Alice's badge",
            "access_group_id": "5d1c0b9a-8e7f-4a6b-9c5d-4e3f2a1b0c9d",
            "access_group_name": "Staff",
            "emsp": None,
            "payment_reference": None,
        },
    }


PAGE = {"items": [session(n) for n in range(50)], "next_cursor": "WyIyMDI2LTExLTIzVDA4OjEwOjAwLjAwMFoiXQ"}

# -- msgspec: the models cpms serves with ---------------------------------------------------------

M_STATION = msgspec.json.Decoder(NewStation)
M_CONFIGURATION = msgspec.json.Decoder(StationConfiguration)
M_ENCODER = msgspec.json.Encoder()

# -- pydantic v2: the same models, strict (cpms refuses "2" for an integer) ----------------------

STRICT = ConfigDict(strict=True, extra="forbid")


class PAddress(BaseModel):
    model_config = STRICT
    street: str
    postal_code: str
    city: str
    country: str


class PNewSite(BaseModel):
    model_config = STRICT
    name: str
    address: PAddress
    provider: str | None = None


class PNewStation(BaseModel):
    model_config = STRICT
    ocpp_id: str
    serial_number: str
    site_id: str | None = None
    site: PNewSite | None = None
    plan: str | None = None
    connectors: int = 2
    evse_ids: list[str] | None = None
    password: str | None = None
    security_profile: int | None = None


class PConfiguration(BaseModel):
    model_config = STRICT
    access_group_ids: list[str]
    roaming_enabled: bool
    scan2pay_enabled: bool


class PEmsp(BaseModel):
    country_code: str
    party_id: str


class PAuthorization(BaseModel):
    method: Literal["rfid", "roaming", "scan2pay"]
    card_uid: str | None
    card_label: str | None
    access_group_id: str | None
    access_group_name: str | None
    emsp: PEmsp | None
    payment_reference: str | None


class PSession(BaseModel):
    id: str
    ocpp_id: str
    connector_id: int
    evse_id: str | None
    site_id: str
    transaction_id: str
    started_at: str
    ended_at: str | None
    state: Literal["Active", "Completed"]
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float
    duration_s: Annotated[int, Field(ge=0)]
    stop_reason: str | None
    authorization: PAuthorization


class PSessionPage(BaseModel):
    items: list[PSession]
    next_cursor: str | None


P_PAGE = TypeAdapter(PSessionPage)

# -- today: orjson, then the allowed and required field sets of api/requests.py ------------------

COMMISSION_FIELDS = frozenset(NewStation.__struct_fields__)
CONFIGURATION_FIELDS = frozenset(StationConfiguration.__struct_fields__)


def hand_checked(body: bytes, allowed: frozenset[str], required: frozenset[str]) -> dict[str, Any]:
    data = orjson.loads(body)
    if not isinstance(data, dict) or set(data) - allowed or required - set(data):
        raise ValueError(body)
    return data  # type: ignore[no-any-return]


CASES: dict[str, dict[str, Callable[[], object]]] = {
    f"commission a station with an inline site ({len(COMMISSION)} bytes)": {
        "today: orjson + field sets (types unchecked)": lambda: hand_checked(
            COMMISSION, COMMISSION_FIELDS, frozenset({"ocpp_id", "serial_number"})
        ),
        "msgspec.json.Decoder(NewStation)": lambda: M_STATION.decode(COMMISSION),
        "pydantic NewStation.model_validate_json": lambda: PNewStation.model_validate_json(COMMISSION),
    },
    f"station configuration ({len(CONFIGURATION)} bytes)": {
        "today: orjson + field sets (types unchecked)": lambda: hand_checked(
            CONFIGURATION, CONFIGURATION_FIELDS, CONFIGURATION_FIELDS
        ),
        "msgspec.json.Decoder(StationConfiguration)": lambda: M_CONFIGURATION.decode(CONFIGURATION),
        "pydantic StationConfiguration.model_validate_json": lambda: PConfiguration.model_validate_json(
            CONFIGURATION
        ),
    },
    f"a page of 50 sessions from dicts ({len(orjson.dumps(PAGE))} bytes)": {
        "today: orjson.dumps(dicts), unchecked": lambda: orjson.dumps(PAGE),
        "msgspec convert to SessionPage + encode": lambda: M_ENCODER.encode(
            msgspec.convert(PAGE, SessionPage)
        ),
        "pydantic validate_python + dump_json": lambda: P_PAGE.dump_json(P_PAGE.validate_python(PAGE)),
    },
}


def per_call_us(run: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        run()
    return (time.perf_counter() - started) / count * 1e6


def check_they_agree() -> None:
    """Every candidate reads the same values and writes the same JSON, or the race is unfair."""
    assert msgspec.to_builtins(M_STATION.decode(COMMISSION)) == PNewStation.model_validate_json(
        COMMISSION
    ).model_dump(mode="json")
    assert orjson.loads(M_ENCODER.encode(msgspec.convert(PAGE, SessionPage))) == PAGE
    assert orjson.loads(P_PAGE.dump_json(P_PAGE.validate_python(PAGE))) == PAGE
    for bad in (b'{"ocpp_id": "CP-1", "serial_number": "x", "connectors": "2"}', b'{"ocpp_id": "CP-1"}'):
        for decode in (M_STATION.decode, PNewStation.model_validate_json):
            try:
                decode(bad)
            except (msgspec.ValidationError, pydantic.ValidationError):
                continue
            raise AssertionError(f"{decode} accepted {bad!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--per-round", type=int, default=500)
    args = parser.parse_args()
    check_they_agree()
    print(
        f"Python {platform.python_version()}, msgspec {msgspec.__version__}, pydantic {pydantic.VERSION}"
        f" (pydantic-core {pydantic_core.__version__}),"
        f" orjson {orjson.__version__}, {platform.machine()}"
    )
    print(f"{args.rounds} rounds x {args.per_round} calls per candidate; median of round means\n")
    for case, candidates in CASES.items():
        samples: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(args.rounds):
            for name, run in candidates.items():
                samples[name].append(per_call_us(run, args.per_round))
        print(case)
        baseline = statistics.median(next(iter(samples.values())))
        for name, times in samples.items():
            median = statistics.median(times)
            print(f"  {name:52} {median:8.2f} us  ({median / baseline:5.2f}x today)")
        print()


if __name__ == "__main__":
    main()
