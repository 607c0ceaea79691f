"""Sample values for the built-in formats (valid_format) and the PII patterns (no_pii): what each must match and what
it must not, shared by the DuckDB tests and the test that runs them on PostgreSQL and Spark (test_engines_agree.py).
docs/formats.md documents the same cases."""

from __future__ import annotations

# format -> (values it matches in full, values it does not)
FORMAT_SAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "email": (
        ["ann@example.com", "first.last+tag@mail.example.co.uk", "x_y%z@sub-domain.io"],
        ["ann@", "@example.com", "ann@example", "ann @example.com", "ann@-example.com", "ann@example.c"],
    ),
    "uuid": (
        ["123e4567-e89b-12d3-a456-426614174000", "A987FBC9-4BED-3078-CF07-9141BA07C9F3"],
        ["123e4567e89b12d3a456426614174000", "{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456"],
    ),
    "iso_date": (
        ["2024-01-31", "1999-12-01", "2023-02-30"],
        ["2024-13-01", "2024-1-5", "31/01/2024", "2024-01-31T10:00:00", "20240131"],
    ),
    "iso_datetime": (
        ["2024-01-31T10:00", "2024-01-31T23:59:59Z", "2024-01-31T10:00:00.123456+02:00", "2024-01-31T10:00:00-0500"],
        ["2024-01-31", "2024-01-31 10:00:00", "2024-01-31T24:00:00", "2024-01-31T10:00:00 Z"],
    ),
    "url": (
        ["https://example.com", "http://localhost:8080/path?q=1#top", "https://a.b-c.example.org/x/y.html"],
        ["example.com", "ftp://example.com", "https://exa mple.com", "https://-bad.example.com", "https://"],
    ),
    "ipv4": (
        ["192.168.0.1", "0.0.0.0", "255.255.255.255", "10.1.20.255"],
        ["256.1.1.1", "192.168.0", "192.168.00.1", "1.2.3.4.5", " 1.2.3.4"],
    ),
    "phone": (
        [
            "+14155552671",  # E.164
            "+44 20 7946 0958",
            "+1 (555) 123-4567",
            "+49 (0)30 1234567",
            "0049 30 1234567",
            "(555) 123-4567",  # US
            "555-123-4567",
            "555.123.4567",
            "5551234567",
            "1-555-123-4567",
            "020 7946 0958",  # UK
            "07700 900123",
            "030 12345678",  # DE
            "0171/1234567",
            "(030) 1234567",
        ],
        ["555-1234", "12345", "+1", "phone: 555-123-4567", "555-123-4567 x12", "1-800-FLOWERS", "+0 123 456 789"],
    ),
}

# pattern -> (values in which it finds PII, values in which it finds none)
PII_SAMPLES: dict[str, tuple[list[str], list[str]]] = {
    "email": (["write to ann@example.com", "a.b@c.io"], ["ann at example dot com", "@handle"]),
    "phone": (
        [
            "call (555) 123-4567",
            "555-123-4567",
            "tel 555.123.4567",
            "555 123 4567",
            "+1 555 123 4567",
            "+44 20 7946 0958",
            "+1 (555) 123-4567",
        ],
        ["order 5551234567", "2024-01-15", "555-1234", "version 1.2.3"],
    ),
    "iban": (
        ["DE89370400440532013000", "pay to DE89 3704 0044 0532 0130 00 today", "GB29NWBK60161331926819"],
        ["DE89", "de89370400440532013000", "DE89 37"],
    ),
    "credit_card": (
        ["4111 1111 1111 1111", "card 4111-1111-1111-1111", "5500000000000004", "3782 822463 10005"],
        ["4111 1111", "order 12345678"],
    ),
    "us_ssn": (
        ["ssn 123-45-6789", "078-05-1120"],
        ["000-12-3456", "666-12-3456", "900-12-3456", "123-00-6789", "123-45-0000", "123456789"],
    ),
    "ipv4": (["from 192.168.0.1", "10.0.0.255"], ["256.1.1.1", "192.168.0", "v1.2.3"]),
}
