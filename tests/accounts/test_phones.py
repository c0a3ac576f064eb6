"""Phone numbers come in national (0905...) or international (+84905...) form; E.164 comes out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.phones import InvalidPhoneNumber, mask_phone, normalize_phone

# Mobile prefixes that libphonenumber knows for Vietnam (after the leading 0 or +84).
MOBILE_PREFIXES = ["90", "91", "93", "94", "96", "97", "98", "32", "39", "70", "77", "81", "86"]


def test_a_national_number_is_normalised_to_e164():
    assert normalize_phone("0905123456") == "+84905123456"


def test_an_international_number_is_kept_in_e164():
    assert normalize_phone("+84905123456") == "+84905123456"


@pytest.mark.parametrize(
    "raw",
    ["090 512 3456", "+84 905 123 456", "  0905123456  ", "0905-123-456", "(090) 512.3456"],
)
def test_spaces_and_punctuation_inside_a_number_are_ignored(raw):
    assert normalize_phone(raw) == "+84905123456"


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "hello", "0905abc", "12", "0905", "+84", "+84000000000", "09051234567890"],
)
def test_garbage_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", ["0905\x00123456", "\x000905123456", "0905123456\x00"])
def test_a_nul_byte_anywhere_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(raw)


def test_a_number_longer_than_32_characters_is_refused_even_if_its_digits_are_valid():
    padded = "0905" + " " * 30 + "123456"

    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(padded)


def test_a_very_long_string_is_refused():
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone("9" * 10_000)


def test_the_error_names_the_phone_field_and_a_stable_code():
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone("not a phone")

    assert caught.value.code == "invalid_phone"
    assert caught.value.field == "phone"


@hypothesis_settings(database=None, deadline=None)
@given(
    prefix=st.sampled_from(MOBILE_PREFIXES),
    subscriber=st.text(alphabet="0123456789", min_size=7, max_size=7),
    separators=st.lists(st.sampled_from(["", " ", "-", "."]), min_size=8, max_size=8),
)
def test_any_mobile_number_gives_the_same_e164_in_national_and_international_form(
    prefix, subscriber, separators
):
    digits = prefix + subscriber
    gaps = [*separators, ""]
    spaced = "".join(digit + gap for digit, gap in zip(digits, gaps, strict=True))

    expected = f"+84{digits}"
    assert normalize_phone(f"0{spaced}") == expected
    assert normalize_phone(f"+84 {spaced}") == expected


@hypothesis_settings(database=None, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_either_refused_cleanly_or_normalised_to_a_stable_e164(raw):
    try:
        phone = normalize_phone(raw)
    except InvalidPhoneNumber:
        return
    assert phone.startswith("+")
    assert phone[1:].isdigit()
    assert len(phone) <= 16
    assert normalize_phone(phone) == phone


def test_a_masked_phone_shows_only_the_country_prefix_and_the_last_three_digits():
    assert mask_phone("+84905123456") == "+8490****456"
