import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
django_application = get_wsgi_application()

# Opens and clicks are answered before Django's middleware (tracking/wsgi.py); imported once
# the apps are loaded.
from rapport.tracking.wsgi import with_tracking  # noqa: E402

application = with_tracking(django_application)
