"""Security headers sent with every response (pages, API, errors, static files).

The Content-Security-Policy forbids inline scripts, inline event handlers and ``javascript:``
URLs: the behaviour of every page lives in static files (``sofi/static/sofi.js`` and
Flask-Admin's own scripts, whose templates are overridden in ``sofi/templates/admin/``).
Inline ``style`` attributes are refused too: none of our pages or Flask-Admin's needs one.
"""

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
# Browser features SOFI never uses, refused to the page and to anything it could embed.
UNUSED = ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb")
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in UNUSED)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
}
# Production only (SOFI_ENV=production, served over HTTPS): browsers then refuse plain HTTP for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SOFI_HSTS"):
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        return response
