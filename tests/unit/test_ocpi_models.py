"""The OCPI 2.2.1 models say what the specification says: its required fields, its names, its examples.

SPEC_REQUIRED is transcribed from the object tables (cardinality 1 or +) of the 2.2.1 chapters in
ocpi/ocpi (mod_locations, mod_sessions, mod_cdrs, mod_tariffs, types); `ocpi_examples/` holds the
chapters' example objects (examples/*.json) in their 2.2.1 form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from cpms.api.ocpi_models import cdrs, common, locations, sessions, tariffs

EXAMPLES = Path(__file__).parent / "ocpi_examples"

SPEC_REQUIRED: dict[type, set[str]] = {
    locations.Location: {
        "country_code", "party_id", "id", "publish", "address", "city", "country", "coordinates",
        "time_zone", "last_updated",
    },
    locations.EVSE: {"uid", "status", "connectors", "last_updated"},
    locations.Connector: {
        "id", "standard", "format", "power_type", "max_voltage", "max_amperage", "last_updated",
    },
    locations.GeoLocation: {"latitude", "longitude"},
    locations.BusinessDetails: {"name"},
    locations.Image: {"url", "category", "type"},
    locations.StatusSchedule: {"period_begin", "status"},
    locations.Hours: {"twentyfourseven"},
    locations.RegularHours: {"weekday", "period_begin", "period_end"},
    locations.EnergyMix: {"is_green_energy"},
    sessions.Session: {
        "country_code", "party_id", "id", "start_date_time", "kwh", "cdr_token", "auth_method",
        "location_id", "evse_uid", "connector_id", "currency", "status", "last_updated",
    },
    cdrs.CDR: {
        "country_code", "party_id", "id", "start_date_time", "end_date_time", "cdr_token",
        "auth_method", "cdr_location", "currency", "charging_periods", "total_cost", "total_energy",
        "total_time", "last_updated",
    },
    cdrs.CdrToken: {"country_code", "party_id", "uid", "type", "contract_id"},
    cdrs.CdrLocation: {
        "id", "address", "city", "country", "coordinates", "evse_uid", "evse_id", "connector_id",
        "connector_standard", "connector_format", "connector_power_type",
    },
    cdrs.ChargingPeriod: {"start_date_time", "dimensions"},
    cdrs.CdrDimension: {"type", "volume"},
    common.Price: {"excl_vat"},
    common.DisplayText: {"language", "text"},
    tariffs.Tariff: {"country_code", "party_id", "id", "currency", "elements", "last_updated"},
    tariffs.PriceComponent: {"type", "price", "step_size"},
}  # fmt: skip

# Sites carry coordinates since issue 10 and a Location is published only with them; the CDR's
# copy of the location is the CDR side's to close.
KNOWN_GAPS = {cdrs.CdrLocation: {"coordinates"}}

SPEC_STATUSES = {
    "AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED",
    "RESERVED", "UNKNOWN",
}  # fmt: skip


CONNECTOR = {
    "id": "1",
    "standard": "IEC_62196_T2",
    "format": "SOCKET",
    "power_type": "AC_3_PHASE",
    "max_voltage": 230,
    "max_amperage": 32,
    "last_updated": "2024-01-01T00:00:00Z",
}


def _evse(status: str, connectors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uid": "a", "status": status, "connectors": connectors, "last_updated": "2024-01-01T00:00:00Z"}


def _schema(model: type) -> dict[str, Any]:
    schema = msgspec.json.schema(model)
    return schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]


@pytest.mark.parametrize("model", list(SPEC_REQUIRED), ids=lambda m: m.__name__)
def test_required_fields_are_the_specifications(model: type) -> None:
    schema = _schema(model)
    assert set(schema.get("required", [])) == SPEC_REQUIRED[model] - KNOWN_GAPS.get(model, set())
    assert SPEC_REQUIRED[model] <= set(schema["properties"]), "every field under the spec's name"


def test_a_location_without_coordinates_does_not_decode() -> None:
    encoded = orjson.loads(msgspec.json.encode(_location()))
    assert encoded["coordinates"] == {"latitude": "48.872090", "longitude": "2.364680"}
    del encoded["coordinates"]
    with pytest.raises(msgspec.ValidationError, match="coordinates"):
        msgspec.json.decode(orjson.dumps(encoded), type=locations.Location)


def test_evse_status_enum_is_the_specifications() -> None:
    assert {s.value for s in locations.Status} == SPEC_STATUSES


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (locations.Location, "location_example.json"),
        (sessions.Session, "session_example_1_simple_start.json"),
        (sessions.Session, "session_example_2_short_finished.json"),
        (cdrs.CDR, "cdr_example.json"),
    ],
)
def test_spec_examples_decode_and_encode_back_unchanged(model: type, example: str) -> None:
    raw = (EXAMPLES / example).read_bytes()
    decoded = msgspec.json.decode(raw, type=model)
    assert orjson.loads(msgspec.json.encode(decoded)) == _without_empty_lists(orjson.loads(raw))


def test_an_encoded_location_validates_against_its_own_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    encoded = orjson.loads(msgspec.json.encode(_location()))
    schema = msgspec.json.schema(locations.Location)
    jsonschema.validate(encoded, schema)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"country": "FRAN"}, "country is string(3)"),
        ({"address": "x" * 46}, "address is string(45)"),
        ({"last_updated": "2024-01-01 10:00:00"}, "DateTime is ISO 8601 with a T"),
        ({"evses": [_evse("OCCUPIED", [CONNECTOR])]}, "OCCUPIED is no EVSE status"),
        ({"evses": [_evse("AVAILABLE", [])]}, "an EVSE has at least one connector"),
        ({"coordinates": {"latitude": "48.8", "longitude": "2.3"}}, "coordinates need 5 to 7 decimals"),
    ],
)  # fmt: skip
def test_what_breaks_the_spec_does_not_decode(change: dict[str, Any], why: str) -> None:
    document = {**orjson.loads(msgspec.json.encode(_location())), **change}
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(orjson.dumps(document), type=locations.Location)


def test_a_well_formed_evse_decodes() -> None:
    """The counterpart of the two EVSE cases above: only the broken part makes them fail."""
    msgspec.convert(_evse("CHARGING", [CONNECTOR]), type=locations.EVSE)


def _location(**extra: Any) -> locations.Location:
    return locations.Location(
        country_code="FR",
        party_id="CPM",
        id="7d1e5b0e-8b0a-4a53-9d0e-3c0b0f6f1a11",
        publish=True,
        address="12 Quai de Valmy",
        city="Paris",
        postal_code="75010",
        country="FRA",
        time_zone="Europe/Paris",
        last_updated="2024-05-01T10:00:00.000Z",
        coordinates=locations.GeoLocation(latitude="48.872090", longitude="2.364680"),
        evses=[
            locations.EVSE(
                uid="CP-1*1",
                evse_id="FR*CPM*E1*1",
                status=locations.Status.AVAILABLE,
                connectors=[
                    locations.Connector(
                        id="1",
                        standard=locations.ConnectorType.IEC_62196_T2,
                        format=locations.ConnectorFormat.SOCKET,
                        power_type=locations.PowerType.AC_3_PHASE,
                        max_voltage=230,
                        max_amperage=32,
                        max_electric_power=22080,
                        last_updated="2024-05-01T10:00:00.000Z",
                    )
                ],
                last_updated="2024-05-01T10:00:00.000Z",
            )
        ],
        **extra,
    )


def _without_empty_lists(value: Any) -> Any:
    """Optional lists left empty are not sent (`*` fields), so an example's `[]` reads as absent."""
    if isinstance(value, dict):
        return {k: _without_empty_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_without_empty_lists(v) for v in value]
    return value
