"""Set-up for the spawned process that generates demo batches.

Kept apart from every module that defines or imports models: the child unpickles this
function before Django is ready, so importing it must not touch the app registry.
"""

from __future__ import annotations

import os

import django


def setup_django() -> None:
    """Load the apps in the child, whatever script spawned it (the CLI, a benchmark)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
    django.setup()
