"""valid_format (validity): share of the present values, as text, in a built-in format (email, uuid, a date, a URL,
an IPv4 address, a phone number) - matches_pattern with a regex the project maintains.

Each format is a regex in the subset that RE2 (DuckDB), PostgreSQL's advanced regexes, Java (Spark) and Python's re
(GX) read alike: character classes and ranges, (?:...) groups, alternation, bounded repetition; no \\d, \\b,
lookaround or backreferences. Every value is matched in full, so leftmost-longest (PostgreSQL) and leftmost-first
(the others) alternation agree. What each matches and misses: docs/formats.md; tests/format_samples.py holds samples of
both on every engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from dagster_project.indicators.base import Definition
from dagster_project.indicators.matches_pattern import MatchesPatternIndicator

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"  # a DNS label: no leading or trailing hyphen
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"  # 0..255 without leading zeros
_DATE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_HH_MM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"

FORMATS: dict[str, str] = {
    "email": rf"[A-Za-z0-9._%+-]+@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}",
    "uuid": r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    "iso_date": _DATE,
    "iso_datetime": rf"{_DATE}T{_HH_MM}(?::[0-5][0-9](?:\.[0-9]{{1,9}})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?",
    "url": rf"https?://(?:{_LABEL}\.)*{_LABEL}(?::[0-9]{{1,5}})?(?:[/?#][!-~]*)?",
    "ipv4": rf"{_OCTET}(?:\.{_OCTET}){{3}}",
    "phone": "|".join(
        (
            r"(?:\+|00)[1-9](?:[ .-]?[0-9]){6,14}",  # E.164 and written international forms: +44 20 7946 0958
            r"\+[1-9][0-9]{0,2}[ .-]?\([0-9]{1,4}\)(?:[ .-]?[0-9]){4,12}",  # +1 (555) 123-4567, +49 (0)30 1234567
            r"(?:\+?1[ .-]?)?(?:\([0-9]{3}\) ?|[0-9]{3}[ .-]?)[0-9]{3}[ .-]?[0-9]{4}",  # US/NANP: (555) 123-4567
            r"0[1-9](?:[ /.-]?[0-9]){5,12}",  # national with a trunk 0 (UK, DE, FR, ...): 020 7946 0958, 030/1234567
            r"\(0[1-9][0-9]{1,4}\) ?[0-9](?:[ /.-]?[0-9]){3,10}",  # the area code in brackets: (030) 1234567
        )
    ),
}

Format = Literal["email", "uuid", "iso_date", "iso_datetime", "url", "ipv4", "phone"]


@dataclass(frozen=True)
class ValidFormatIndicator(MatchesPatternIndicator):
    """matches_pattern with the format's regex (filled in from `format`): the same scan and the same GX mapping."""

    type: ClassVar[str] = "valid_format"
    regex: str = ""
    format: str = "email"

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", FORMATS[self.format])


DEFINITION = Definition("valid_format", ValidFormatIndicator, unit="ratio", measured="scan")
