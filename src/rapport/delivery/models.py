from __future__ import annotations

from django.db import models


class CaughtMessage(models.Model):
    """A message the local mail catcher received; shown in the UI's outbox."""

    mail_from = models.CharField(max_length=320)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=500, blank=True)
    raw = models.BinaryField()
    size = models.IntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.subject}"
