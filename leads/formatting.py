"""Numbers as a Chinese or English reader expects them on a page. Pure functions (no Django):
the template filters in leads/templatetags/lead_format.py pass the active language.

Chinese groups large numbers by 万 (10⁴) and 亿 (10⁸): 12,500,000 元 reads as 1,250 万元.
English uses thousands, millions, billions: ¥12.5M.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_CHINESE_UNITS = ((Decimal(100_000_000), "亿"), (Decimal(10_000), "万"))
_ENGLISH_UNITS = ((Decimal(1_000_000_000), "B"), (Decimal(1_000_000), "M"))


def _is_chinese(language: str) -> bool:
    return language.lower().startswith("zh")


def _grouped(value: Decimal, *, places: int = 2, keep_cents: bool = False) -> str:
    """1234.5 → '1,234.5': thousands separators, at most `places` decimals, no trailing zeros
    (with `keep_cents`, money as written: '1,234.50', or '1,234' when whole)."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    if keep_cents and rounded != rounded.to_integral_value():
        return text
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(value: Decimal, units: tuple[tuple[Decimal, str], ...]) -> tuple[str, str]:
    """`value` in the largest unit it reaches, rounded to two decimals, and that unit ('' for
    none). Rounding can carry into the next unit (99,999,999 is 1 亿, not 10,000 万)."""
    magnitude = abs(value)
    for index, (size, unit) in enumerate(units):
        if magnitude >= size:
            scaled = _grouped(value / size)
            bigger = units[index - 1][0] if index else None
            if bigger is not None and abs(Decimal(scaled.replace(",", ""))) * size >= bigger:
                return _grouped(value / bigger), units[index - 1][1]
            return scaled, unit
    smallest = units[-1][0]
    as_plain = _grouped(value, keep_cents=True)
    if abs(Decimal(as_plain.replace(",", ""))) >= smallest:  # 9,999.999 rounds up to 1 万
        return _grouped(value / smallest), units[-1][1]
    return as_plain, ""


def amount_display(value: Decimal | int | float | str | None, *, language: str) -> str:
    """A sum in yuan: '8,500 元', '1,250 万元', '3.2 亿元' in Chinese; '¥8,500', '¥12.5M',
    '¥3.2B' in English. At most two decimals. '' for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if _is_chinese(language):
        number, unit = _scaled(amount, _CHINESE_UNITS)
        return f"{number} {unit}元"
    number, unit = _scaled(amount, _ENGLISH_UNITS)
    sign, digits = ("-", number[1:]) if number.startswith("-") else ("", number)
    return f"{sign}¥{digits}{unit}"


def amount_exact_display(value: Decimal | int | float | str | None) -> str:
    """The sum to the fen, for a tooltip next to `amount_display`: '¥12,500,000.00'."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"


def approximate_count_display(value: int, *, language: str) -> str:
    """A count already rounded for display: '120 万' in Chinese, '1,200,000' in English."""
    if _is_chinese(language):
        number, unit = _scaled(Decimal(value), _CHINESE_UNITS)
        return f"{number} {unit}" if unit else number
    return f"{value:,}"
