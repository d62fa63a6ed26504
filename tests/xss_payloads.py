"""A corpus of stored-XSS payloads, and the check that a rendered page executes none of them.

Payloads set ``window.__xss`` (or open a dialog) when they run, so that a real browser can
tell; the HTML check below looks for what would make them run: event-handler attributes,
foreign ``<script>`` elements, ``javascript:``/``data:text/html`` URLs, frames and objects,
``<base>`` and meta refreshes, and template expressions that were evaluated.
"""

import json
import re

import lxml.html

JS = "window.__xss=1"

PAYLOADS = (
    f"<script>{JS}</script>",
    f'"><img src=x onerror={JS}>',
    f"'><img src=x onerror={JS}>",
    f"<svg/onload={JS}>",
    "javascript:alert(1)",
    f'<a href="javascript:{JS}">lien</a>',
    f'<a href="JaVaScRiPt&#58;{JS}">lien</a>',
    f'<a href=" &#14;javascript:{JS}">lien</a>',
    f'<iframe src="javascript:{JS}"></iframe>',
    f"</textarea><script>{JS}</script>",
    f"</title><script>{JS}</script>",
    f"</script><script>{JS}</script>",
    "'-alert(1)-'",
    f'";{JS};//',
    "tpl{{7*7}}tpl",
    "tpl{{ 7*'7' }}tpl",
    "{% for x in 'ab' %}tplloop{% endfor %}",
    "${7*7}#{7*7}",
    f"<IMG SRC=x OnErRoR={JS}>",
    '<img src=x onerror="&#119;indow.__xss=1">',
    f"<img src=x on\nerror={JS}>",
    f"<img src=x\nonerror={JS}>",
    f"<img src=x on&#0;error={JS}>",
    f"<img src=x on%00error={JS}>",
    f"<img src=x on\x0berror={JS}>",
    f'<math><mi xlink:href="javascript:{JS}">x</mi></math>',
    "<style>@import 'https://evil.example/x.css';</style>",
    f"<body onload={JS}>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    f'<object data="data:text/html,<script>{JS}</script>"></object>',
    f'<embed src="javascript:{JS}">',
    '<base href="https://evil.example/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{JS}">',
    f"<details open ontoggle={JS}>x</details>",
    f'<form><button formaction="javascript:{JS}">x</button></form>',
    f"<input autofocus onfocus={JS}>",
    f'<noscript><p title="</noscript><img src=x onerror={JS}>">',
    f"&lt;script&gt;{JS}&lt;/script&gt;",
    f"<svg><script>{JS}</script></svg>",
    f"]]><script>{JS}</script><![CDATA[",
    f"<!--<script>{JS}</script>-->",
    "\u2028\u2029 & < > ' \"",
)

# What the template payloads above would become if a template engine evaluated them.
EVALUATED_TEMPLATES = ("tpl49tpl", "tpl7777777tpl", "tplplooptplloop")


def packed(limit: int, start: int = 0) -> str:
    """As many payloads as fit in ``limit`` characters, from the ``start``-th one (cycling)."""
    text = ""
    for offset in range(len(PAYLOADS)):
        candidate = text + PAYLOADS[(start + offset) % len(PAYLOADS)] + " "
        if len(candidate) > limit:
            break
        text = candidate
    return text.strip()


DANGEROUS_URL = re.compile(r"^(javascript|vbscript|data:text/html)", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}
FOREIGN_ELEMENTS = {"iframe", "frame", "frameset", "object", "embed", "applet", "base"}
OUR_SCRIPT_PREFIXES = ("/static/", "/admin/static/")


def _url(value: str) -> str:
    """A URL as a browser reads it: without the spaces and control characters it ignores."""
    return re.sub(r"[\x00-\x20\x7f]", "", value)


def _runs_script(name: str, value: str) -> bool:
    """An event handler, a ``srcdoc`` document or a URL that runs script or HTML of its own."""
    return (
        name.startswith("on") or name == "srcdoc" or (name in URL_ATTRIBUTES and bool(DANGEROUS_URL.match(_url(value))))
    )


def _script_problem(element) -> str | None:
    source = element.get("src")
    if source is not None:
        return None if source.startswith(OUR_SCRIPT_PREFIXES) else f"script src={source!r}"
    if (element.get("type") or "").lower() == "application/ld+json":
        content = element.text or ""
        if "</script" in content.lower():
            return "JSON-LD closing its script element"
        try:
            json.loads(content)
        except ValueError:
            return f"JSON-LD that is not JSON: {content[:80]!r}"
        return None
    return f"inline script {(element.text or '')[:80]!r}"


def html_problems(body: str) -> list[str]:
    """Everything in an HTML page that would run script, load foreign content or redirect."""
    problems = [f"template evaluated: {marker}" for marker in EVALUATED_TEMPLATES if marker in body]
    root = lxml.html.document_fromstring(body.replace("\x00", "\ufffd"))  # as browsers read NUL
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        tag = element.tag.lower()
        if tag in FOREIGN_ELEMENTS:
            problems.append(f"<{tag}> element")
        if tag == "script" and (problem := _script_problem(element)):
            problems.append(problem)
        if tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            problems.append("meta refresh")
        if tag == "style" and "evil.example" in (element.text or ""):
            problems.append("foreign <style> element")
        for name, value in element.attrib.items():
            name = name.lower()
            if _runs_script(name, value):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems
