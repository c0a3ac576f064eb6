"""Dates typed in Vietnamese are read day first."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.utils import translation


def test_a_vietnamese_date_is_read_day_first() -> None:
    field = forms.DateField()
    with translation.override("vi"):
        assert field.clean("05/11/2026") == date(2026, 11, 5)
        assert field.clean("05-11-2026") == date(2026, 11, 5)
        assert field.clean("2026-11-05") == date(2026, 11, 5)  # as date inputs send it


def test_a_vietnamese_date_and_time_is_read_day_first() -> None:
    field = forms.DateTimeField()
    with translation.override("vi"):
        value = field.clean("05/11/2026 14:30")
    assert (value.year, value.month, value.day, value.hour, value.minute) == (2026, 11, 5, 14, 30)


def test_a_day_that_does_not_exist_is_refused() -> None:
    field = forms.DateField()
    with translation.override("vi"), pytest.raises(forms.ValidationError) as refused:
        field.clean("31/02/2026")
    assert refused.value.code == "invalid"


def test_english_keeps_its_formats() -> None:
    with translation.override("en"):
        assert forms.DateField().clean("2026-11-05") == date(2026, 11, 5)
        # Django's English formats, month first: the Vietnamese ones apply to Vietnamese only.
        assert forms.DateField().clean("11/05/2026") == date(2026, 11, 5)
