"""The signed-in user's own preferences.

``set_user_language`` belongs with the other account writes in ``rapport.accounts.services``;
it lives here until that module takes it, so the UI does not write ``User`` rows itself.
"""

from __future__ import annotations

from django.conf import settings

from rapport.accounts.models import User
from rapport.accounts.services import record_audit
from rapport.errors import InvalidInput


def set_user_language(user: User, language: str) -> None:
    """Save the UI language on the user, so it follows them to every browser."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(f"Unknown language {language!r}.", field="language")
    if user.language == language:
        return
    before = user.language
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    record_audit(user, "user.language", target_type="user", target_id=user.pk,
                 detail={"from": before, "to": language})
