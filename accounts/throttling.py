"""The abuse limit per phone number (the others, per user and per address, are
hues.throttling's)."""

from __future__ import annotations

import hashlib

from rest_framework.request import Request

from accounts.phones import InvalidPhoneNumber, normalize_phone
from hues.throttling import ScopeThrottle


class PhoneThrottle(ScopeThrottle):
    """Counts the requests naming one phone number (in whichever form it is typed), from any
    address. The cache key holds a hash of the number, not the number."""

    def ident(self, request: Request) -> str | None:
        data = request.data
        raw = data.get("phone") if hasattr(data, "get") else None
        if not isinstance(raw, str):
            return None
        try:
            phone = normalize_phone(raw)
        except InvalidPhoneNumber:
            return None  # refused as invalid input; the address is still counted
        return hashlib.sha256(phone.encode()).hexdigest()[:32]
