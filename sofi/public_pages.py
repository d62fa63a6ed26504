"""Public pages kept whole between requests until the published offer changes.

A catalogue page or a read API answer depends on nothing but its URL, the day and the
published offer (no account, no form token; a page showing a flashed message is built for
its visitor alone): its body is kept per process under the
publication sequence (``sofi.search_public.cache``), so that a catalogue under load renders
each page once per publication instead of once per visitor. Rendering is most of the cost of
these pages (three quarters of a formation page, more of a search page). Only complete
answers (200) are kept; redirects and errors are built each time. Headers added after the
view (security, CORS, rate limits) still apply to every answer.
"""

import functools
from datetime import date

from flask import current_app, request, session

from sofi.search_public import cache


def _key() -> tuple:
    return request.host_url, request.path, tuple(sorted(request.args.items(multi=True))), date.today()


def kept_until_the_offer_changes(view):
    """Decorate a GET view whose answer depends on its URL and the published offer only."""

    @functools.wraps(view)
    def answer(*args, **kwargs):
        if session.get("_flashes"):  # a message for this visitor (after logging out, say)
            return view(*args, **kwargs)

        def build():
            response = current_app.make_response(view(*args, **kwargs))
            return response if response.status_code != 200 else (response.get_data(), response.mimetype)

        found = cache.page(_key(), build, keep=lambda value: isinstance(value, tuple))
        if isinstance(found, tuple):
            body, mimetype = found
            return current_app.response_class(body, mimetype=mimetype)
        return found

    return answer
