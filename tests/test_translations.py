"""The translation catalogues: complete, compiled, and what users actually see.

Each app's gettext catalogue (accounts, reports, hues) must have every entry translated and
none fuzzy, keep every placeholder, and ship a .mo that matches its .po. Then a few real
messages are checked in Vietnamese (the default) and English: model labels and domain errors
under `override`, the API and the admin through the request's Accept-Language, as clients
choose their language.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import struct
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils.translation import gettext as translate
from django.utils.translation import override
from rest_framework.test import APIClient

from accounts.models import Role, User
from reports.models import ReportStatus
from reports.services import OutsideServiceArea
from tests.conftest import need

ROOT = Path(settings.BASE_DIR)
APPS = ("accounts", "notifications", "reports", "insights", "hues", "open311", "alerts", "demo")
PO_FILES = sorted(path for app in APPS for path in (ROOT / app).rglob("*.po"))


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


po_files = pytest.mark.parametrize("po", PO_FILES, ids=_name)


# A small .po reader (there is no polib here): enough for what makemessages writes.


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$")


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current
        if current is not None and current.msgstr:
            entries.append(current)
            current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#"):
            finish()
            current = current or Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            target = None
            continue
        match = KEYWORD.match(line)
        if match:
            keyword, index, literal = match.groups()
            if keyword in ("msgctxt", "msgid"):
                finish()
            current = current or Entry(line=number)
            text = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                current.msgstr[target[1]] = text
            else:
                target = (keyword, 0)
                setattr(current, keyword, text)
            continue
        if line.startswith('"') and current is not None and target is not None:
            text = ast.literal_eval(line)
            if target[0] == "msgstr":
                current.msgstr[target[1]] += text
            else:
                setattr(current, target[0], (getattr(current, target[0]) or "") + text)
            continue
        raise AssertionError(f"{_name(path)}, line {number}: cannot read {raw!r}")
    finish()
    return entries


def header(entries: list[Entry]) -> dict[str, str]:
    assert entries, "the catalogue is empty"
    assert entries[0].msgid == "", "the header comes first"
    assert entries[0].msgctxt is None, "the header has no context"
    lines = entries[0].msgstr[0].splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in lines)}


def language_of(po: Path) -> str:
    return po.parent.parent.name  # <app>/locale/<language>/LC_MESSAGES/django.po


def nplurals(entries: list[Entry]) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header(entries).get("Plural-Forms", ""))
    assert match, "the header has no Plural-Forms"
    return int(match.group(1))


# Placeholders a translation must keep: %(name)s, %s, %d, {name}, {}, {code_point:X}.
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> list[str]:
    return sorted(PERCENT.findall(text) + BRACE.findall(text))


def test_every_app_has_a_vietnamese_catalogue() -> None:
    for app in APPS:
        assert (ROOT / app / "locale" / "vi" / "LC_MESSAGES" / "django.po").is_file(), app


# (a) Complete: nothing empty, nothing fuzzy, placeholders kept, a sound header.


@po_files
def test_every_entry_is_translated(po: Path) -> None:
    entries = read_po(po)
    forms = set(range(nplurals(entries)))
    missing = []
    for entry in entries[1:]:
        if entry.msgid_plural is None:
            if set(entry.msgstr) != {0} or not entry.msgstr[0].strip():
                missing.append(str(entry))
        elif set(entry.msgstr) != forms or not all(text.strip() for text in entry.msgstr.values()):
            missing.append(f"{entry} needs msgstr[0..{len(forms) - 1}]")
    assert len(entries) > 1, "no entries"
    assert not missing, "untranslated:\n" + "\n".join(missing)


@po_files
def test_no_entry_is_fuzzy(po: Path) -> None:
    fuzzy = [str(entry) for entry in read_po(po) if "fuzzy" in entry.flags]
    assert not fuzzy, "fuzzy (check them, then remove the flag):\n" + "\n".join(fuzzy)


@po_files
def test_the_header_names_the_language_charset_and_plural_forms(po: Path) -> None:
    fields = header(read_po(po))

    assert fields.get("Language") == language_of(po)
    assert "charset=UTF-8" in fields.get("Content-Type", "")
    if language_of(po) == "vi":
        assert fields.get("Plural-Forms") == "nplurals=1; plural=0;"


@po_files
def test_translations_keep_every_placeholder(po: Path) -> None:
    wrong = []
    for entry in read_po(po)[1:]:
        for text in entry.msgstr.values():
            expected = placeholders(entry.msgid)
            plural = placeholders(entry.msgid_plural) if entry.msgid_plural else expected
            if placeholders(text) not in (expected, plural):
                wrong.append(f"{entry}: {text!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


@po_files
def test_translations_are_nfc(po: Path) -> None:
    """Precomposed Vietnamese letters: decomposed ones render badly on some phones and
    double an SMS's length."""
    decomposed = [
        str(entry)
        for entry in read_po(po)
        if not all(unicodedata.is_normalized("NFC", text) for text in entry.msgstr.values())
    ]
    assert not decomposed, "not in NFC form:\n" + "\n".join(decomposed)


