"""A small web application instrumented with the official Python clients, for the stack scenario (issue #14).

Two endpoint sets, one per client library:
  * prometheus_client (Debian's python3-prometheus-client): /api/orders/, /api/orders/<id>/, /health/ and
    /health/ready/ are counted in http_requests_total{method,endpoint,status} and timed in the histogram
    http_request_duration_seconds{method,endpoint}; every order lookup goes through a cache
    (django_cache_hits_total / django_cache_misses_total) and a database connection pool
    (django_db_connections_active / django_db_connections_max); a Celery-style queue gauge
    celery_queue_size{queue} and celery_tasks_total{task,status}. The names and labels are the conventional
    ones the http_app rule pack and the Applications dashboard read (docs/applications.md). /metrics serves them.
  * OpenTelemetry SDK (opentelemetry-sdk + opentelemetry-exporter-otlp-proto-http, pinned, in a venv):
    /api/v2/reports/ is recorded in the semantic-convention histogram http.server.request.duration (seconds,
    attributes http.request.method, http.route, http.response.status_code) and the counter http.server.requests,
    exported as OTLP/HTTP protobuf to every endpoint of the config file (the scenario's OTLP sink; Prometheus'
    /api/v1/otlp/v1/metrics only where the Prometheus binary has the receiver). The result of every export
    is counted in otlp_exports_total{exporter,result} (prometheus_client side), so a failing export shows.

/health/ answers {"status": "healthy"}, /health/ready/ {"status": "ready", "checks": {...}} (seed 004 style).
POST /control/errors/?count=N&seconds=S (basic auth, like /metrics) makes the next N requests to /api/orders/
answer 503 within S seconds: a bounded burst of server errors; count and seconds are capped.

Served like the stack's exporters: HTTPS with the host's certificate; /metrics and /control/ need the scrape
user (401 without). Only the standard library besides the two clients."""

import argparse
import base64
import hmac
import json
import random
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

