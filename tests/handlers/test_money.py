"""Sums of money as people write them, kept in whole pence (handlers.money)."""

from __future__ import annotations

import pytest

from handlers.money import MAX_PENCE, MoneyError, format_pence, parse_pounds


@pytest.mark.parametrize(
    "words, pence",
    [
        ("£25,000", 2_500_000),
        ("25000", 2_500_000),
        ("25,000", 2_500_000),
        ("25k", 2_500_000),
        ("25K", 2_500_000),
        ("£25k", 2_500_000),
        ("£1.2m", 120_000_000),
        ("1.2 million", 120_000_000),
        ("£1.2mn", 120_000_000),
        ("12.5 thousand", 1_250_000),
        ("£12,500.50", 1_250_050),
        ("£12,500.5", 1_250_050),
        ("£ 25,000", 2_500_000),
        ("  £25,000  ", 2_500_000),
        ("25000 pounds", 2_500_000),
        ("25000 GBP", 2_500_000),
        ("£1", 100),
        ("1 pound", 100),
        ("£0.01", 1),
        (".5", 50),
        ("1.0001k", 100_010),  # £1,000.10: exact, no float rounding
        ("0.1m", 10_000_000),
        ("£10m", MAX_PENCE),  # the cap itself is allowed
        ("£10,000,000", MAX_PENCE),
        ("£9,999,999.99", MAX_PENCE - 1),
    ],
)
def test_parse_pounds_reads_the_usual_ways_of_writing_money(words, pence):
    result = parse_pounds(words)
    assert result == pence
    assert type(result) is int  # exact integer pence, never a float or Decimal


def test_the_cap_is_ten_million_pounds():
    assert MAX_PENCE == 1_000_000_000


@pytest.mark.parametrize(
    "words, message",
    [
        ("-5", "can't be negative"),
        ("-£5", "can't be negative"),
        ("- 25k", "can't be negative"),
        ("0", "more than £0"),
        ("£0.00", "more than £0"),
        ("0k", "more than £0"),
        ("£1.005", "to the penny at most"),
        ("£0.001", "to the penny at most"),
        ("1.000001k", "to the penny at most"),  # £1,000.001
        ("lots", "isn't a sum of money"),
        ("some", "isn't a sum of money"),
        ("", "isn't a sum of money"),
        ("£", "isn't a sum of money"),
        ("twenty thousand", "isn't a sum of money"),
        ("£25,000 or so", "isn't a sum of money"),
        ("1e6", "isn't a sum of money"),
        ("5.", "isn't a sum of money"),
        ("£10,000,000.01", "more than the most a case can ask for, £10,000,000"),
        ("£10.5m", "more than the most a case can ask for"),
        ("11 million", "£11,000,000 is more than the most"),
        ("9" * 40, "more than the most"),
        ("1bn", "more than the fund could ever hold"),
        ("£0.5bn", "more than the fund could ever hold"),
    ],
)
def test_parse_pounds_refuses_what_is_not_a_usable_sum(words, message):
    with pytest.raises(MoneyError) as caught:
        parse_pounds(words)
    assert message in str(caught.value)


def test_a_long_bad_answer_is_quoted_back_short():
    with pytest.raises(MoneyError) as caught:
        parse_pounds("lots " * 200)
    assert len(str(caught.value)) < 120


def test_money_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_pounds("lots")


@pytest.mark.parametrize(
    "pence, shown",
    [
        (0, "£0"),
        (1, "£0.01"),
        (50, "£0.50"),
        (100, "£1"),
        (2_500_000, "£25,000"),
        (1_250_050, "£12,500.50"),
        (120_000_000, "£1,200,000"),
        (MAX_PENCE, "£10,000,000"),
        (123_456_789, "£1,234,567.89"),
        (-150, "-£1.50"),
        (-400_000, "-£4,000"),
    ],
)
def test_format_pence(pence, shown):
    assert format_pence(pence) == shown


@pytest.mark.parametrize("pence", [1, 99, 100, 101, 2_500_000, 1_250_050, 120_000_000, MAX_PENCE - 1, MAX_PENCE])
def test_format_then_parse_is_the_same_sum(pence):
    assert parse_pounds(format_pence(pence)) == pence
