"""Errors of the API: JSON ``{"error": {"code", "field", "message", "details"}}`` with a stable code."""

from flask import jsonify


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, details=None, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details or []
        self.headers = headers or {}

    def response(self):
        return error_response(self.status, self.code, self.message, self.field, self.details, self.headers)


def error_response(status: int, code: str, message: str, field: str | None = None, details=None, headers=None):
    body = {"error": {"code": code, "field": field, "message": message, "details": list(details or [])}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def detail(code: str, field: str | None, message: str) -> dict:
    return {"code": code, "field": field, "message": message}
