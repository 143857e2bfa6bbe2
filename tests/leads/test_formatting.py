"""Amounts and counts as Chinese and English readers write them (leads/formatting.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from leads.formatting import amount_display, amount_exact_display, approximate_count_display


@pytest.mark.parametrize(
    ("value", "chinese", "english"),
    [
        (Decimal("8500"), "8,500 元", "¥8,500"),
        (Decimal("8500.50"), "8,500.50 元", "¥8,500.50"),
        (Decimal("125000"), "12.5 万元", "¥125,000"),
        (Decimal("12500000"), "1,250 万元", "¥12.5M"),
        (Decimal("12345678.90"), "1,234.57 万元", "¥12.35M"),
        (Decimal("320000000"), "3.2 亿元", "¥320M"),
        (Decimal("3250000000"), "32.5 亿元", "¥3.25B"),
        (Decimal("0"), "0 元", "¥0"),
        # rounding carries into the next unit rather than showing 10,000 万
        (Decimal("99999999"), "1 亿元", "¥100M"),
        (Decimal("9999.999"), "1 万元", "¥10,000"),
        (Decimal("-12500000"), "-1,250 万元", "-¥12.5M"),
        (12500000, "1,250 万元", "¥12.5M"),
    ],
)
def test_amounts_read_naturally_in_each_language(value, chinese, english):
    assert amount_display(value, language="zh-hans") == chinese
    assert amount_display(value, language="en") == english


def test_no_amount_is_blank():
    assert amount_display(None, language="zh-hans") == "" == amount_display("", language="en")
    assert amount_exact_display(None) == ""


def test_exact_amount_for_the_tooltip():
    assert amount_exact_display(Decimal("12500000")) == "¥12,500,000.00"
    assert amount_exact_display(Decimal("-8500.5")) == "-¥8,500.50"


@pytest.mark.parametrize(
    ("value", "chinese", "english"),
    [(12_000, "1.2 万", "12,000"), (1_000_000, "100 万", "1,000,000"), (120_000_000, "1.2 亿", "120,000,000"), (980, "980", "980")],
)
def test_approximate_counts_use_wan_in_chinese(value, chinese, english):
    assert approximate_count_display(value, language="zh-hans") == chinese
    assert approximate_count_display(value, language="en") == english
