"""An OTLP/HTTP metrics sink for the stack scenario: POST /v1/metrics takes an ExportMetricsServiceRequest
(protobuf, as the OpenTelemetry SDK's OTLP/HTTP exporter sends it), decodes it with the official
opentelemetry-proto classes and appends a summary (resource attributes, metric names, units, data point
attributes and counts) as one JSON line to the output file; GET / returns the recorded summaries.
A body that does not decode gets 400, as from a real receiver. Runs in the test app's venv (opentelemetry-proto)."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

LOCK = threading.Lock()


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attributes(key_values):
    return {kv.key: _value(kv.value) for kv in key_values}


def _point_value(point):
    """The count of a histogram point, the value of a sum or gauge point."""
    if hasattr(point, "bucket_counts"):
        return point.count
    kind = point.WhichOneof("value")
    return getattr(point, kind) if kind else None


def summarize(request):
    out = []
    for resource_metrics in request.resource_metrics:
        resource = _attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                points = getattr(metric, kind).data_points if kind else []
                out.append({"resource": resource, "scope": scope_metrics.scope.name, "name": metric.name,
                            "unit": metric.unit, "type": kind,
                            "points": [dict(_attributes(p.attributes), _value=_point_value(p)) for p in points]})
    return out


def make_handler(out):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/v1/metrics" or "protobuf" not in (self.headers.get("Content-Type") or ""):
                self.send_response(404 if self.path != "/v1/metrics" else 415)
                self.end_headers()
                return
            request = ExportMetricsServiceRequest()
            try:
                request.ParseFromString(body)
            except Exception:  # pylint: disable=broad-except  # google.protobuf.message.DecodeError
                self.send_response(400)
                self.end_headers()
                return
            with LOCK, open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"metrics": summarize(request)}, sort_keys=True) + "\n")
            data = ExportMetricsServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 - http.server API
            with LOCK:
                try:
                    with open(out, encoding="utf-8") as handle:
                        records = [json.loads(line) for line in handle if line.strip()]
                except FileNotFoundError:
                    records = []
            data = json.dumps(records[-50:]).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            pass
    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ThreadingHTTPServer((args.listen, args.port), make_handler(args.out)).serve_forever()


if __name__ == "__main__":
    main()