@po_files
def test_msgfmt_accepts_the_catalogue(po: Path, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    need(msgfmt is not None, "msgfmt (GNU gettext) is not installed")
    assert msgfmt is not None
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("app", APPS)
def test_every_string_in_the_code_is_in_the_catalogue(app: str, tmp_path: Path) -> None:
    """What makemessages would extract from the app's code today is all in its catalogue: a
    new string (a label, a heading, a message) is never shown untranslated."""
    need(shutil.which("xgettext") is not None, "xgettext (GNU gettext) is not installed")
    # Run where the copy is one folder down (a module of the app never shadows an app); its
    # own empty locale folder takes the catalogue (never the project's LOCALE_PATHS).
    copy = tmp_path / app
    shutil.copytree(ROOT / app, copy, ignore=shutil.ignore_patterns("__pycache__", "locale"))
    (copy / "locale").mkdir()
    result = subprocess.run(
        [str(Path(sys.executable)), str(ROOT / "manage.py"), "makemessages", "-l", "vi"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "hues.settings_test"},
    )
    assert result.returncode == 0, result.stderr
    extracted = {po_key(entry) for entry in read_po(copy / "locale/vi/LC_MESSAGES/django.po")[1:]}
    catalogue = {po_key(entry) for entry in read_po(ROOT / app / "locale/vi/LC_MESSAGES/django.po")}
    missing = sorted(extracted - catalogue)
    assert not missing, f"run makemessages in {app}/ and translate: {missing}"


# (b) Compiled: the committed .mo says what the .po says.


def mo_msgids(path: Path) -> set[str]:
    """The msgids a .mo holds (context-qualified as ctxt\\x04msgid), header left out."""
    data = path.read_bytes()
    order = "<" if data[:4] == b"\xde\x12\x04\x95" else ">"
    _revision, count, originals = struct.unpack(order + "3I", data[4:16])
    msgids = set()
    for index in range(count):
        length, offset = struct.unpack(order + "2I", data[originals + 8 * index :][:8])
        msgids.add(data[offset : offset + length].decode("utf-8").split("\0")[0])
    return msgids - {""}


def po_key(entry: Entry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid


@po_files
def test_the_compiled_catalogue_is_up_to_date(po: Path) -> None:
    mo = po.with_suffix(".mo")
    assert mo.is_file(), f"{_name(mo)} is missing: run msgfmt (see README)"
    with mo.open("rb") as stream:
        compiled = gettext.GNUTranslations(stream)
    entries = read_po(po)

    stale = []
    for entry in entries[1:]:
        if entry.msgid_plural is None:
            got = (
                compiled.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt is not None
                else compiled.gettext(entry.msgid)
            )
            if got != entry.msgstr.get(0):
                stale.append(f"{entry}: .mo has {got!r}")
            continue
        for n in range(200):
            index = compiled.plural(n)  # type: ignore[attr-defined]
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, n)
            if got != entry.msgstr.get(index):
                stale.append(f"{entry} (n={n}): .mo has {got!r}")
                break

    assert compiled.info().get("language") == header(entries)["Language"]
    assert not stale, f"{_name(mo)} is out of date; recompile it:\n" + "\n".join(stale)
    extra = mo_msgids(mo) - {po_key(entry) for entry in entries}
    assert not extra, f"{_name(mo)} holds entries the .po no longer has: {sorted(extra)}"


# (c) and (d): real messages, in Vietnamese by default and in English on request.

VI_LOCATION = (
    "Vị trí này nằm ngoài địa bàn Thành phố Huế. Chỉ có thể gửi phản ánh trong phạm vi thành phố."
)
EN_LOCATION = "This location is outside Hue City. Reports can only be filed inside the city."


@pytest.mark.parametrize(
    ("language", "routed", "citizen", "outside"),
    [
        ("vi", "Đã chuyển đơn vị", "Người dân", VI_LOCATION),
        ("en", "Routed", "Citizen", EN_LOCATION),
    ],
    ids=["vi", "en"],
)
def test_labels_and_domain_errors_follow_the_active_language(
    language: str, routed: str, citizen: str, outside: str
) -> None:
    with override(language):
        assert str(ReportStatus.ROUTED.label) == routed
        assert str(Role.CITIZEN.label) == citizen
        assert str(OutsideServiceArea().message) == outside
        assert OutsideServiceArea().code == "outside_service_area"


def test_the_project_catalogue_outranks_the_libraries() -> None:
    """hues/locale is in LOCALE_PATHS, so its entries, including the Vietnamese it gives
    for DRF's and simplejwt's messages, are what users see; in English they stay as written."""
    entries = read_po(ROOT / "hues" / "locale" / "vi" / "LC_MESSAGES" / "django.po")[1:]
    with override("vi"):
        vietnamese = {entry.msgid: translate(entry.msgid) for entry in entries}
    with override("en"):
        english = {entry.msgid: translate(entry.msgid) for entry in entries}

    assert vietnamese == {entry.msgid: entry.msgstr[0] for entry in entries}
    assert english == {entry.msgid: entry.msgid for entry in entries}


VI_NOT_AUTHENTICATED = "Chưa có thông tin xác thực. Vui lòng đăng nhập."
EN_NOT_AUTHENTICATED = "Authentication credentials were not provided."
VI_BAD_TOKEN = "Phiên đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại."
EN_BAD_TOKEN = "Given token not valid for any token type"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "not_authenticated", "bad_token"),
    [
        (None, VI_NOT_AUTHENTICATED, VI_BAD_TOKEN),
        ("vi", VI_NOT_AUTHENTICATED, VI_BAD_TOKEN),
        ("en", EN_NOT_AUTHENTICATED, EN_BAD_TOKEN),
        ("en-US,en;q=0.9", EN_NOT_AUTHENTICATED, EN_BAD_TOKEN),
    ],
    ids=["default", "vi", "en", "en-US"],
)
def test_the_api_answers_401_in_the_requested_language(
    accept_language: str | None, not_authenticated: str, bad_token: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    no_credentials = APIClient().post("/api/v1/reports", {}, format="multipart", headers=headers)
    bad_credentials = forged.post("/api/v1/reports", {}, format="multipart", headers=headers)

    assert no_credentials.status_code == 401
    assert no_credentials.json() == {"detail": not_authenticated, "code": "not_authenticated"}
    assert bad_credentials.status_code == 401
    assert bad_credentials.json() == {"detail": bad_token, "code": "token_not_valid"}


@pytest.mark.parametrize(
    ("accept_language", "shown", "not_shown"),
    [
        (None, ["Phản ánh của người dân", "Quản trị Hue-S"], ["Citizen reports"]),
        ("en", ["Citizen reports", "Hue-S administration"], ["Phản ánh của người dân"]),
    ],
    ids=["default", "en"],
)
def test_the_admin_index_speaks_the_requested_language(
    staff_a: User, accept_language: str | None, shown: list[str], not_shown: list[str]
) -> None:
    client = Client()
    client.force_login(staff_a)

    response = client.get(
        "/admin/", headers={"Accept-Language": accept_language} if accept_language else {}
    )

    assert response.status_code == 200
    html = response.content.decode()
    for text in shown:
        assert text in html
    for text in not_shown:
        assert text not in html


def test_how_long_ago_reads_in_vietnamese() -> None:
    """The admin's age column (Django's timesince, whose Vietnamese catalogue is out of date)."""
    from datetime import timedelta

    from django.utils import timezone
    from django.utils.timesince import timesince

    now = timezone.now()
    with override("vi"):
        assert timesince(now - timedelta(hours=9), now, depth=1) == "9\xa0giờ"
        assert timesince(now - timedelta(days=3), now, depth=1) == "3\xa0ngày"
    with override("en"):
        assert timesince(now - timedelta(hours=9), now, depth=1) == "9\xa0hours"
