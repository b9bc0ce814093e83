#!/usr/bin/env python3
"""Print a summary table of the lab: component, host, URL, status (probed inside each container)."""

import argparse
import json
import subprocess
import sys

# component: (inventory group, port, path, basic-auth user:password or None)
COMPONENTS = {
    "node_exporter": ("node_exporter", 9100, "/metrics", "prometheus:lab-scrape-password"),
    "prometheus": ("prometheus", 9090, "/-/ready", None),
    "alertmanager": ("alertmanager", 9093, "/-/ready", None),
    "pushgateway": ("pushgateway", 9091, "/-/ready", None),
    "postgres_exporter": ("postgres_exporter", 9187, "/metrics", None),
    "nginx_exporter": ("nginx_exporter", 9113, "/metrics", None),
    "blackbox_exporter": ("blackbox_exporter", 9115, "/-/healthy", None),
    "cadvisor": ("cadvisor", 8080, "/healthz", None),
}


def inventory_groups(path):
    """Group name -> sorted hosts, resolved by ansible-inventory (children included)."""
    out = subprocess.run(["ansible-inventory", "-i", path, "--list"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)

    def hosts(group, seen=()):
        node = data.get(group, {})
        found = set(node.get("hosts", []))
        for child in node.get("children", []):
            if child not in seen:
                found |= hosts(child, seen + (group,))
        return found
    return {group: sorted(hosts(group)) for group in data if group != "_meta"}


PROBE = ("import base64,sys,urllib.request as u\n"
         "r=u.Request(sys.argv[1])\n"
         "a=sys.argv[2]\n"
         "a and r.add_header('Authorization','Basic '+base64.b64encode(a.encode()).decode())\n"
         "try:\n print(u.urlopen(r,timeout=5).status)\n"
         "except Exception as e:\n print(getattr(e,'code',e))\n")


def probe(host, port, path, auth):
    url = "http://127.0.0.1:%d%s" % (port, path)
    result = subprocess.run(["docker", "exec", host, "python3", "-c", PROBE, url, auth or ""],
                            capture_output=True, text=True, check=False)
    code = result.stdout.strip()
    return "up" if code == "200" else "DOWN (%s)" % (code or result.stderr.strip()[-40:])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inventory", required=True)
    args = parser.parse_args()
    groups = inventory_groups(args.inventory)
    rows, down = [], 0
    for component, (group, port, path, auth) in COMPONENTS.items():
        for host in groups.get(group, []):
            status = probe(host, port, path, auth)
            down += status != "up"
            rows.append((component, host, "http://%s:%d%s" % (host, port, path), status))
    print("\n%-18s %-10s %-40s %s" % ("component", "host", "URL", "status"))
    print("%-18s %-10s %-40s %s" % ("-" * 18, "-" * 10, "-" * 40, "-" * 10))
    for row in rows:
        print("%-18s %-10s %-40s %s" % row)
    return 1 if down else 0


if __name__ == "__main__":
    sys.exit(main())
