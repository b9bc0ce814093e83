"""A stand-in for an application that implements the notification-gateway contract of docs/contracts.md
(no real app runs in this scenario): /metrics in the Prometheus text format, standard library only.
Its SMS gateway rejects the app's credentials, so notification_gateway_errors_total{error_type="auth"}
grows with every scrape and the notifications pack's NotificationGatewayAuthFailing fires; email and push
work. Served like the stack's exporters: HTTPS with the host's certificate, one basic-auth user (401 without)."""

import argparse
import base64
import hmac
import ssl
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = time.time()
BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def metrics():
    ticks = int((time.time() - START) / 5) + 1
    lines = ["# TYPE notification_dispatch_total counter"]
    for channel, gateway, sent, failed in (("sms", "smsgw", 0, 2 * ticks), ("email", "smtp", 10 * ticks, 0),
                                           ("push", "fcm", 20 * ticks, ticks)):
        lines.append('notification_dispatch_total{channel="%s",gateway="%s",status="sent"} %d' % (channel, gateway, sent))
        lines.append('notification_dispatch_total{channel="%s",gateway="%s",status="failed"} %d' % (channel, gateway, failed))
    lines.append("# TYPE notification_gateway_errors_total counter")
    lines.append('notification_gateway_errors_total{channel="sms",gateway="smsgw",error_type="auth"} %d' % (2 * ticks))
    lines.append('notification_gateway_errors_total{channel="push",gateway="fcm",error_type="timeout"} %d' % ticks)
    lines.append("# TYPE notification_gateway_request_duration_seconds histogram")
    for channel, gateway, seconds in (("sms", "smsgw", 0.2), ("email", "smtp", 0.4), ("push", "fcm", 1.5)):
        calls = 10 * ticks
        for bound in BUCKETS:
            lines.append('notification_gateway_request_duration_seconds_bucket{channel="%s",gateway="%s",le="%s"} %d'
                         % (channel, gateway, bound, calls if seconds <= bound else 0))
        lines.append('notification_gateway_request_duration_seconds_bucket{channel="%s",gateway="%s",le="+Inf"} %d'
                     % (channel, gateway, calls))
        lines.append('notification_gateway_request_duration_seconds_sum{channel="%s",gateway="%s"} %f'
                     % (channel, gateway, calls * seconds))
        lines.append('notification_gateway_request_duration_seconds_count{channel="%s",gateway="%s"} %d' % (channel, gateway, calls))
    queues = (("sms", 12), ("email", 0), ("push", 3))
    lines.append("# TYPE notification_queue_length gauge")
    lines += ['notification_queue_length{channel="%s"} %d' % (channel, length) for channel, length in queues]
    lines.append("# TYPE notification_queue_oldest_age_seconds gauge")
    lines += ['notification_queue_oldest_age_seconds{channel="%s"} %d' % (channel, 30 * length) for channel, length in queues]
    return ("\n".join(lines) + "\n").encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    expected = ""

    def do_GET(self):  # noqa: N802 - http.server API
        if not hmac.compare_digest(self.headers.get("Authorization") or "", self.expected):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="metrics"')
            self.end_headers()
            return
        if self.path.split("?")[0] != "/metrics":
            self.send_response(404)
            self.end_headers()
            return
        body = metrics()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--listen", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9500)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    args = parser.parse_args()
    with open(args.password_file, encoding="utf-8") as handle:
        token = "%s:%s" % (args.user, handle.read().strip())
    Handler.expected = "Basic " + base64.b64encode(token.encode("utf-8")).decode("ascii")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
