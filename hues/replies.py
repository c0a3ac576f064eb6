"""Reply templates' text, pure: the purposes a template serves and the placeholders it may hold.

A placeholder is a name in braces, `{reference}`, replaced by a plain substitution: never
str.format, so a template cannot reach attributes (`{report.reporter.phone}`) or format specs.
The city's definition (hues.city) and the templates kept in the admin (reports) are checked
against the same names here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# What a template is for; the admin's forms that send text to a citizen offer these.
PURPOSES = ("public_update", "question", "resolution", "rejection")
# The placeholders a template may hold, each filled from the report it answers.
PLACEHOLDERS = ("reference", "category", "agency", "ward", "deadline")

# Anything in single braces: a known name is a placeholder; anything else is refused at save.
_BRACED = re.compile(r"\{([^{}\n]*)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The braced names in `text` that are no placeholder, in order, each once."""
    unknown: list[str] = []
    for name in _BRACED.findall(text):
        if name not in PLACEHOLDERS and name not in unknown:
            unknown.append(name)
    return unknown


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each known placeholder replaced by its value; anything else in braces
    stays as it is, visible to the staff member who edits the text before sending it."""

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        return values[name] if name in PLACEHOLDERS and name in values else match[0]

    return _BRACED.sub(replace, text)


def placeholders_left(text: str) -> list[str]:
    """The placeholders still in `text`, in order, each once: a text about to be sent
    should hold none."""
    left: list[str] = []
    for name in _BRACED.findall(text):
        if name in PLACEHOLDERS and name not in left:
            left.append(name)
    return left