# ---- prometheus_client: the conventional names of the http_app pack ------------------------------------
REQUESTS = Counter("http_requests_total", "HTTP requests.", ["method", "endpoint", "status"])
DURATION = Histogram("http_request_duration_seconds", "HTTP request duration.", ["method", "endpoint"],
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
DB_ACTIVE = Gauge("django_db_connections_active", "Database connections in use.")
DB_MAX = Gauge("django_db_connections_max", "Database connections allowed.")
CACHE_HITS = Counter("django_cache_hits_total", "Cache lookups that hit.")
CACHE_MISSES = Counter("django_cache_misses_total", "Cache lookups that missed.")
QUEUE_SIZE = Gauge("celery_queue_size", "Tasks waiting in a Celery queue.", ["queue"])
TASKS = Counter("celery_tasks_total", "Celery tasks run.", ["task", "status"])
OTLP_EXPORTS = Counter("otlp_exports_total", "OTLP metric exports of the OpenTelemetry SDK, by result.",
                       ["exporter", "result"])

MAX_ERRORS = 200
MAX_ERROR_SECONDS = 300
POOL_SIZE = 20


class State:
    """The error switch and the small simulated backends (cache, connection pool, queues)."""

    lock = threading.Lock()
    errors_left = 0
    errors_until = 0.0
    cache = {}
    active = 0

    @classmethod
    def arm(cls, count, seconds):
        with cls.lock:
            cls.errors_left = max(0, min(count, MAX_ERRORS))
            cls.errors_until = time.time() + max(0, min(seconds, MAX_ERROR_SECONDS))
            return cls.errors_left, cls.errors_until

    @classmethod
    def take_error(cls):
        with cls.lock:
            if cls.errors_left > 0 and time.time() < cls.errors_until:
                cls.errors_left -= 1
                return True
            cls.errors_left = 0
            return False


def lookup_order(order_id):
    """A cache in front of the database (ten orders, all kept): lookups hit once the cache is warm."""
    with State.lock:
        if order_id in State.cache:
            CACHE_HITS.inc()
            return State.cache[order_id]
        CACHE_MISSES.inc()
        State.active += 1
        DB_ACTIVE.set(State.active)
    try:
        time.sleep(0.005)  # the query
    finally:
        with State.lock:
            State.active -= 1
            DB_ACTIVE.set(State.active)
    order = {"id": order_id, "total": 42}
    with State.lock:
        State.cache[order_id] = order
        if len(State.cache) > 10:
            State.cache.pop(next(iter(State.cache)))
    return order


def queues():
    """A Celery-style queue gauge that moves a little: a few tasks wait, far below the backlog alert."""
    while True:
        QUEUE_SIZE.labels(queue="default").set(random.randint(0, 5))
        QUEUE_SIZE.labels(queue="emails").set(random.randint(0, 3))
        TASKS.labels(task="send_invoice", status="success").inc()
        time.sleep(5)


# ---- OpenTelemetry SDK: the second endpoint set, exported as OTLP ----------------------------------------
class Otel:
    duration = None
    requests = None


def setup_otel(config):
    """A MeterProvider with one periodic reader per configured OTLP endpoint; None without endpoints."""
    endpoints = config.get("otlp") or []
    if not endpoints:
        return None
    # Imported here: the prometheus_client endpoint set works without the SDK.
    # pylint: disable=import-outside-toplevel
    from opentelemetry import metrics
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    class CountingExporter(OTLPMetricExporter):
        """The SDK's OTLP/HTTP exporter; every result is counted and logged (journal of the unit)."""

        def __init__(self, name, **kwargs):
            super().__init__(**kwargs)
            self.name = name

        def export(self, metrics_data, timeout_millis=10_000, **kwargs):
            result = super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            ok = result == MetricExportResult.SUCCESS
            OTLP_EXPORTS.labels(exporter=self.name, result="success" if ok else "failure").inc()
            print("otlp export to %s: %s" % (self.name, result.name), flush=True)
            return result

    readers = []
    for item in endpoints:
        headers = {}
        if item.get("user"):
            with open(item["password_file"], encoding="utf-8") as handle:
                token = "%s:%s" % (item["user"], handle.read().strip())
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
        exporter = CountingExporter(item["name"], endpoint=item["endpoint"], headers=headers,
                                    certificate_file=item.get("ca_file"), timeout=5)
        OTLP_EXPORTS.labels(exporter=item["name"], result="success")
        OTLP_EXPORTS.labels(exporter=item["name"], result="failure")
        readers.append(PeriodicExportingMetricReader(exporter, export_interval_millis=config.get("export_interval_ms", 5000)))
    resource = Resource.create(config.get("resource") or {})
    provider = MeterProvider(resource=resource, metric_readers=readers)
    metrics.set_meter_provider(provider)
    meter = metrics.get_meter("instrumented_app")
    Otel.duration = meter.create_histogram("http.server.request.duration", unit="s",
                                           description="Duration of HTTP server requests.")
    Otel.requests = meter.create_counter("http.server.requests", unit="1", description="HTTP server requests.")
    return provider


# ---- HTTP ---------------------------------------------------------------------------------------------
def route(path):
    """(endpoint set, route template) of a path; None for an unknown path."""
    if path in ("/health/", "/health/ready/", "/api/orders/"):
        return "prometheus", path
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[:2] == ["api", "orders"] and parts[2].isdigit():
        return "prometheus", "/api/orders/<id>/"
    if path == "/api/v2/reports/":
        return "otel", path
    return None


class Handler(BaseHTTPRequestHandler):
    expected = ""
    protocol_version = "HTTP/1.1"

    def _send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self):
        if hmac.compare_digest(self.headers.get("Authorization") or "", self.expected):
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="instrumented-app"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_POST(self):  # noqa: N802 - http.server API
        url = urlsplit(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path != "/control/errors/":
            self._send(404, {"error": "not found"})
            return
        if not self._authorized():
            return
        query = parse_qs(url.query)
        try:
            count, until = State.arm(int(query.get("count", ["0"])[0]), float(query.get("seconds", ["60"])[0]))
        except ValueError:
            self._send(400, {"error": "count and seconds must be numbers"})
            return
        print("error burst armed: next %d requests to /api/orders/ answer 503 until %.0f" % (count, until), flush=True)
        self._send(200, {"errors_left": count, "until": until})

    def do_GET(self):  # noqa: N802 - http.server API
        path = urlsplit(self.path).path
        if path == "/metrics":
            if self._authorized():
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            return
        found = route(path)
        if found is None:
            self._send(404, {"error": "not found"})
            return
        endpoint_set, template = found
        start = time.perf_counter()
        status, body = self._handle(template, path)
        elapsed = time.perf_counter() - start
        self._send(status, body)
        if endpoint_set == "prometheus":
            REQUESTS.labels(method="GET", endpoint=template, status=str(status)).inc()
            DURATION.labels(method="GET", endpoint=template).observe(elapsed)
        elif Otel.duration is not None:
            attributes = {"http.request.method": "GET", "http.route": template, "http.response.status_code": status}
            Otel.duration.record(elapsed, attributes)
            Otel.requests.add(1, attributes)

    @staticmethod
    def _handle(template, path):
        if template == "/health/":
            return 200, {"status": "healthy"}
        if template == "/health/ready/":
            return 200, {"status": "ready", "checks": {"database": "ok", "cache": "ok", "queue": "ok"}}
        if template == "/api/orders/":
            if State.take_error():
                return 503, {"error": "service unavailable (error burst of the test)"}
            return 200, {"orders": [lookup_order(random.randint(1, 10))]}
        if template == "/api/orders/<id>/":
            return 200, lookup_order(int(path.strip("/").split("/")[2]))
        time.sleep(0.002)
        return 200, {"reports": [{"id": 1, "name": "daily"}]}

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--config", help="JSON: {otlp: [{name, endpoint, ca_file, user, password_file}], resource: {...}, "
                                         "export_interval_ms}")
    args = parser.parse_args()
    # The label sets an alert divides by exist from the start at 0, as prometheus_client advises: a 5xx series
    # born with its first errors holds the whole burst in its first sample, and rate() sees no increase in it.
    for status in ("200", "503"):
        REQUESTS.labels(method="GET", endpoint="/api/orders/", status=status)
    with open(args.password_file, encoding="utf-8") as handle:
        token = "%s:%s" % (args.user, handle.read().strip())
    Handler.expected = "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
    config = {}
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
    DB_MAX.set(POOL_SIZE)
    DB_ACTIVE.set(0)
    # Every series exists from the start (a counter without a sample yet is not in the output).
    CACHE_HITS.inc(0)
    CACHE_MISSES.inc(0)
    threading.Thread(target=queues, daemon=True).start()
    provider = setup_otel(config)
    print("instrumented app on %s:%d, OTLP exporters: %s" % (
        args.listen, args.port, [e["name"] for e in config.get("otlp") or []]), flush=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    try:
        server.serve_forever()
    finally:
        if provider is not None:
            provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
