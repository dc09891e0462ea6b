"""OCPP's integers at the door: 1.6 transaction ids and 2.0.1 seqNo within their 32 bits."""

from __future__ import annotations

import pytest

from cpms.aggregates.errors import InvalidValue
from cpms.gateway.numbers import SEQ_NO_RANGE, protocol_integer, transaction_number


@pytest.mark.parametrize("value", [-(2**31), 0, 2**31 - 1])
def test_a_16_transaction_id_within_32_bits_keys_its_session(value):
    assert transaction_number(value) == str(value)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**63 - 1, True, "7"])
def test_a_16_transaction_id_beyond_32_bits_is_refused(value):
    with pytest.raises(InvalidValue, match="transactionId must be an integer from -2147483648 to 2147483647"):
        transaction_number(value)


@pytest.mark.parametrize(("value", "accepted"), [(0, True), (2**31 - 1, True), (-1, False), (2**31, False)])
def test_a_201_seq_no_counts_from_0_within_31_bits(value, accepted):
    if accepted:
        assert protocol_integer(value, "seqNo", SEQ_NO_RANGE) == value
    else:
        with pytest.raises(InvalidValue, match="seqNo must be an integer from 0 to 2147483647"):
            protocol_integer(value, "seqNo", SEQ_NO_RANGE)
