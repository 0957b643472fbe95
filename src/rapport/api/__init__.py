"""The HTTP API under /api/v1 (django-ninja): routers per area, each calling services."""
