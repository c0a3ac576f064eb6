"""Text made comparable for search (pure): Vietnamese with or without its diacritics.

A report's `search_text` holds its reference, description and address normalised by
`search_normalize`; a query is split into words normalised the same way, so "duong" finds
"đường" and "Đông Ba" finds "dong ba".
"""

from __future__ import annotations

import re
import unicodedata

_NOT_A_WORD = re.compile(r"[\W_]+")


def without_diacritics(text: str) -> str:
    """Vietnamese without diacritics: "Phường Phú Xuân" -> "Phuong Phu Xuan"."""
    # Đ is a letter of its own, not D with a combining mark: Unicode does not decompose it.
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def search_normalize(text: str) -> str:
    """Lower case, no diacritics, words of letters and digits separated by one space:
    "Đường Lê Lợi, số 5" -> "duong le loi so 5"."""
    return _NOT_A_WORD.sub(" ", without_diacritics(text.casefold())).strip()


def search_words(query: str) -> list[str]:
    """The distinct words of a search query, normalised as `search_text` is."""
    return list(dict.fromkeys(search_normalize(query).split()))


def report_search_text(*, reference: str, description: str, address: str) -> str:
    """What a report's `search_text` holds: its reference, description and address."""
    parts = (search_normalize(part) for part in (reference, description, address))
    return " ".join(part for part in parts if part)
