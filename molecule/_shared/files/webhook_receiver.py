"""A stdlib-only webhook receiver for the stack scenario: every POST body (an Alertmanager
notification) is appended, as one JSON object per line, to the output file; GET / returns them."""

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def make_handler(out):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            record = {"path": self.path, "notification": payload}
            with LOCK, open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
            self.send_response(200)
            self.end_headers()

        def do_GET(self):  # noqa: N802 - http.server API
            with LOCK:
                try:
                    with open(out, encoding="utf-8") as handle:
                        records = [json.loads(line) for line in handle if line.strip()]
                except FileNotFoundError:
                    records = []
            data = json.dumps(records).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            print("webhook-receiver: " + fmt % args, flush=True)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ThreadingHTTPServer((args.listen, args.port), make_handler(args.out)).serve_forever()


if __name__ == "__main__":
    main()
