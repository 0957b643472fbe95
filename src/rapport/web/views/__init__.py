"""The UI's views, one module per page area; the route table is ``rapport.web.urls``."""
