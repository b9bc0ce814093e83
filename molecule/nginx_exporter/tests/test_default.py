"""nginx_exporter: nginx from Debian, stub_status and the JSON access log configured by the role,
nginx-prometheus-exporter (real binary from Debian) and the shipped nginx-log-exporter.

Requests are sent to nginx on loopback (a bounded number) and the metrics compared before/after.
"""

from testlib import exposure, poll, preflight_failure, samples

LOG_CONFIG = "/etc/nginx_log_exporter/config.json"


def log_metrics(host):
    return host.check_output("curl -sf http://127.0.0.1:9114/metrics")


def send(host, path, count):
    host.check_output("for i in $(seq %d); do curl -s -o /dev/null http://127.0.0.1%s; done" % (count, path))


def wait_for_lines(host, before, expected, timeout=10):
    def parsed():
        body = log_metrics(host)
        return body if samples(body, "nginx_log_exporter_lines_total").get('result="parsed"', 0) - before >= expected else None
    return poll(parsed, timeout=timeout, interval=0.5, what="%d more parsed log lines" % expected)


def test_services_running_as_their_users(host):
    for unit, proc, user in (("nginx_exporter", "nginx-prometheu", "nginx-exp"),
                             ("nginx_log_exporter", "nginx-log-expor", "nginx-log-exp")):
        svc = host.service(unit)
        assert svc.is_running and svc.is_enabled, unit
        assert host.check_output("ps -o user= -C %s" % proc).strip() == user
    assert "adm" in host.user("nginx-log-exp").groups


def test_stub_status_only_on_loopback(host):
    body = host.check_output("curl -sf http://127.0.0.1:8089/stub_status")
    assert body.startswith("Active connections:")
    listen = host.check_output("ss -Hltn 'sport = :8089'")
    assert "127.0.0.1:8089" in listen and "0.0.0.0:8080" not in listen


def test_nginx_exporter_metrics(host):
    body = host.check_output("curl -sf http://127.0.0.1:9113/metrics")
    assert samples(body, "nginx_up") == {"": 1.0}
    assert samples(body, "nginx_connections_active")[""] >= 1


def test_nginx_was_reloaded_not_restarted(host):
    """The master process is older than the drop-ins, yet it serves them: it was reloaded."""
    started = int(host.check_output("date -d \"$(ps -o lstart= -p $(systemctl show -p MainPID --value nginx))\" +%s"))
    assert started < host.file("/etc/nginx/conf.d/monitoring-stub-status.conf").mtime.timestamp()
    assert host.run("nginx -t").rc == 0


def test_access_log_file(host):
    log = host.file("/var/log/nginx/monitoring.json.log")
    assert (log.user, log.group, log.mode) == ("www-data", "adm", 0o640)


def test_requests_per_endpoint_status_and_latency(host):
    body = log_metrics(host)
    before = samples(body, "nginx_http_requests_total")
    lines = samples(body, "nginx_log_exporter_lines_total").get('result="parsed"', 0)
    send(host, "/api/items/1", 5)
    send(host, "/api/items/2?token=secret", 2)
    send(host, "/api/missing", 3)
    send(host, "/web/", 2)
    send(host, "/orders/12345/lines", 1)
    body = wait_for_lines(host, lines, 13)
    after = samples(body, "nginx_http_requests_total")

    def delta(labels):
        return after.get(labels, 0) - before.get(labels, 0)

    assert delta('endpoint="api",method="GET",status="200"') == 7
    assert delta('endpoint="api",method="GET",status="404"') == 3
    assert delta('endpoint="ui",method="GET",status="200"') == 2
    assert delta('endpoint="/orders/:id",method="GET",status="404"') == 1
    buckets = samples(body, "nginx_http_request_duration_seconds_bucket")
    count = samples(body, "nginx_http_request_duration_seconds_count")['endpoint="api",method="GET"']
    assert buckets['endpoint="api",method="GET",le="+Inf"'] == count >= 10
    assert buckets['endpoint="api",method="GET",le="10.0"'] == count
    assert samples(body, "nginx_log_exporter_lines_total")['result="invalid"'] == 0
    # The query string (a token here) never reaches the log.
    assert "secret" not in host.check_output("tail -n 20 /var/log/nginx/monitoring.json.log")


def test_broken_log_exporter_config_is_refused(host):
    """The role's validate command refuses a bad regex; the deployed config and the exporter are untouched."""
    before = host.check_output("sha256sum %s" % LOG_CONFIG)
    pid = host.check_output("systemctl show -p MainPID --value nginx_log_exporter")
    host.check_output("printf '{\"rules\": [{\"regex\": \"(\", \"endpoint\": \"api\"}]}' > /tmp/ngx-bad.json")
    res = host.run("/usr/bin/python3 /usr/local/bin/nginx-log-exporter --check-config --config /tmp/ngx-bad.json")
    assert res.rc == 2 and "invalid regex" in res.stderr
    assert host.run("/usr/bin/python3 /usr/local/bin/nginx-log-exporter --check-config --config %s" % LOG_CONFIG).rc == 0
    assert host.check_output("sha256sum %s" % LOG_CONFIG) == before
    assert host.check_output("systemctl show -p MainPID --value nginx_log_exporter") == pid


def test_preflight_rejects_bad_endpoint_rule():
    """Bad input fails early with a message naming the variable (preflight only, on the controller)."""
    out = preflight_failure(__file__)
    assert "nginx_exporter_log_endpoint_rules: each rule must be exactly {regex, endpoint}" in out, out


def test_security_score(host):
    for unit in ("nginx_exporter", "nginx_log_exporter"):
        assert exposure(host, "%s.service" % unit) <= 3.5
