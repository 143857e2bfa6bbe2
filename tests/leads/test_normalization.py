"""Normalisation of submitted text (SPEC §2), without a database."""

from __future__ import annotations

import pytest

from leads.normalization import clean_text, normalise_lead, parse_phone


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("  张伟 ", "张伟"),
        ("北京\u3000纷扬\t科技\n有限公司", "北京 纷扬 科技 有限公司"),  # ideographic space, tab, newline
        ("ＡＢＣ　１２３", "ABC 123"),  # full-width letters, digits and space
        ("a  \u00a0 b", "a b"),
        ("", ""),
        (None, ""),
        (12, "12"),
    ],
)
def test_clean_text_folds_width_and_whitespace(raw, cleaned):
    assert clean_text(raw) == cleaned


def test_mobile_in_full_width_with_spaces_becomes_e164_with_its_region():
    fields = normalise_lead({"mobile": "１３９ １２３４ ５６７８"}).fields
    assert fields["mobile"] == "+8613912345678"
    assert fields["province"]


@pytest.mark.parametrize(
    "typed",
    [
        "15946962913", "159-4696-2913", "86-15946962913", "+86 159 4696 2913", "(+86)15946962913", "（+86）15946962913",
        "+8615946962913", "008615946962913", "0086 159 4696 2913", "１５９４６９６２９１３", "＋８６ １５９４６９６２９１３",
        "(159) 46962913", "159.4696.2913", "+86-159-4696-2913", "手机：159 4696 2913",
    ],
)
def test_every_way_people_type_a_mobile_becomes_one_e164(typed):
    result = normalise_lead({"mobile": typed})
    assert result.mobile_problem is None
    assert result.fields["mobile"] == "+8615946962913"


@pytest.mark.parametrize("typed", ["1594696291３", "+86 159４６９６2913", "１５９-4696-2913"])
def test_parse_phone_reads_digits_of_mixed_width(typed):
    # parse_phone is also called on raw filter values (?mobile=…), which nothing has folded yet
    parsed = parse_phone(typed)
    assert parsed is not None and parsed.e164 == "+8615946962913" and parsed.is_valid


@pytest.mark.parametrize(
    "typed",
    [
        "a144@163.com", "A144@163.COM", " a144@163.com ", "mailto:a144@163.com", "MAILTO:A144@163.COM", "a144＠163．com",
        "a144@163。com", "<a144@163.com>", "郭欣建 <A144@163.com>", "a144 @ 163.com", "a144@163.com;", "\"a144@163.com\"",
    ],
)
def test_every_way_people_type_an_email_becomes_one_address(typed):
    result = normalise_lead({"email": typed})
    assert result.email_problem is None
    assert result.fields["email"] == "a144@163.com"


@pytest.mark.parametrize("typed", ["a144", "a144@", "@163.com", "a144@@163.com", "mailto:"])
def test_an_email_that_is_not_one_is_still_invalid(typed):
    assert normalise_lead({"email": typed}).email_problem == "invalid.email"
