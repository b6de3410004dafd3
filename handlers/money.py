"""Sums of money as people write them ("£25,000", "25k", "£1.2m"), kept in whole pence."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Larger than any development-fund request; more is almost certainly a slip.
MAX_PENCE = 10_000_000 * 100

_MONEY = re.compile(
    r"^(?P<minus>-)?\s*£?\s*(?P<number>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?P<unit>k|m|thousand|million|mn|bn|pounds?|gbp)?$"
)
_UNITS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000}


class MoneyError(ValueError):
    """Words that are not a usable sum; the message is fit to show the person."""


def parse_pounds(words: str) -> int:
    """Whole pence from '£25,000', '25000', '25k', '£1.2m', '£12,500.50'."""
    text = " ".join(words.lower().split()).replace("£ ", "£")
    match = _MONEY.match(text)
    if not match:
        raise MoneyError(f"“{words.strip()[:30]}” isn't a sum of money; write it in pounds, like £25,000 or £1.2m.")
    if match["minus"]:
        raise MoneyError("A sum of money can't be negative.")
    if match["unit"] == "bn":
        raise MoneyError(f"That is more than the fund could ever hold; the most is {format_pence(MAX_PENCE)}.")
    number_text = match["number"].replace(",", "")
    try:
        amount = Decimal(number_text) * _UNITS.get(match["unit"] or "", 1)
    except InvalidOperation:
        raise MoneyError(f"“{words.strip()[:30]}” isn't a sum of money.") from None
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise MoneyError("Please give the sum to the penny at most, like £12,500.50.")
    pence_int = int(pence)
    if pence_int <= 0:
        raise MoneyError("The sum has to be more than £0.")
    if pence_int > MAX_PENCE:
        raise MoneyError(
            f"{format_pence(pence_int)} is more than the most a case can ask for, {format_pence(MAX_PENCE)}."
        )
    return pence_int


def format_pence(pence: int) -> str:
    """'£25,000' or '£12,500.50'; negative sums with a minus sign."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}" + (f".{rest:02d}" if rest else "")
