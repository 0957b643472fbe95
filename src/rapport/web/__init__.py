"""The server-rendered UI: base templates, static files, dashboard and pages."""
