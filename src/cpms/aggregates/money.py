"""Money as the domain keeps it: ISO 4217 currency codes and exact decimal amounts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from iso4217 import Currency

from cpms.aggregates.errors import InvalidValue


def is_currency(code: str) -> bool:
    try:
        Currency(code)
    except ValueError:
        return False
    return True


def decimal_number(value: Decimal | str, field: str, decimals: int) -> Decimal:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValue(f"{field} must be a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise InvalidValue(f"{field} must be a finite decimal number, got {value!r}")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -decimals:
        raise InvalidValue(f"{field} must have at most {decimals} decimals, got {value}")
    return number


def plain_decimal(number: Decimal) -> str:
    """The shortest exact spelling: 0.3500 -> 0.35, 20 -> 20, 1E+1 -> 10."""
    text = f"{number.normalize():f}"
    return "0" if text in ("-0", "0") else text
