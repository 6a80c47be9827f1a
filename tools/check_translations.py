"""Check the interface translations (``translations/*.ts``): complete, current, well-formed.

    python tools/check_translations.py [LANG ...]

Prints one line per problem and exits 1 when there is any. The test suite
runs the same checks (tests/unit/test_translations.py). A message is wrong when:

- it is unfinished, empty, or obsolete/vanished (the sources no longer use it);
- its placeholders differ from the source's: ``{name}`` fields, ``%n``, ``%1``…;
- its HTML tags differ from the source's (``<b>``, ``<a href=…>``…);
- the source has a keyboard mnemonic (``&F``) and the translation none, or the
  other way round;
- a plural message has not the number of forms the language needs.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
#: the languages shipped besides English (the source language)
LANGUAGES = ("it", "nl", "es", "de", "fr")
#: plural forms Qt uses for each language (English: one, other)
PLURAL_FORMS = {"en": 2, "it": 2, "nl": 2, "es": 2, "de": 2, "fr": 2}

_FIELD = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")
_ARG = re.compile(r"%L?(?:n|\d+)")
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\b[^>]*>")
_MNEMONIC = re.compile(r"&(?!&)(?=\S)(?![A-Za-z]+;|#\d+;)")


@dataclass(frozen=True, slots=True)
class Problem:
    language: str
    context: str
    source: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}: [{self.context}] {self.source[:60]!r}: {self.what}"


def ts_path(language: str) -> Path:
    return TRANSLATIONS / f"billing_desktop_{language}.ts"


def placeholders(text: str) -> list[str]:
    return sorted(_FIELD.findall(text) + _ARG.findall(text))


def tags(text: str) -> list[str]:
    return sorted(tag.lower() for tag in _TAG.findall(text))


def has_mnemonic(text: str) -> bool:
    return bool(_MNEMONIC.search(_TAG.sub("", text)))


def _forms(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    if translation is None:
        return []
    forms = translation.findall("numerusform")
    if forms:
        return [form.text or "" for form in forms]
    return [translation.text or ""]


def check_file(path: Path, language: str) -> list[Problem]:
    problems: list[Problem] = []
    tree = ET.parse(path)
    for context in tree.getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            translation = message.find("translation")

            def report(what: str, source: str = source, name: str = name) -> None:
                problems.append(Problem(language, name, source, what))

            kind = translation.get("type") if translation is not None else "missing"
            if kind in ("obsolete", "vanished"):
                report(f"{kind} (no longer in the sources; run make translations)")
                continue
            if kind in ("unfinished", "missing"):
                report("unfinished")
                continue
            forms = _forms(message)
            numerus = message.get("numerus") == "yes"
            if numerus and len(forms) != PLURAL_FORMS[language]:
                report(f"{len(forms)} plural forms, {PLURAL_FORMS[language]} needed")
            for form in forms:
                if not form.strip():
                    report("empty translation")
                    continue
                want = placeholders(source)
                got = placeholders(form)
                if numerus:
                    # A singular form may say "one" instead of %n.
                    want = [p for p in want if p != "%n"]
                    got = [p for p in got if p != "%n"]
                if got != want:
                    report(f"placeholders {got} differ from the source's {want}: {form!r}")
                if tags(form) != tags(source):
                    report(f"HTML tags differ from the source's: {form!r}")
                if has_mnemonic(form) != has_mnemonic(source):
                    report(f"keyboard mnemonic (&) differs from the source's: {form!r}")
    return problems


def check(languages: tuple[str, ...] = ("en", *LANGUAGES)) -> list[Problem]:
    problems: list[Problem] = []
    for language in languages:
        path = ts_path(language)
        if not path.exists():
            problems.append(Problem(language, "", "", f"{path.name} is missing"))
            continue
        problems.extend(check_file(path, language))
    return problems


def main(argv: list[str]) -> int:
    languages = tuple(argv) or ("en", *LANGUAGES)
    problems = check(languages)
    for problem in problems:
        print(problem)
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.language] = counts.get(problem.language, 0) + 1
    summary = ", ".join(f"{lang}: {counts.get(lang, 0)}" for lang in languages)
    print(f"problems — {summary}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
