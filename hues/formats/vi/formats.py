"""Vietnamese input formats: days are written day first (05/11/2026 is 5 November), which
Django's own Vietnamese locale leaves to the US defaults (month first). The display formats
stay Django's."""

DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 05/11/2026
    "%d-%m-%Y",  # 05-11-2026
    "%d/%m/%y",  # 05/11/26
    "%Y-%m-%d",  # 2026-11-05 (ISO, as browsers' date inputs send it)
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
]
