"""Which endpoint a request reaches, decided once per request the way Flask routes it.

Why not the raw path: Werkzeug merges slashes and ignores a trailing one, so ``//find_faces`` and
``/find_faces/`` run the same view as ``/find_faces``. Limits and metric labels that compared paths
could be bypassed by spelling; keyed by the routed endpoint they cannot.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect, Rule

ENVIRON_KEY = "facecore.endpoint"
#: the label of a request no view answers (404, 405): bounded, whatever the path says
UNROUTED = "other"


def endpoint_of(environ: dict, url_map: Map) -> str:
    """The routed rule's path without slashes (``find_faces``), or :data:`UNROUTED`; cached in ``environ``."""
    endpoint = environ.get(ENVIRON_KEY)
    if endpoint is None:
        endpoint = environ[ENVIRON_KEY] = _match(environ, url_map)
    return endpoint


def rule_name(rule: Rule) -> str:
    """How a route is named in labels and limits: its path without slashes (``/metrics`` -> ``metrics``)."""
    return rule.rule.strip("/") or "/"


def _match(environ: dict, url_map: Map) -> str:
    try:
        adapter = url_map.bind_to_environ(environ)
        try:
            rule, _ = adapter.match(return_rule=True)
        except RequestRedirect as redirect:  # a merged-slash spelling: judged as where it leads
            rule, _ = adapter.match(urlsplit(redirect.new_url).path, return_rule=True)
    except (HTTPException, ValueError):
        return UNROUTED
    return rule_name(rule)
