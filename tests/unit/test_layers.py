"""The layering rule of DESIGN.md: domain, store and services never import Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import billing_desktop

PACKAGE_DIR = Path(billing_desktop.__file__).parent
LOWER_LAYERS = ("domain", "store", "services")


def _modules(layer: str) -> list[str]:
    found = [f"billing_desktop.{layer}"]
    for info in pkgutil.walk_packages([str(PACKAGE_DIR / layer)], f"billing_desktop.{layer}."):
        if ".migrations" not in info.name:
            found.append(info.name)
    return found


def test_lower_layers_import_without_qt() -> None:
    """Import every module of domain/store/services with Qt made unimportable."""
    modules = [m for layer in LOWER_LAYERS for m in _modules(layer)]
    assert len(modules) > 10
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'):\n"
        "            raise ImportError('Qt is not allowed below the ui layer: ' + name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not any(m.split('.')[0] in ('PySide6', 'shiboken6') for m in sys.modules)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_domain_imports_no_sqlalchemy() -> None:
    """The domain is plain Python: no SQLAlchemy either."""
    modules = _modules("domain")
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'PySide6', 'shiboken6', 'alembic'))\n"
        "print(bad)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
