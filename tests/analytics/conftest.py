"""The UI fixtures (signed-in clients per role, compiled catalogues, a fresh cache)."""

from tests.web.conftest import _catalogues, _fast_settings, client_for

__all__ = ["_catalogues", "_fast_settings", "client_for"]
