# ruff: noqa: E501 - one catalog text per line, as the catalog writes it
"""The catalog's descriptive texts, marked for translation (context "Catalog").

Product and plan names are names and stay as the vendor writes them; the
descriptions and add-on names of ``resources/catalog.json`` are shown in the
UI language (tests/unit/test_catalog_texts.py keeps this list and the file
in step). Pure Python: ``QT_TRANSLATE_NOOP`` only marks the texts.
"""

from __future__ import annotations

from billing_desktop.domain.text import QT_TRANSLATE_NOOP

CATALOG_CONTEXT = "Catalog"

CATALOG_TEXTS: tuple[str, ...] = (
    QT_TRANSLATE_NOOP("Catalog", "Attended and unattended remote support for help desks (previous generation)."),
    QT_TRANSLATE_NOOP("Catalog", "Mobile device support"),
    QT_TRANSLATE_NOOP("Catalog", "Camera share"),
    QT_TRANSLATE_NOOP("Catalog", "Additional storage (100 GB)"),
    QT_TRANSLATE_NOOP("Catalog", "Remote support with a service desk, for technicians of any team size."),
    QT_TRANSLATE_NOOP("Catalog", "Remote monitoring, management and support for IT teams and managed service providers."),
    QT_TRANSLATE_NOOP("Catalog", "Third-party patch management"),
    QT_TRANSLATE_NOOP("Catalog", "Mobile device management"),
    QT_TRANSLATE_NOOP("Catalog", "Additional storage (250 GB)"),
    QT_TRANSLATE_NOOP("Catalog", "Cloud phone system with video meetings, messaging and a contact centre option."),
    QT_TRANSLATE_NOOP("Catalog", "Contact center"),
    QT_TRANSLATE_NOOP("Catalog", "Call recording storage"),
    QT_TRANSLATE_NOOP("Catalog", "Online meetings and video conferencing."),
    QT_TRANSLATE_NOOP("Catalog", "Additional cloud storage"),
    QT_TRANSLATE_NOOP("Catalog", "Conference room connector"),
    QT_TRANSLATE_NOOP("Catalog", "Webinars and virtual events with registration, polls and analytics."),
    QT_TRANSLATE_NOOP("Catalog", "Webinar recording storage"),
)
