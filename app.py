"""Entry point for ``flask --app app …``."""

from sofi import create_app

app = create_app()
