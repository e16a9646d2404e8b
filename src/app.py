"""Application factory and ``python -m facecore.app`` (a development server; production runs uWSGI)."""
from __future__ import annotations

import functools
import logging
import sys
import time

from flask import Flask, Response, g, request

from facecore import refused_start
from facecore.config import Settings, load_settings
from facecore.cpu_budget import cap_opencv_threads
from facecore.errors import StartupError
from facecore.logs import configure
from facecore.model_store import ModelStore
from facecore.pipeline import Pipeline
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from facecore.warmup import warm_up_image
from facecore.web import endpoints, errors
from facecore.web.headers import request_id
from facecore.web.limits import Limits, RequestGuard
from facecore.web.metrics import Metrics, enable_multiprocess
from facecore.web.routing import endpoint_of
from facecore.worker_exit import skip_native_exit_handlers

log = logging.getLogger("facecore")


def build_pipeline(settings: Settings, registry: PluginRegistry | None = None) -> Pipeline:
    """Create, load and warm the configured plugins (everything that must happen before serving)."""
    capped = cap_opencv_threads()
    if capped is not None:
        log.info("OpenCV threads capped at %d: the CPUs this process may use (facecore.cpu_budget)", capped)
    registry = registry or PluginRegistry.from_manager(build_plugin_manager())
    pipeline = Pipeline.from_settings(settings, registry)
    pipeline.load(ModelStore(settings.models_root, offline=settings.models_offline),
                  settings.device)
    if settings.warm_up:
        pipeline.warm_up(warm_up_image())
    else:
        pipeline.ready = True
    return pipeline


def create_app(settings: Settings | None = None, *, pipeline: Pipeline | None = None,
               registry: PluginRegistry | None = None) -> Flask:
    settings = settings or load_settings()
    configure(settings.logging_level)
    if pipeline is None:
        pipeline = build_pipeline(settings, registry)
    app = Flask("embedding-calculator")
    app.url_map.strict_slashes = False
    app.config.update(MAX_CONTENT_LENGTH=settings.max_body_bytes, MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
                      MAX_IMAGE_PIXELS=settings.max_pixels, MAX_IMAGE_FRAMES=settings.max_frames,
                      BUILD_VERSION=settings.build_version)
    app.extensions["facecore.pipeline"] = pipeline
    app.extensions["facecore.settings"] = settings
    app.register_blueprint(endpoints.bp)
    errors.register(app)
    _log_requests(app)
    _guard(app, settings)
    pipeline.timing_listeners.append(app.extensions["facecore.metrics"].observe_plugin)
    return app


def _guard(app: Flask, settings: Settings) -> None:
    """WSGI layers around Flask: metrics outermost (they count the limits' answers), then the limits."""
    metrics = Metrics(enable_multiprocess())
    limits = Limits(max_body_bytes=settings.max_body_bytes, max_in_flight=settings.max_in_flight,
                    queue_timeout_ms=settings.queue_timeout_ms)
    endpoint = functools.partial(endpoint_of, url_map=app.url_map)
    guard = RequestGuard(app.wsgi_app, limits, endpoints.route_endpoints(app, "POST"), endpoint,
                         on_queue=metrics.on_queue)
    metrics.track_in_flight(lambda: guard.limiter.in_flight)
    app.wsgi_app = metrics.middleware(guard, endpoint)  # type: ignore[method-assign]
    app.extensions["facecore.metrics"] = metrics
    app.extensions["facecore.guard"] = guard


def _log_requests(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.request_id = request_id(request.environ)
        g.started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("request_id=%s %s %s -> %d in %.1f ms", g.get("request_id", "-"), request.method, request.path,
                 response.status_code, elapsed)
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        return response


def wsgi_app() -> Flask:
    """uWSGI's entry (``module = facecore.app:wsgi_app()``): load everything, or stop the server with one line
    and exit status 2 (:mod:`facecore.refused_start`)."""
    try:
        app = create_app()
        skip_native_exit_handlers()  # after every native library is loaded: see src/worker_exit.py
        return app
    except StartupError as error:
        log.critical("cannot start: %s", error)
    except Exception:  # noqa: BLE001 - a bug in a plugin's load must stop the start too, not loop
        log.critical("cannot start: unexpected error while loading", exc_info=True)
    refused_start.record_refusal()
    sys.exit(refused_start.UWSGI_FAILED_APP_CODE)


def main() -> None:
    try:
        settings = load_settings()
        app = create_app(settings)
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        raise SystemExit(refused_start.EXIT_REFUSED_START) from None
    log.info("serving on port %d", settings.port)
    app.run(host="0.0.0.0", port=settings.port, threaded=True)  # noqa: S104 - a container service


if __name__ == "__main__":
    main()
