"""The URLs of a lab container's web UIs on this machine: each port the container publishes on 127.0.0.1.

`make demo` prints them (tests/harness/demo.sh); the runbooks scenario checks that they answer
(molecule/runbooks/tests/test_runbooks.py). The container publishes its UI ports to free 127.0.0.1 ports
(tests/harness/lab.sh, LAB_PUBLISH), so that two labs never fight over a port; `docker port` tells which.

Usage: lab_urls.py CONTAINER [--auth USER:PASSWORD] [--check NAME,...]
  prints one line per published UI: name, URL, and with --check the HTTP status of GET <url><ready path>
  (through basic auth when given); --check fails (exit 1) when one of the named UIs does not answer 200.
  A published UI that is not named and does not answer is shown as "not running here".
"""

import argparse
import base64
import subprocess
import sys
import urllib.error
import urllib.request

# Container port -> (name, path that answers 200 when the daemon is ready).
UIS = {
    9090: ("Prometheus", "-/ready"),
    9093: ("Alertmanager", "-/ready"),
    9091: ("Pushgateway", "-/ready"),
    3000: ("Grafana", "api/health"),
}


def published(container):
    """{container port: "127.0.0.1:<host port>"} of the UI ports the container publishes on loopback."""
    found = {}
    for port in UIS:
        result = subprocess.run(["docker", "port", container, "%d/tcp" % port], capture_output=True, text=True, check=False)
        for line in result.stdout.splitlines():
            if line.startswith("127.0.0.1:"):
                found[port] = line.strip()
    return found


def status(url, auth):
    """The HTTP status of GET url (0 and the reason when nothing answers)."""
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.reason
    except OSError as exc:
        return 0, str(exc)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("container")
    parser.add_argument("--auth", default="")
    parser.add_argument("--check", default="", help="comma-separated UI names that must answer 200")
    args = parser.parse_args(argv)
    must = {name.strip().lower() for name in args.check.split(",") if name.strip()}
    ports = published(args.container)
    failed = []
    for port, (name, ready) in UIS.items():
        if port not in ports:
            if name.lower() in must:
                failed.append("%s: port %d is not published by %s" % (name, port, args.container))
            continue
        url = "http://%s/" % ports[port]
        line = "  %-13s %s" % (name, url)
        if must:
            code, reason = status(url + ready, args.auth)
            if name.lower() in must:
                line += "   %s" % (code or "no answer: " + reason)
                if code != 200:
                    failed.append("%s at %s%s: %s" % (name, url, ready, code or reason))
            else:
                line += "   %s" % (code if code == 200 else "not running here")
        print(line)
    for problem in failed:
        print("lab_urls: " + problem, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
