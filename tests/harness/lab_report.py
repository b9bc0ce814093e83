#!/usr/bin/env python
"""Print a summary table of the lab: component, host, URL, status (probed inside each container).

Status is "up" (HTTP 200), "configured, not started (no binary)" for a component whose unit is
written but whose binary is absent (Grafana, Loki, Promtail, Alloy in the lab: no registry reachable
here carries them), "not deployed" when its unit does not exist, else "DOWN (...)". The exit code is 1
when anything is DOWN or not deployed.
"""

import argparse
import json
import os
import subprocess
import sys

# The lab's scrape user (inventories/lab/group_vars/all.yml): every endpoint of the lab asks for it.
LAB_AUTH = "prometheus:lab-scrape-password"
# component: (inventory group, systemd unit, port, path, basic-auth user:password or None)
COMPONENTS = {
    "node_exporter": ("node_exporter", "node_exporter", 9100, "/metrics", LAB_AUTH),
    "postgres_exporter": ("postgres_exporter", "postgres_exporter", 9187, "/metrics", LAB_AUTH),
    "nginx_exporter": ("nginx_exporter", "nginx_exporter", 9113, "/metrics", LAB_AUTH),
    "nginx_log_exporter": ("nginx_log_exporter", "nginx_log_exporter", 9114, "/metrics", LAB_AUTH),
    "cadvisor": ("cadvisor", "cadvisor", 8080, "/healthz", None),
    "blackbox_exporter": ("blackbox_exporter", "blackbox_exporter", 9115, "/-/healthy", LAB_AUTH),
    "pushgateway": ("pushgateway", "pushgateway", 9091, "/-/ready", LAB_AUTH),
    "alertmanager": ("alertmanager", "alertmanager", 9093, "/-/ready", LAB_AUTH),
    "prometheus": ("prometheus", "prometheus", 9090, "/-/ready", LAB_AUTH),
    # The unit is grafana (archive/binary install) or grafana-server (distribution package).
    "grafana": ("grafana", "grafana|grafana-server", 3000, "/api/health", None),
    "loki": ("loki", "loki", 3100, "/ready", None),
    # log_shipper hosts run promtail or alloy (hostvar log_shipper_agent, default promtail).
    "promtail": ("log_shipper:promtail", "promtail", 9080, "/ready", None),
    "alloy": ("log_shipper:alloy", "alloy", 12345, "/-/ready", None),
}

PROBE = r"""
import base64, os, re, subprocess, sys, urllib.request as u
url, auth, unit = sys.argv[1:4]
r = u.Request(url)
if auth:
    r.add_header('Authorization', 'Basic ' + base64.b64encode(auth.encode()).decode())
try:
    code = u.urlopen(r, timeout=5).status
except Exception as e:
    code = getattr(e, 'code', None) or str(getattr(e, 'reason', e))
if code == 200:
    print('up'); sys.exit()
for name in unit.split('|'):
    show = subprocess.run(['systemctl', 'show', name, '-p', 'LoadState', '-p', 'ActiveState', '-p', 'ExecStart'],
                          capture_output=True, text=True).stdout
    state = dict(line.split('=', 1) for line in show.splitlines() if '=' in line)
    if state.get('LoadState') == 'loaded':
        break
binary = re.search(r'path=(\S+)', state.get('ExecStart', ''))
if state.get('LoadState') != 'loaded':
    print('not deployed')
elif binary and not os.path.exists(binary.group(1)):
    print('configured, not started (no binary)')
else:
    print('DOWN (%s, unit %s)' % (code, state.get('ActiveState')))
"""


def inventory(path):
    """Group name -> sorted hosts (children included), and the hostvars, from ansible-inventory."""
    venv_tool = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    tool = venv_tool if os.path.exists(venv_tool) else "ansible-inventory"
    out = subprocess.run([tool, "-i", path, "--list"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)

    def hosts(group, seen=()):
        node = data.get(group, {})
        found = set(node.get("hosts", []))
        for child in node.get("children", []):
            if child not in seen:
                found |= hosts(child, seen + (group,))
        return found
    groups = {group: sorted(hosts(group)) for group in data if group != "_meta"}
    return groups, data.get("_meta", {}).get("hostvars", {})


def probe(container, port, path, auth, unit):
    url = "http://127.0.0.1:%d%s" % (port, path)
    result = subprocess.run(["docker", "exec", container, "python3", "-c", PROBE, url, auth or "", unit],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() or "DOWN (%s)" % result.stderr.strip()[-60:]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--prefix", default=os.environ.get("LAB_PREFIX", ""), help="container name prefix (lab.sh LAB_PREFIX)")
    args = parser.parse_args()
    groups, hostvars = inventory(args.inventory)
    rows, bad = [], 0
    for component, (group, unit, port, path, auth) in COMPONENTS.items():
        group, _sep, agent = group.partition(":")
        for host in groups.get(group, []):
            if agent and hostvars.get(host, {}).get("log_shipper_agent", "promtail") != agent:
                continue
            status = probe(args.prefix + host, port, path, auth, unit)
            bad += status.startswith(("DOWN", "not deployed"))
            rows.append((component, host, "http://%s:%d%s" % (host, port, path), status))
    fmt = "%-18s %-9s %-36s %s"
    print("\n" + fmt % ("component", "host", "URL", "status"))
    print(fmt % ("-" * 18, "-" * 9, "-" * 36, "-" * 36))
    for row in rows:
        print(fmt % row)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
