"""Finding a row the way people name it: by id ("12") or by its unique name ("Spring sale")."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from rapport.errors import NotFound


def by_id_or_name[M: Model](
    queryset: QuerySet[M], ref: int | str, what: str, *, field: str = "name"
) -> M:
    """The row whose id is ``ref`` (when it is a number) or whose ``field`` equals it; a
    ``NotFound`` naming ``what`` otherwise."""
    lookup: dict[str, Any] = (
        {"pk": int(ref)} if isinstance(ref, int) or str(ref).isdigit() else {field: ref}
    )
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFound(f"There is no {what} {ref!r}.")
    return found
