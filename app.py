"""Entry point for ``flask --app app …`` and for a WSGI server (``gunicorn app:app``)."""

from sofi import create_served_app

app = create_served_app()
