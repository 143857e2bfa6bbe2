"""Normalisation of submitted text (SPEC §2), without a database."""

from __future__ import annotations

import pytest

from leads.normalization import clean_text, normalise_lead


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
