"""Signals the CRM sends so that other apps can keep derived data fresh without crm importing
them: ``orders_changed`` carries the ids of contacts whose orders were added, changed or
removed, sent inside the writing transaction so derived rows commit (or roll back) with it;
``import_finished`` follows a whole import, for work worth doing once per file."""

from django.dispatch import Signal

orders_changed = Signal()  # sender=the writing module, contact_ids=list[int]
import_finished = Signal()  # sender=the importing module, kind="contacts"|"products"|"orders"
