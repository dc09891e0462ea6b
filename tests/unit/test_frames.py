"""Reading frames: the messages `ocpp.messages.unpack` would build, and a CALLERROR for the rest."""

from __future__ import annotations

import json

import pytest
from ocpp.exceptions import OCPPError
from ocpp.messages import unpack

from cpms.gateway.frames import MAX_DEPTH, BrokenFrame, decode_frame

STATUS_16 = '[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]'
METER_16 = json.dumps(
    [
        2,
        "m1",
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 42,
            "meterValue": [
                {
                    "timestamp": "2026-11-23T08:10:00Z",
                    "sampledValue": [
                        {"value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
                    ],
                }
            ],
        },
    ]
)
TRANSACTION_201 = json.dumps(
    [
        2,
        "t1",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": "2026-11-23T08:10:00Z",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 3,
            "offline": False,
            "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": "2026-11-23T08:10:00Z",
                    "sampledValue": [{"value": 1500.5, "unitOfMeasure": {"unit": "Wh", "multiplier": 0}}],
                }
            ],
        },
    ]
)
RESULT = '[3,"r1",{"status":"Accepted"}]'
ERROR = '[4,"e1","NotSupported","no",{}]'


def _refusal(frame: str | bytes) -> BrokenFrame:
    with pytest.raises(BrokenFrame) as refused:
        decode_frame(frame)
    return refused.value


def _nested(levels: int) -> str:
    """A DataTransfer whose payload holds `levels` nested lists: the frame is `levels + 2` deep."""
    return '[2,"d1","DataTransfer",{"data":' + "[" * levels + "]" * levels + "}]"


@pytest.mark.parametrize("frame", [STATUS_16, METER_16, TRANSACTION_201, RESULT, ERROR])
def test_a_well_formed_frame_becomes_the_message_unpack_makes(frame: str) -> None:
    ours, theirs = decode_frame(frame), unpack(frame)
    assert type(ours) is type(theirs)
    assert vars(ours) == vars(theirs)


def test_a_binary_frame_is_read_like_a_text_frame() -> None:
    assert vars(decode_frame(STATUS_16.encode())) == vars(unpack(STATUS_16))


@pytest.mark.parametrize(
    "frame", ['{"not": "a list"}', "[]", '[9,"x",{}]', '[2,"x"]', '[2,"x","A",{},{}]', '"text"', "[[1],2]"]
)
def test_a_frame_that_is_no_message_gets_the_error_unpack_raises(frame: str) -> None:
    with pytest.raises(OCPPError) as theirs:
        unpack(frame)
    assert _refusal(frame).error.code == theirs.value.code


@pytest.mark.parametrize("frame", ["this is not json", "[2, 'x']", '[2,"x","Heartbeat",{}', ""])
def test_invalid_json_is_a_format_violation_with_id_minus_1(frame: str) -> None:
    refused = _refusal(frame)
    assert (refused.unique_id, refused.error.code) == ("-1", "FormatViolation")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_not_json(literal: str) -> None:
    refused = _refusal(f'[2,"n1","MeterValues",{{"connectorId":{literal}}}]')
    assert (refused.unique_id, refused.error.code) == ("-1", "FormatViolation")


def test_a_lone_surrogate_is_refused_as_no_event_could_store_it() -> None:
    refused = _refusal('[2,"u1","Authorize",{"idTag":"\\ud800"}]')
    assert (refused.unique_id, refused.error.code, refused.action) == ("u1", "FormatViolation", "Authorize")


def test_nesting_up_to_the_bound_is_read() -> None:
    data = decode_frame(_nested(MAX_DEPTH - 2)).payload["data"]
    levels = 0
    while isinstance(data, list):
        levels += 1
        data = data[0] if data else None
    assert levels == MAX_DEPTH - 2


def test_nesting_beyond_the_bound_is_a_format_violation_under_the_frames_id() -> None:
    refused = _refusal(_nested(MAX_DEPTH - 1))
    assert (refused.unique_id, refused.error.code) == ("d1", "FormatViolation")
    assert str(MAX_DEPTH) in refused.error.description


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 3000 + "]" * 3000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        _nested(3000),
        '[2,"d2","DataTransfer",{"big":1e30,"data":' + "[" * 40 + "]" * 40 + "}]",
        '[2,"d3","DataTransfer",{"big":1e30,"data":' + "[" * 3000 + "]" * 3000 + "}]",
    ],
    ids=["lists", "objects", "in-a-payload", "beside-a-large-float", "very-deep-beside-a-large-float"],
)
def test_deep_nesting_is_refused_without_recursion_error(frame: str) -> None:
    refused = _refusal(frame)
    assert refused.error.code == "FormatViolation"
    assert refused.unique_id in ("-1", "d1", "d2", "d3")


@pytest.mark.parametrize("number", [2**63 - 1, -(2**63), 0, -1])
def test_integers_within_64_bits_are_read_exactly(number: int) -> None:
    message = decode_frame(f'[2,"i1","StatusNotification",{{"connectorId":{number}}}]')
    assert message.payload["connectorId"] == number
    assert type(message.payload["connectorId"]) is int


@pytest.mark.parametrize(
    "literal",
    [
        str(2**63),  # orjson reads it as an integer (it holds unsigned 64 bits)
        str(2**64 - 1),
        str(-(2**63) - 1),  # orjson reads it as a float
        "99999999999999999999",
        str(2**70),
        "1" + "0" * 400,  # orjson refuses it as an infinite double
        "9" * 5000,  # beyond what Python converts from a string
    ],
    ids=["2^63", "2^64-1", "-2^63-1", "20-nines", "2^70", "10^400", "5000-digits"],
)
def test_an_integer_beyond_64_bits_is_a_type_constraint_violation_naming_the_field(literal: str) -> None:
    refused = _refusal(f'[2,"i2","StatusNotification",{{"connectorId":{literal},"status":"Available"}}]')
    assert (refused.unique_id, refused.error.code) == ("i2", "TypeConstraintViolation")
    assert refused.error.description == "connectorId is an integer beyond the signed 64-bit range"
    assert refused.action == "StatusNotification"


def test_the_field_is_named_by_its_path_in_the_payload() -> None:
    frame = TRANSACTION_201.replace('"multiplier": 0', '"multiplier": 99999999999999999999')
    refused = _refusal(frame)
    assert refused.error.description.startswith("meterValue[0].sampledValue[0].unitOfMeasure.multiplier ")


@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1E400"])
def test_a_number_too_large_for_a_double_is_a_type_constraint_violation(literal: str) -> None:
    frame = TRANSACTION_201.replace("1500.5", literal)
    refused = _refusal(frame)
    assert (refused.unique_id, refused.error.code) == ("t1", "TypeConstraintViolation")
    assert refused.error.description == "meterValue[0].sampledValue[0].value is not a finite number"


@pytest.mark.parametrize("literal", ["1e20", "-1.5e300", "9.3e18"])
def test_a_large_but_finite_float_is_read_as_a_float(literal: str) -> None:
    message = decode_frame(TRANSACTION_201.replace("1500.5", literal))
    assert message.payload["meterValue"][0]["sampledValue"][0]["value"] == float(literal)


def test_a_large_integer_in_a_response_is_refused_under_its_id() -> None:
    refused = _refusal('[3,"r2",{"transactionId":' + str(2**64) + "}]")
    assert (refused.unique_id, refused.error.code) == ("r2", "TypeConstraintViolation")
    assert refused.error.description.startswith("transactionId ")
