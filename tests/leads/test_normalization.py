"""Normalisation of submitted text (SPEC §2), without a database."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from leads.normalization import (
    clean_text,
    email_is_valid,
    email_problem,
    is_fake_email,
    is_fake_mobile,
    normalise_lead,
    parse_phone,
)

# Blocks (号段) where every number is a valid mobile by `phonenumbers`.
MOBILE_BLOCKS = [
    *(str(block) for block in range(130, 140)), "145", "147", "150", "151", "152", "153", "155", "156", "157", "158",
    "159", "162", "165", "166", "167", "170", "171", "172", "173", "175", "176", "177", "178",
    *(str(block) for block in range(180, 194)), "195", "196", "197", "198", "199",
]


def random_mobiles(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [f"{rnd.choice(MOBILE_BLOCKS)}{rnd.randrange(10**8):08d}" for _ in range(count)]


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
        ("王\x07伟", "王伟"),  # a control character a script or a spreadsheet let through
        ("\x1b[31m张三\x7f", "[31m张三"),
        ("纷扬\u200b科技\ufeff", "纷扬科技"),  # zero-width space and BOM from a copied web page
        ("王\x85伟", "王 伟"),  # a C1 line break is whitespace like the others
    ],
)
def test_clean_text_folds_width_and_whitespace(raw, cleaned):
    assert clean_text(raw) == cleaned


def test_notes_keep_their_lines_but_not_invisible_characters():
    assert normalise_lead({"notes": " 第一行\n第二\x1b行\u200b\t完 "}).fields["notes"] == "第一行\n第二行\t完"


def test_mobile_in_full_width_with_spaces_becomes_e164_with_its_region():
    fields = normalise_lead({"mobile": "１３９ ５２８１ ６４３７"}).fields
    assert fields["mobile"] == "+8613952816437"
    assert fields["province"]


# --- fake and invalid mobiles (SPEC §3) ------------------------------------------------------


@pytest.mark.parametrize(
    "mobile",
    [
        "13333333333", "00000000000", "11111111111",  # one repeated digit
        "12345678901", "13456789012", "19876543210", "15901234567", "17078901234",  # runs of eight or more
        "13800000000", "18888888888", "13911111111", "13800000001", "13890000000",  # last eight: one digit (±1)
        "13812345678", "13987654321", "139-1234-5678",  # last eight: a run
        "13812121212", "13811112222", "13812341234",  # last eight: a pattern
        "13131313131", "15915915915", "13141314131",  # the whole number repeats a short pattern
        "13800138000", "13900139000", "18600186000",  # the operators' advertised numbers
        "+86 138 0013 8000", "８６－１３８００１３８０００",  # in other spellings
        "12012345678", "10086", "1381234", "abc", "021-12345",  # not a mobile at all
    ],
)
def test_fake_or_invalid_mobile_is_reported(mobile):
    assert normalise_lead({"mobile": mobile}).mobile_problem == "invalid.mobile"


def test_real_looking_mobiles_pass():
    """False positives lose real customers: random numbers in real blocks all pass."""
    mobiles = random_mobiles(500, seed=2024) + ["13952816437", "18601234599", "13800001234", "15012345609", "13700001119"]
    problems = {mobile: normalise_lead({"mobile": mobile}).mobile_problem for mobile in mobiles}
    assert [mobile for mobile, problem in problems.items() if problem] == []
    assert normalise_lead({"mobile": "13952816437"}).fields["mobile"] == "+8613952816437"


def test_fake_mobile_rules_match_few_random_numbers():
    """All the rules together match a few random numbers in a million (a real customer whose
    number looks invented is that rare): measured on 200,000 numbers."""
    mobiles = random_mobiles(200_000, seed=7)
    assert sum(map(is_fake_mobile, mobiles)) / len(mobiles) < 2e-5


@pytest.mark.parametrize(
    ("phone", "problem"),
    [
        ("010-88888888", "invalid.phone"),
        ("021-12345678", "invalid.phone"),
        ("0755-7777777", "invalid.phone"),
        ("13800138000", "invalid.phone"),  # a fake mobile in the landline box
        ("010-62345578", None),
        ("0755-86013388", None),
        ("+852 2868 7391", None),
    ],
)
def test_fake_landline_is_reported(phone, problem):
    assert normalise_lead({"phone": phone}).phone_problem == problem


@pytest.mark.parametrize("placeholder", ["无", "-", "—", "/", "n/a", "N/A", "None", "暂无", "没有", "0", "．"])
def test_contact_placeholder_counts_as_no_contact_not_an_invalid_one(placeholder):
    normalised = normalise_lead({"mobile": placeholder, "email": placeholder, "wechat": placeholder, "phone": placeholder})
    assert (normalised.mobile_problem, normalised.phone_problem, normalised.email_problem) == (None, None, None)
    assert [normalised.fields[name] for name in ("mobile", "phone", "email", "wechat")] == ["", "", "", ""]


# --- e-mails ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "zhang.wei@163.com", "Li_Na+crm@Fxiaoke.COM", "123456@qq.com", "10001@qq.com", "13952816437@139.com",
        "sales@bj-fenyang.com.cn", "wang@vip.qq.com", "j.smith@mail.example-corp.co.uk", "张伟@例子.中国",
        "o'brien@company.ie", "j@fenyang.com.cn",
    ],
)
def test_real_email_has_no_problem(email):
    normalised = normalise_lead({"email": email})
    assert normalised.email_problem is None
    assert normalised.fields["email"] == email.lower()


@pytest.mark.parametrize(
    "email",
    [
        "zhang.wei", "zhang@", "@qq.com", "a..b@qq.com", ".a@qq.com", "a.@qq.com", "a@b@qq.com",
        "zhang@qq", "zhang@localhost", "zhang@qq..com", "zhang@-qq.com", "zhang@[127.0.0.1]",
        "x" * 250 + "@qq.com",
    ],
)
def test_malformed_email_is_invalid(email):
    assert normalise_lead({"email": email}).email_problem == "invalid.email"


@pytest.mark.parametrize(
    "email",
    [
        "test@test.com", "a@a.com", "aaa@aaa.com", "foo@example.com", "li@example.org", "test@qq.com", "test123@163.com",
        "ceshi@qq.com", "ceshi01@163.com", "asdf@qq.com", "qwerty@gmail.com", "noreply@company.com", "a@163.com",
        "aaaa@gmail.com", "zhang@123.com", "zhang@xxx.com", "zhang@test.cn", "zhang@qq.con", "zhang@163.cmo",
        "123@qq.com", "1234@qq.com", "0123456@qq.com", "123456789012@qq.com", "123@163.com",
    ],
)
def test_placeholder_email_is_invalid(email):
    assert email_is_valid(email)  # well-formed: only the placeholder rules catch it
    assert normalise_lead({"email": email}).email_problem == "invalid.email"


def test_fast_email_check_agrees_with_email_validator():
    """`email_is_valid` checks the common shape itself and sends only the domain to
    `email-validator`; it must decide exactly as `email-validator` does on the whole address."""
    rnd = random.Random(11)
    alphabet = "abcxyz019._-+@!#'`~" + "é中"
    domains = ["qq.com", "163.com", "a.b.co", "-x.com", "x-.com", "x..com", "localhost", "xn--fiqs8s.com", "例子.中国", "x.c0m"]
    addresses = []
    for _ in range(3000):
        local = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 8)))
        addresses.append(f"{local}@{rnd.choice(domains)}")
    addresses += ["a" * 64 + "@qq.com", "a" * 65 + "@qq.com", "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com"]
    for address in addresses:
        try:
            validate_email(address, check_deliverability=False)
            expected = True
        except EmailNotValidError:
            expected = False
        assert email_is_valid(address) is expected, address


def test_numeric_qq_address_is_real():
    assert not is_fake_email("123456@qq.com")
    assert not is_fake_email("2850123456@qq.com")
    assert email_problem("12345@foxmail.com") is None


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


def test_a_mobile_block_is_judged_as_libphonenumber_parses_it():
    """The block table is built from the number, not parsed from text: every block (号段) of
    the mainland's mobile ranges gives what parsing its first number gives."""
    import phonenumbers
    from phonenumbers import PhoneNumberType, geocoder

    from leads.normalization import _cn_mobile_block

    for block in range(1300000, 2000000, 53):
        prefix = str(block)
        try:
            parsed = phonenumbers.parse(prefix + "0000", "CN")
        except phonenumbers.NumberParseException:
            expected = (False, False, "")
        else:
            valid = phonenumbers.is_valid_number(parsed)
            kind = phonenumbers.number_type(parsed)
            expected = (valid, kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE),
                        geocoder.description_for_number(parsed, "zh") if valid else "")
        assert _cn_mobile_block.__wrapped__(prefix) == expected, prefix
