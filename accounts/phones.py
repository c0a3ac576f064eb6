"""Phone numbers: national (0905...) or international (+84905...) in, E.164 out."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

from hues.errors import InvalidInput

DEFAULT_REGION = "VN"


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone"
    message = _("Enter a valid phone number, such as 0905123456 or +84905123456.")


def normalize_phone(raw: str) -> str:
    """Return the number in E.164 form, or raise InvalidPhoneNumber."""
    text = (raw or "").strip()
    if not text or len(text) > 32 or "\x00" in text:
        raise InvalidPhoneNumber(field="phone")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(field="phone") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(phone: str) -> bool:
    """Whether an E.164 number can receive SMS (mobile, or possibly mobile)."""
    number_type = phonenumbers.number_type(phonenumbers.parse(phone))
    return number_type in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def mask_phone(phone: str) -> str:
    """A phone number safe to show to staff who need only to recognise it: +8490****456."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:5] + "*" * (len(phone) - 8) + phone[-3:]
