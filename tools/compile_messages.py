"""Compile every gettext catalogue (.po) under src/rapport to .mo, with Babel.

The project's catalogue is src/rapport/locale; an app may keep its own beside its code
(src/rapport/<app>/locale), which Django finds through INSTALLED_APPS.

GNU gettext is not needed: ``make install`` (and the test suite) run this instead of
``django-admin compilemessages``. A catalogue with an error fails loudly, naming the file.

    python tools/compile_messages.py [LOCALE_DIR ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "src" / "rapport"


def compile_catalogue(po_path: Path) -> Path:
    """Write ``X.mo`` beside ``X.po``; fuzzy entries are left out, as msgfmt does."""
    with po_path.open("rb") as source:
        catalogue = read_po(source, abort_invalid=True)
    mo_path = po_path.with_suffix(".mo")
    with mo_path.open("wb") as out:
        write_mo(out, catalogue, use_fuzzy=False)
    return mo_path


def compile_all(root: Path = DEFAULT_ROOT) -> list[Path]:
    return [compile_catalogue(po) for po in sorted(root.rglob("locale/*/LC_MESSAGES/*.po"))]


def main(argv: list[str]) -> int:
    roots = [Path(arg) for arg in argv] or [DEFAULT_ROOT]
    for root in roots:
        for mo_path in compile_all(root):
            print(f"compiled {mo_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
