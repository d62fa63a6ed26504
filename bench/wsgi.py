"""The app as gunicorn serves it in the load test (``bench/run.py``): API rate limit lifted."""

import os

from sofi import create_served_app

app = create_served_app({"SOFI_API_RATE_LIMIT": os.environ.get("SOFI_API_RATE_LIMIT", "1000000 per minute")})
