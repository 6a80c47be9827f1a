"""The shipped languages are complete, current and see every text (issue 6).

- every ``.ts`` file is finished, with the source's placeholders, tags and
  mnemonics (tools/check_translations.py);
- ``pyside6-lupdate`` over the sources would add nothing: no text is shown
  that the translators have not seen;
- every translatable literal is written so that lupdate can find it (a
  literal context, never a wrapper function or a variable context).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import check_translations  # noqa: E402

SOURCES = sorted(
    p for p in (ROOT / "billing_desktop").rglob("*.py") if "__pycache__" not in p.parts
)
LUPDATE = Path(sys.executable).with_name("pyside6-lupdate")
TRANSLATE_CALLS = {"translate", "_translate", "QT_TRANSLATE_NOOP"}


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _call_name(node: ast.Call) -> tuple[str | None, ast.AST | None]:
    if isinstance(node.func, ast.Name):
        return node.func.id, None
    if isinstance(node.func, ast.Attribute):
        return node.func.attr, node.func.value
    return None, None


def hidden_texts(path: Path) -> list[str]:
    """Translatable literals in ``path`` that lupdate cannot attribute to a context."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name, owner = _call_name(node)
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
        if name in TRANSLATE_CALLS and len(node.args) >= 2:
            if _literal(node.args[1]) and not _literal(node.args[0]):
                found.append(f"{where}: {name}() with a literal text needs a literal context")
            elif name != "QT_TRANSLATE_NOOP" and len(node.args) >= 4 and _literal(node.args[1]):
                # lupdate does not mark translate()'s plurals as plural (and drops
                # those counted by an attribute): Class.tr(text, "", n) instead
                found.append(f"{where}: a plural text needs Class.tr(text, '', n)")
        elif name in {"tr", "_tr"} and _literal(node.args[0]):
            if owner is None:
                found.append(f"{where}: {name}() is not a Qt method; lupdate cannot see it")
            elif not (
                isinstance(owner, ast.Name) and (owner.id == "self" or owner.id[:1].isupper())
            ):
                found.append(f"{where}: .tr() on another object gets the wrong context")
    return found


def test_every_translatable_literal_is_visible_to_lupdate() -> None:
    problems = [line for path in SOURCES for line in hidden_texts(path)]
    assert problems == []


def test_the_checker_sees_a_hidden_text(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(self, ctx):\n"
        "    a = QCoreApplication.translate(ctx, 'Hidden')\n"
        "    b = _tr('Hidden too')\n"
        "    c = self.model.tr('Wrong context')\n"
        "    d = self.tr('Fine') + QCoreApplication.translate('Ctx', 'Fine')\n"
        "    e = QCoreApplication.translate('Ctx', '%n plural(s)', '', n)\n"
        "    f = Ctx.tr('%n plural(s)', '', n)\n",
        encoding="utf-8",
    )
    assert len(hidden_texts(sample)) == 4


@pytest.mark.parametrize("language", ["en", *check_translations.LANGUAGES])
def test_translation_file_is_complete_and_well_formed(language: str) -> None:
    problems = check_translations.check((language,))
    assert [str(p) for p in problems] == []


def test_lupdate_would_add_no_text(tmp_path: Path) -> None:
    """Run lupdate on copies of the .ts files: every text of the sources is already there."""
    if not LUPDATE.exists():
        pytest.skip("pyside6-lupdate is not installed beside this Python")
    copies = []
    for language in check_translations.LANGUAGES:
        copy = tmp_path / check_translations.ts_path(language).name
        shutil.copy(check_translations.ts_path(language), copy)
        copies.append(copy)
    result = subprocess.run(
        [str(LUPDATE), "-locations", "none", *map(str, SOURCES), "-ts", *map(str, copies)],
        capture_output=True,
        text=True,
        check=True,
    )
    new = [int(n) for n in re.findall(r"\((\d+) new and \d+ already existing\)", result.stdout)]
    assert new and all(n == 0 for n in new), result.stdout
    # and nothing the sources no longer use is left behind as obsolete
    for copy in copies:
        assert 'type="vanished"' not in copy.read_text(encoding="utf-8"), copy.name
        assert 'type="obsolete"' not in copy.read_text(encoding="utf-8"), copy.name


def test_the_checker_catches_a_broken_placeholder(tmp_path: Path) -> None:
    ts = tmp_path / "billing_desktop_it.ts"
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1" language="it">\n'
        "<context><name>X</name>"
        "<message><source>Hello {name}</source><translation>Ciao {nome}</translation></message>"
        "<message><source>&amp;File</source><translation>File</translation></message>"
        '<message><source>Open</source><translation type="unfinished"></translation></message>'
        "</context></TS>\n",
        encoding="utf-8",
    )
    problems = check_translations.check_file(ts, "it")
    whats = sorted(p.what.split(" ")[0] for p in problems)
    assert whats == ["keyboard", "placeholders", "unfinished"]
