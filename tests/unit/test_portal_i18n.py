"""The portal's words in both languages, and its colours readable: every word a template shows
has its French, the browser's preference picks the language, and every coloured pair of the
stylesheet keeps a text contrast of at least 4.5:1 (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cpms.aggregates.charge_point import ChargePointStatus
from cpms.portal.i18n import CATALOGS, FRENCH, WORDS, negotiate
from cpms.portal.rendering import ENVIRONMENTS, HERE, duration, kwh, number

TEMPLATES = sorted((HERE / "templates").glob("*.html"))


def messages() -> set[str]:
    """Every message the templates translate, as jinja2's own extractor finds them."""
    environment = ENVIRONMENTS["en"]
    found = set()
    for template in TEMPLATES:
        for _, _, message in environment.extract_translations(template.read_text()):  # type: ignore[attr-defined]
            found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


# Python code translates its words with translate(request, "...") or marks them N_("...").
SPOKEN = re.compile(r'(?:translate\(\s*request,\s*|N_\()\s*"([^"]+)"')


def python_messages() -> set[str]:
    return {m for path in HERE.glob("*.py") for m in SPOKEN.findall(path.read_text())}


def test_every_word_the_portal_shows_has_its_french_and_the_catalog_holds_no_other():
    shown = messages() | set(WORDS.values()) | python_messages()
    plural_forms = {"%(num)s cards"}
    assert sorted(shown - set(FRENCH) - plural_forms) == []
    assert sorted(set(FRENCH) - shown) == []


def test_french_plurals_take_the_singular_for_zero_and_one():
    french, english = CATALOGS["fr"], CATALOGS["en"]
    assert [french.ngettext("%(num)s card", "%(num)s cards", n) for n in (0, 1, 2)] == [
        "%(num)s badge",
        "%(num)s badge",
        "%(num)s badges",
    ]
    assert [english.ngettext("%(num)s card", "%(num)s cards", n) for n in (0, 1, 2)] == [
        "%(num)s cards",
        "%(num)s card",
        "%(num)s cards",
    ]


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("fr", "fr"),
        ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", "en"),
        ("de-DE,fr;q=0.5", "fr"),
        ("de-DE,es;q=0.5", "en"),
        ("en;q=0.5,fr;q=0.6", "fr"),
        ("fr;q=0", "en"),
        ("fr;q=abc,en", "en"),
        ("FR-ca", "fr"),
    ],
)
def test_accept_language_picks_french_when_the_browser_prefers_it(header, language):
    assert negotiate(header) == language


def test_numbers_are_written_as_each_language_writes_them():
    assert number(1234.5, 1, language="en") == "1,234.5"
    assert number(1234.5, 1, language="fr") == "1\u202f234,5"
    assert kwh(18250, language="fr") == "18,25\u00a0kWh"
    assert [duration(s) for s in (30, 2700, 7500)] == [
        "30\u00a0s",
        "45\u00a0min",
        "2\u00a0h\u00a005\u00a0min",
    ]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


PAIR = re.compile(r"\.(?P<name>[\w-]+) \{ background: (?P<bg>#[0-9a-f]{6}); color: (?P<fg>#[0-9a-f]{6}); \}")


def test_every_status_colour_keeps_its_word_readable():
    css = (Path(HERE) / "static" / "portal.css").read_text()
    pairs = {m["name"]: (m["bg"], m["fg"]) for m in PAIR.finditer(css)}
    statuses = {f"status-{status.value}" for status in ChargePointStatus}
    assert statuses <= set(pairs), statuses - set(pairs)
    low = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < 4.5}
    assert low == {}
    assert len({pairs[name][0] for name in statuses}) == len(statuses)  # a colour per status
