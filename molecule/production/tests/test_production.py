"""The production path: inventories/example converged by site.yml with TLS, basic auth, the vault and Loki
tenants. Every consumer authenticates and verifies the site CA; nothing here talks plain HTTP to the stack.

Not live here (no binary can be downloaded on this machine): Grafana, Loki and Alloy are configured up to the
binary; their files are checked, and Grafana's datasource health checks run from mon1 against the live
Prometheus and Alertmanager (the Loki datasources are excluded in vars/mapping.yml)."""

import email
import email.policy
import json
import os
import time

import pytest
import testinfra
import yaml
from testlib import dashboard_queries, exposure, get_json, molecule_inventory, poll, query_status, run_playbook

testinfra_hosts = ["ansible://mon1.example.org"]  # pylint: disable=invalid-name

ROOT = os.environ.get("MONITORING_STACK_PROJECT_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CA = "/etc/prometheus/tls/ca.crt"
PROM = "https://mon1.example.org:9090/prometheus"
PROM2 = "https://mon2.example.org:9090/prometheus"
AM = "https://mon1.example.org:9093/alertmanager"
AM2 = "https://mon2.example.org:9093/alertmanager"
HOOK = "http://127.0.0.1:9999/"
# The instrumented test application on web1 (files/instrumented_app.py) and its OTLP sink (files/otlp_sink.py).
APP = "https://web1.example.org:8000"
OTLP_SINK = "http://127.0.0.1:4318/"
SITE = os.path.join(ROOT, "playbooks", "site.yml")
# What converge.yml loads besides the inventory (the mirror's versions and the scenario's mapping).
MAPPING = ["@" + os.path.join(ROOT, ".cache", "mirror", "test-vars.yml"),
           "@" + os.path.join(ROOT, "molecule", "production", "vars", "mapping.yml")]


def vault():
    """The example's secrets, read the way a user would (ansible-vault view with the example password)."""
    out = os.popen("%s view --vault-password-file %s %s" % (
        os.path.join(ROOT, ".venv", "bin", "ansible-vault"),
        os.path.join(ROOT, "inventories", "example", "vault-password.example"),
        os.path.join(ROOT, "inventories", "example", "group_vars", "all", "vault.yml"))).read()
    return yaml.safe_load(out)


SECRETS = vault()
RUNBOOK_PROM = "runbook:" + SECRETS["vault_prometheus_runbook_password"]
RUNBOOK_AM = "runbook:" + SECRETS["vault_alertmanager_runbook_password"]
SCRAPE = "prometheus:" + SECRETS["vault_monitoring_scrape_password"]


def other_host(name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, os.environ["MOLECULE_INVENTORY_FILE"]))


def targets(host, prometheus):
    active = get_json(host, prometheus + "/api/v1/targets", auth=RUNBOOK_PROM, cacert=CA)["data"]["activeTargets"]
    return {(t["labels"]["job"], t["labels"]["instance"]): (t["health"], t["scrapeUrl"], t["lastError"]) for t in active}


def test_every_target_is_up_over_https_with_auth_on_both_replicas(host):
    # Loki is configured but not running here (no binary): its target exists and is the only one not up.
    for prometheus in (PROM, PROM2):
        def all_up():
            found = targets(host, prometheus)
            return all(v[0] == "up" for k, v in found.items() if k[0] != "loki") and len(found) >= 16 and found
        try:
            found = poll(all_up, timeout=150, interval=3, what="every target up on " + prometheus)
        finally:
            for key, value in sorted(targets(host, prometheus).items()):
                print("%s %-12s %-28s %-5s %s %s" % (prometheus[8:12], key[0], key[1], value[0], value[1], value[2][:60]))
        jobs = {key[0] for key in found}
        assert jobs >= {"prometheus", "alertmanager", "pushgateway", "node", "postgres", "nginx", "nginx_log",
                        "blackbox", "loki", "redis", "notify_app", "shop"}, jobs
        for key, value in found.items():
            if key[0] != "blackbox":
                assert value[1].startswith("https://"), (key, value)
        assert found[("prometheus", "mon2.example.org:9090")][1] == "https://mon2.example.org:9090/prometheus/metrics"


def test_an_unauthenticated_scrape_gets_401_and_plain_http_is_refused(host):
    for url in ("https://db1.example.org:9100/metrics", "https://db1.example.org:9187/metrics",
                "https://web1.example.org:9113/metrics", "https://mon1.example.org:9091/metrics",
                "https://db1.example.org:9121/metrics",
                PROM + "/api/v1/status/buildinfo", AM + "/api/v2/status", "https://mon1.example.org:9115/metrics"):
        code = host.check_output("curl -s -o /dev/null -w '%%{http_code}' --cacert %s %s", CA, url)
        assert code == "401", (url, code)
        with_auth = host.check_output("curl -s -o /dev/null -w '%%{http_code}' --cacert %s -u %s %s", CA, SCRAPE, url)
        assert with_auth == "200", (url, with_auth)
    # No plain HTTP answer on a TLS port (curl fails the exchange).
    assert host.run("curl -sf --max-time 5 http://db1.example.org:9100/metrics").rc != 0


def test_blackbox_probes_the_stacks_tls_endpoints(host):
    found = targets(host, PROM)
    probes = {k[1]: v[0] for k, v in found.items() if k[0] == "blackbox"}
    assert probes == {"https://mon2.example.org:9090/prometheus/-/healthy": "up", "mon1.example.org:9091": "up",
                      APP + "/health/ready/": "up"}, probes
    result = get_json(host, PROM + "/api/v1/query", auth=RUNBOOK_PROM, cacert=CA, query="probe_success")["data"]["result"]
    assert sorted(r["value"][1] for r in result) == ["1", "1", "1"], result
    # The instrumented app's readiness endpoint (module http_health: 2xx and a JSON body saying ready).
    ready = [r for r in result if r["metric"]["instance"] == APP + "/health/ready/"]
    assert [r["value"][1] for r in ready] == ["1"], result


def test_alertmanager_cluster_of_two(host):
    for url in (AM, AM2):
        status = get_json(host, url + "/api/v2/status", auth=RUNBOOK_AM, cacert=CA)
        assert status["cluster"]["status"] == "ready", status["cluster"]
        assert len(status["cluster"]["peers"]) == 2, status["cluster"]


def test_rule_packs_of_what_the_inventory_deploys(host):
    files = sorted(host.check_output("ls /etc/prometheus/rules").split())
    packs = sorted(f[len("monitoring-stack-"):-len(".yml")] for f in files if f.startswith("monitoring-stack-"))
    print("rule packs on mon1: %s" % packs)
    assert set(packs) >= {"alertmanager", "backups", "blackbox", "nginx", "node", "postgresql", "prometheus",
                          "pushgateway", "redis", "notifications", "http_app"}, packs
    assert 'up{job="nginx_log"}' in host.file("/etc/prometheus/rules/monitoring-stack-nginx.yml").content_string
    groups = get_json(host, PROM + "/api/v1/rules", auth=RUNBOOK_PROM, cacert=CA)["data"]["groups"]
    loaded = {g["file"].rsplit("/", 1)[-1] for g in groups}
    assert loaded == set(files), (loaded, files)
    assert [r for g in groups for r in g["rules"] if r.get("name") == "HostDown"]


def test_units_are_hardened(host):
    for name, units in (("mon1.example.org", ("prometheus", "alertmanager", "pushgateway", "blackbox_exporter",
                                              "node_exporter")),
                        ("db1.example.org", ("postgres_exporter", "redis_exporter")),
                        ("web1.example.org", ("nginx_exporter",))):
        target = host if name == "mon1.example.org" else other_host(name)
        for unit in units:
            assert exposure(target, unit + ".service") <= 3.5, (name, unit)


def test_grafana_datasources_carry_credentials_ca_prefix_and_tenant_headers(host):
    path = "/etc/grafana/provisioning/datasources/monitoring-stack.yml"
    found = host.file(path)
    assert found.mode == 0o640 and found.user == "root" and found.group == "grafana"
    datasources = {d["name"]: d for d in yaml.safe_load(host.check_output("cat %s", path))["datasources"]}
    prom = datasources["Prometheus"]
    assert prom["url"] == PROM
    assert prom["basicAuth"] is True and prom["basicAuthUser"] == "grafana"
    assert prom["secureJsonData"]["basicAuthPassword"] == SECRETS["vault_prometheus_grafana_password"]
    assert prom["jsonData"]["tlsAuthWithCACert"] is True
    assert prom["secureJsonData"]["tlsCACert"].startswith("-----BEGIN CERTIFICATE-----")
    assert datasources["Alertmanager"]["url"] == AM
    lokis = [d for d in datasources.values() if d["type"] == "loki"]
    assert [d["secureJsonData"]["httpHeaderValue1"] for d in lokis] == ["production"]
    assert lokis[0]["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert lokis[0]["url"] == "https://mon2.example.org:3100"


def test_a_wrong_datasource_password_fails_the_grafana_role_naming_the_datasource(host):
    # Only the grafana play runs: Prometheus keeps the real password, Grafana's datasource gets another one.
    inventory = molecule_inventory()
    rc, out = run_playbook(SITE, *MAPPING, "vault_prometheus_grafana_password=not-the-password",
                           inventory=inventory, connection=None, tags="grafana", timeout=900)
    assert rc != 0, out
    assert "Grafana datasource 'Prometheus'" in out and "401" in out, out[-3000:]
    assert "not-the-password" not in out
    # Checked before anything is written: the provisioned datasources keep the working password.
    content = host.check_output("cat /etc/grafana/provisioning/datasources/monitoring-stack.yml")
    assert SECRETS["vault_prometheus_grafana_password"] in content and "not-the-password" not in content


def _notifications(host, instance, skip=0):
    """Firing HostDown notifications of instance the webhook recorded, after the first skip records."""
    records = get_json(host, HOOK)[skip:]
    return [r for r in records
            if r["notification"].get("status") == "firing"
            and any(a["labels"].get("alertname") == "HostDown" and a["labels"].get("instance") == instance
                    for a in r["notification"]["alerts"])]


def test_host_down_reaches_each_channel_exactly_once_through_the_cluster(host):
    web = other_host("web1.example.org")
    instance = "web1.example.org:9100"
    # Only what this test causes counts (a verify run again on the same hosts finds older records).
    seen = len(get_json(host, HOOK))
    assert not [a for a in get_json(host, AM + "/api/v2/alerts", auth=RUNBOOK_AM, cacert=CA)
                if a["labels"].get("alertname") == "HostDown"], "HostDown already active before the test"
    start = time.time()
    web.check_output("systemctl stop node_exporter")
    try:
        poll(lambda: _notifications(host, instance, seen), timeout=150, interval=3, what="HostDown at the webhook")
        print("first HostDown notification after %.0fs" % (time.time() - start))
        # Both replicas fire to both peers; the cluster deduplicates: one notification per channel.
        time.sleep(30)
        notes = _notifications(host, instance, seen)
        paths = sorted(n["path"] for n in notes)
        assert paths == ["/chat", "/email", "/pager"], json.dumps(notes, indent=1)[:3000]
        replicas = {a["labels"].get("replica") for n in notes for a in n["notification"]["alerts"]}
        print("notifications: %s, replica labels %s" % (paths, replicas))
    finally:
        web.check_output("systemctl start node_exporter")


def test_a_backup_run_arrives_through_the_authenticated_pushgateway(host):
    db1 = other_host("db1.example.org")
    started = time.time()
    result = db1.run("systemctl start backup-pg_app.service")
    assert result.rc == 0, result.stderr
    conf = db1.file("/etc/backup-metrics.conf")
    assert conf.mode == 0o640 and "https://mon1.example.org:9091" in conf.content_string
    assert "ca_file = /etc/backup-metrics-ca.crt" in conf.content_string

    def pushed():
        result = get_json(host, PROM + "/api/v1/query", auth=RUNBOOK_PROM, cacert=CA,
                          query='backup_last_success_timestamp_seconds{job_name="pg_app"}')["data"]["result"]
        return [r for r in result if float(r["value"][1]) >= started - 1]
    poll(pushed, timeout=90, interval=3, what="pg_app's success time in Prometheus")
    assert not db1.file("/var/spool/backup-metrics").listdir(), "pushes were spooled instead of delivered"


def _query(host, expr):
    return get_json(host, PROM + "/api/v1/query", auth=RUNBOOK_PROM, cacert=CA, query=expr)["data"]["result"]


def test_redis_behind_its_password_is_watched(host):
    db1 = other_host("db1.example.org")
    poll(lambda: _query(host, 'redis_up{job="redis"} == 1'), timeout=60, interval=3, what="redis_up in Prometheus")
    # The example's Redis has a memory limit: the pack's memory alert compares with it.
    assert float(_query(host, 'redis_memory_max_bytes{job="redis"}')[0]["value"][1]) == 64 * 1024 * 1024
    assert _query(host, 'redis_connected_clients{job="redis"} >= 1')
    # Hits and misses, for the hit-rate alert and panel.
    db1.check_output("REDISCLI_AUTH=%s redis-cli SET probe 1 >/dev/null && REDISCLI_AUTH=%s redis-cli GET probe "
                     "&& REDISCLI_AUTH=%s redis-cli GET absent", *[SECRETS["vault_redis_password"]] * 3)
    poll(lambda: _query(host, 'redis_keyspace_hits_total{job="redis"} > 0 and on (instance) '
                              'redis_keyspace_misses_total{job="redis"} > 0'),
         timeout=60, interval=3, what="Redis hits and misses in Prometheus")
    secret = db1.file("/etc/redis_exporter/password.json")
    unit = db1.check_output("systemctl cat redis_exporter.service")
    processes = db1.check_output("ps -eo args")
    print("redis_exporter password file: %s %s:%s %o" % (secret.path, secret.user, secret.group, secret.mode))
    assert secret.user == "root" and secret.mode == 0o640
    assert SECRETS["vault_redis_password"] not in unit and SECRETS["vault_redis_password"] not in processes


def test_an_application_contract_alert_fires_and_is_routed(host):
    """The notifications pack on the stand-in's contract metrics: its SMS gateway rejects the credentials.
    The stand-in runs from prepare on, so the alert may have fired (and been notified) before this test."""
    poll(lambda: _query(host, 'ALERTS{alertname="NotificationGatewayAuthFailing", alertstate="firing", '
                              'channel="sms", gateway="smsgw"}'),
         timeout=120, interval=3, what="NotificationGatewayAuthFailing firing")

    def routed():
        return sorted({r["path"] for r in get_json(host, HOOK) if r["notification"].get("status") == "firing"
                       and any(a["labels"].get("alertname") == "NotificationGatewayAuthFailing"
                               for a in r["notification"]["alerts"])})
    # Critical: pager, chat and mail, like every critical alert of the example's policy.
    poll(lambda: routed() == ["/chat", "/email", "/pager"], timeout=90, interval=3,
         what="NotificationGatewayAuthFailing at the three critical channels")
    # The working channels do not alert.
    assert not _query(host, 'ALERTS{alertname="NotificationDispatchFailureRate", channel="email"}')


def _app_requests(host, path, count):
    """count GETs of the instrumented app's path from mon1 (a bounded loop, 5 s each at most): their status codes."""
    out = host.check_output("for i in $(seq %s); do curl -s -o /dev/null -w '%%{http_code}\\n' --max-time 5 "
                            "--cacert %s %s; done", str(int(count)), CA, APP + path)
    return out.split()


def test_the_instrumented_app_is_scraped_through_the_applications_group(host):
    """web1 is in the applications group; its app_metrics (vars/mapping.yml) make the role's job "shop": file_sd,
    HTTPS with the scrape user, the target labels of app_metrics, the http_app pack."""
    assert set(_app_requests(host, "/api/orders/", 5) + _app_requests(host, "/api/orders/7/", 3)) == {"200"}
    # /metrics needs the scrape user, like the exporters.
    code = host.check_output("curl -s -o /dev/null -w '%%{http_code}' --cacert %s %s/metrics", CA, APP)
    assert code == "401", code
    found = poll(lambda: targets(host, PROM).get(("shop", "web1.example.org:8000")), timeout=90, interval=3,
                 what="the shop target on mon1's Prometheus")
    assert found[0] == "up" and found[1] == APP + "/metrics", found
    # The role's generated job (file_sd), not an extra scrape job.
    sd_file = json.loads(host.file("/etc/prometheus/file_sd/shop.json").content_string)
    assert [t["targets"] for t in sd_file] == [["web1.example.org:8000"]], sd_file
    config = yaml.safe_load(get_json(host, PROM + "/api/v1/status/config", auth=RUNBOOK_PROM, cacert=CA)["data"]["yaml"])
    job, = [j for j in config["scrape_configs"] if j["job_name"] == "shop"]
    assert job["scheme"] == "https" and job["file_sd_configs"] and job["basic_auth"]["username"] == "prometheus", job
    up = poll(lambda: _query(host, 'up{job="shop"} == 1'), timeout=60, interval=3, what="up{job=\"shop\"} == 1")
    assert up[0]["metric"]["tenant_id"] == "acme" and up[0]["metric"]["team"] == "shop", up
    # The conventional names of the http_app pack, from prometheus_client, with the labels of app_metrics.
    poll(lambda: _query(host, 'http_requests_total{job="shop", endpoint="/api/orders/", method="GET", status="200", '
                              'tenant_id="acme"} >= 5'), timeout=60, interval=3, what="the app's request counter")
    for expr in ('http_request_duration_seconds_bucket{job="shop", endpoint="/api/orders/<id>/", le="+Inf"}',
                 'django_db_connections_max{job="shop"} == 20', 'django_db_connections_active{job="shop"}',
                 'django_cache_hits_total{job="shop"}', 'django_cache_misses_total{job="shop"}',
                 'celery_queue_size{job="shop", queue="default"}', 'celery_queue_size{job="shop", queue="emails"}'):
        # A scrape may fall between the requests above: the series of the later ones come with the next one.
        poll(lambda expr=expr: _query(host, expr), timeout=60, interval=3, what=expr)
    # The OpenTelemetry endpoint set is not in the prometheus_client metrics.
    _app_requests(host, "/api/v2/reports/", 2)
    assert not _query(host, 'http_requests_total{job="shop", endpoint="/api/v2/reports/"}')


def _high_error_rate_notes(host, skip):
    return [r for r in get_json(host, HOOK)[skip:]
            if r["notification"].get("status") == "firing"
            and any(a["labels"].get("alertname") == "HighErrorRate" and a["labels"].get("job") == "shop"
                    for a in r["notification"]["alerts"])]


def test_a_bounded_burst_of_5xx_fires_high_error_rate_routed_as_critical(host):
    """40 of 60 requests answer 503 (the app's control endpoint, capped by count and time; traffic only from
    mon1 to web1). The http_app pack's HighErrorRate (5xx > 1 %, for 1m here) fires through both Alertmanager
    peers to the three channels of a critical alert."""
    assert not _query(host, 'ALERTS{alertname="HighErrorRate", job="shop"}'), "HighErrorRate active before the burst"
    seen = len(get_json(host, HOOK))
    armed = json.loads(host.check_output("curl -sf --max-time 5 --cacert %s -u %s -X POST '%s/control/errors/?count=40&seconds=120'",
                                         CA, SCRAPE, APP))
    assert armed["errors_left"] == 40, armed
    start = time.time()
    codes = _app_requests(host, "/api/orders/", 60)
    assert codes.count("503") == 40 and codes.count("200") == 20, codes
    # Bounded: the switch is off again once its 40 errors are served.
    assert _app_requests(host, "/api/orders/", 3) == ["200"] * 3
    # Up to one scrape (30 s) and one rule evaluation (30 s) after the burst, on a loaded CI machine.
    poll(lambda: _query(host, 'job:http_requests_server_errors:ratio_rate5m{job="shop"} > 0.01'), timeout=150,
         interval=3, what="the 5xx ratio of shop above 1 %")
    alert = poll(lambda: _query(host, 'ALERTS{alertname="HighErrorRate", alertstate="firing", job="shop"}'),
                 timeout=180, interval=3, what="HighErrorRate firing for shop")
    assert alert[0]["metric"]["severity"] == "critical", alert
    print("HighErrorRate firing after %.0fs" % (time.time() - start))
    # Critical: pager, chat and mail, like every critical alert of the example's policy.
    poll(lambda: sorted({n["path"] for n in _high_error_rate_notes(host, seen)}) == ["/chat", "/email", "/pager"],
         timeout=120, interval=3, what="HighErrorRate at the three critical channels")
    notes = _high_error_rate_notes(host, seen)
    print("HighErrorRate notifications after %.0fs: %s" % (time.time() - start, sorted(n["path"] for n in notes)))
    for note in notes:
        for alert in note["notification"]["alerts"]:
            if alert["labels"].get("alertname") == "HighErrorRate":
                assert alert["labels"]["severity"] == "critical", alert


def _sink_records(web):
    return json.loads(web.check_output("curl -sf --max-time 5 %s", OTLP_SINK))


def test_the_opentelemetry_sdk_exports_otlp_to_a_decoding_receiver(host):
    """The OpenTelemetry endpoint set (/api/v2/reports/) exported by the SDK's OTLP/HTTP exporter to the OTLP sink
    on web1, which decodes every request with the official opentelemetry-proto classes (a real OTLP/HTTP
    protobuf exchange, answered 200 with an ExportMetricsServiceResponse). This proves the SDK side; it is not
    Prometheus' receiver (next test)."""
    web = other_host("web1.example.org")
    assert set(_app_requests(host, "/api/v2/reports/", 10)) == {"200"}

    def exported():
        for record in reversed(_sink_records(web)):
            for metric in record["metrics"]:
                if metric["name"] == "http.server.request.duration" and metric["resource"].get("service.name") == "shop-otel":
                    points = [p for p in metric["points"] if p.get("http.route") == "/api/v2/reports/"
                              and p.get("http.response.status_code") == 200 and (p.get("_value") or 0) >= 10]
                    if points:
                        return metric, points
        return None
    metric, points = poll(exported, timeout=60, interval=3, what="the reports histogram at the OTLP sink")
    assert metric["unit"] == "s" and metric["type"] == "histogram", metric
    assert metric["resource"]["tenant_id"] == "acme" and metric["resource"]["deployment.environment"] == "production"
    assert metric["resource"]["telemetry.sdk.name"] == "opentelemetry", metric["resource"]
    print("OTLP at the sink: %s %s" % (metric["name"], points))
    # The app counts the exporter's results (prometheus_client side): successes, no failure.
    poll(lambda: _query(host, 'otlp_exports_total{job="shop", exporter="sink", result="success"} > 0'),
         timeout=60, interval=3, what="successful OTLP exports counted by the app")
    assert _query(host, 'otlp_exports_total{job="shop", exporter="sink", result="failure"} == 0')


def test_otlp_into_prometheus_where_the_binary_has_the_receiver(host):
    """Prometheus' own OTLP receiver (prometheus_otlp). Checked on the running binary: without the flag it
    cannot run, and the test skips saying so rather than pretending."""
    # The unit's ExecStart ("{ path=/usr/local/bin/prometheus ; argv[]=... }"): /proc/<pid>/exe is not readable
    # from outside the hardened unit.
    exec_start = host.check_output("systemctl show -p ExecStart --value prometheus.service")
    binary = exec_start.split("path=", 1)[1].split(";", 1)[0].strip()
    result = host.run("%s --help", binary)
    version = host.run("%s --version", binary)
    first = (version.stdout + version.stderr).strip().splitlines()[0]
    if "--web.enable-otlp-receiver" not in result.stdout + result.stderr:
        pytest.skip("%s (%s) has no --web.enable-otlp-receiver flag: Debian's Prometheus build (3.5.3+ds1, the test "
                    "mirror's) is built without the OTLP receiver, so OTLP into Prometheus cannot run live here. "
                    "The SDK's OTLP export is proven against the decoding OTLP sink instead." % (binary, first))
    with open(MAPPING[1][1:], encoding="utf-8") as handle:
        mapping = yaml.safe_load(handle)
    assert mapping["prometheus_otlp"]["enabled"], (
        "%s has the OTLP receiver: set prometheus_otlp.enabled in molecule/production/vars/mapping.yml "
        "(prepare.yml then adds Prometheus to the app's OTLP exporters)" % binary)
    assert "--web.enable-otlp-receiver" in exec_start, exec_start
    _app_requests(host, "/api/v2/reports/", 10)
    # service.name is the job; tenant_id and deployment.environment are promoted resource attributes.
    found = poll(lambda: _query(host, 'http_server_request_duration_seconds_count{job="shop-otel", tenant_id="acme", '
                                      'http_route="/api/v2/reports/"} > 0'),
                 timeout=90, interval=3, what="the app's OTLP histogram in Prometheus")
    assert found[0]["metric"]["deployment_environment"] == "production", found
    assert _query(host, 'otlp_exports_total{job="shop", exporter="prometheus", result="failure"} == 0')


def _mails(host):
    names = sorted(n for n in host.file("/var/lib/smtp-sink").listdir() if n.endswith(".eml"))
    result = []
    for name in names:
        meta = json.loads(host.file("/var/lib/smtp-sink/" + name[:-4] + ".json").content_string)
        mail = email.message_from_bytes(host.file("/var/lib/smtp-sink/" + name).content, policy=email.policy.default)
        result.append((meta, mail))
    return result


def test_the_daily_digest_mails_what_fired_through_starttls_and_posts_to_chat(host):
    """Runs after the HostDown and contract-alert tests: the digest of the last hour lists both."""
    mon2 = other_host("mon2.example.org")
    # Once per cluster: the first Alertmanager host sends it, the other has no timer.
    assert host.service("alert-digest.timer").is_enabled and host.service("alert-digest.timer").is_running
    assert not mon2.file("/etc/systemd/system/alert-digest.timer").exists
    config = host.file("/etc/alertmanager/digest.json")
    assert (config.user, config.group, config.mode) == ("root", "alertmanager", 0o640)
    assert SECRETS["vault_smtp_password"] not in host.check_output("systemctl cat alert-digest.service")
    mails, hooks = len(_mails(host)), len(get_json(host, HOOK))
    result = host.run("systemctl start alert-digest.service")
    assert result.rc == 0, host.run("journalctl -u alert-digest.service -n 30 --no-pager").stdout
    (meta, mail), = _mails(host)[mails:]
    # The stored message has SMTP's CRLF line ends.
    body = mail.get_content().replace("\r\n", "\n")
    print("digest mail: %s\n%s" % (mail["Subject"], body))
    assert meta["tls"] is True and meta["authenticated"] is True and meta["login"] == "alertmanager", meta
    assert meta["rcpt_tos"] == ["ops@example.org"] and meta["mail_from"] == "alertmanager@example.org", meta
    assert mail["Subject"].startswith("Alert digest: ") and "(last 1 h)" in mail["Subject"]
    assert "Source: https://mon1.example.org/prometheus" in body or "Source: https://mon1.example.org:9090" in body
    # What this scenario fired: HostDown on web1 (resolved by now), the contract alert (still firing).
    assert "] HostDown: fired " in body and "instance=web1.example.org:9100" in body, body
    still = body.split("Still firing:", 1)[1].split("\n\n", 1)[0]
    assert "NotificationGatewayAuthFailing" in still and "HostDown" not in still, still
    assert "runbook: https://wiki.example.org/runbooks" in body, body
    posts = [r for r in get_json(host, HOOK)[hooks:] if r["path"] == "/slack"]
    assert len(posts) == 1, posts
    assert posts[0]["notification"]["channel"] == "#ops-digest"
    assert posts[0]["notification"]["text"].startswith("*" + mail["Subject"] + "*")
    assert "NotificationGatewayAuthFailing" in posts[0]["notification"]["text"]


def test_health_and_silence_runbooks_work_against_the_https_apis(host):
    inventory = molecule_inventory()
    rc, out = run_playbook(os.path.join(ROOT, "playbooks", "runbooks", "health.yml"), "health_fail_on_critical=false",
                           inventory=inventory, connection=None, timeout=600)
    assert rc == 0, out[-3000:]
    assert "no answer" not in out, out[-3000:]
    rc, out = run_playbook(os.path.join(ROOT, "playbooks", "runbooks", "silence.yml"),
                           {"silence_matchers": ["alertname=ProductionTestSilence"], "silence_duration": "10m",
                            "silence_comment": "production scenario"},
                           inventory=inventory, connection=None, timeout=600)
    assert rc == 0, out[-3000:]

    def on_both_peers():
        seen = []
        for url in (AM, AM2):
            silences = get_json(host, url + "/api/v2/silences", auth=RUNBOOK_AM, cacert=CA)
            seen.append(any(s["comment"] == "production scenario" and s["status"]["state"] == "active" for s in silences))
        return all(seen)
    poll(on_both_peers, timeout=60, interval=2, what="the silence on both Alertmanager peers")


def test_a_ca_that_did_not_sign_the_certificate_stops_the_run_before_anything_changes(host):
    pki = os.environ["MONITORING_STACK_PKI_DIR"]
    before = host.check_output("sha256sum /etc/node_exporter/web.yml /etc/node_exporter/tls/ca.crt")
    wrong = {"monitoring_stack_tls": {"ca_file": os.path.join(pki, "web1.example.org.crt"),
                                      "cert_file": os.path.join(pki, "mon1.example.org.crt"),
                                      "key_file": os.path.join(pki, "mon1.example.org.key")}}
    rc, out = run_playbook(SITE, *MAPPING, wrong, inventory=molecule_inventory(), connection=None,
                           tags="node_exporter", timeout=600)
    assert rc != 0, out[-3000:]
    assert "did not sign" in out and "Nothing was changed" in out, out[-3000:]
    assert host.check_output("sha256sum /etc/node_exporter/web.yml /etc/node_exporter/tls/ca.crt") == before
    assert host.service("node_exporter").is_running


# Last, once a backup has run and an alert has fired: dashboard queries that cannot have data on these
# hosts, each with the reason. Any other query without data fails the test: that is how a wrong metric
# name for the pinned exporter versions shows up.
NO_DATA_DASHBOARDS = {
    "Containers": "no cAdvisor here: the test containers have no Docker engine",
    # Not provisioned for this inventory (grafana_dashboards_library); their queries are promtool-checked.
    "Kafka": "no Kafka here: kafka_exporter is verified up to the binary, its pack by promtool tests",
    "Business": "no application with the business contract here (its pack: promtool tests)",
    "Mobile sync": "no application with the mobile-sync contract here (its pack: promtool tests)",
}
NO_DATA_PANELS = {
    "Alerts overview / Firing alerts and their age": "what fires depends on the moment",
    "Alerts overview / Firing alerts by name": "what fires depends on the moment",
    "Alerts overview / Firing alerts by severity": "what fires depends on the moment",
    "Backups / Backup and restore test results": "no restore test runs in this scenario (live in molecule/backup)",
    "Backups / Backup status per job": "its restore-test query: no restore test runs here (live in molecule/backup)",
    "HTTP and API / Client errors (4xx)": "the test traffic has no client errors",
    "HTTP and API / Error ratio": "the test traffic has no errors",
    "HTTP and API / Server errors (5xx)": "the test traffic has no server errors",
    "HTTP and API / Top endpoints by server errors": "the test traffic has no server errors",
    "PostgreSQL / Slow statements": "needs pg_stat_statements, not enabled in the example",
    "PostgreSQL tables and queries / Slowest statements by mean time (top 10)": "needs pg_stat_statements (off)",
    "PostgreSQL tables and queries / Time spent per statement (top 10)": "needs pg_stat_statements (off)",
    "PostgreSQL tables and queries / Statements slower than the threshold": "needs pg_stat_statements (off)",
    "Prometheus / Down targets": "only Loki's target is down, and only on some scrapes' timing",
}


def test_every_dashboard_query_returns_data_through_https_and_auth(host):
    # Web traffic, as a site has: the access-log latency histograms exist once nginx has served requests.
    host.run("for i in $(seq 20); do curl -s -o /dev/null http://web1.example.org/; done")
    # And the application's database use: index lookups on its orders table (for the index hit ratios).
    other_host("db1.example.org").check_output(
        "runuser -u postgres -- psql -XAtq -d app -c 'SET enable_seqscan = off' "
        "-c 'SELECT count(*) FROM (SELECT * FROM public.orders WHERE id = 1) o' >/dev/null")
    # Two scrapes of them at least, so that rate() has a value.
    poll(lambda: get_json(host, PROM + "/api/v1/query", auth=RUNBOOK_PROM, cacert=CA,
                          query="count_over_time(nginx_http_request_duration_seconds_count[5m]) > 1")["data"]["result"],
         timeout=120, interval=3, what="two scrapes of web1's access-log histograms in Prometheus")
    poll(lambda: _query(host, 'rate(pg_statio_user_indexes_idx_blks_hit_total{job="postgres"}[5m]) > 0'),
         timeout=120, interval=3, what="the index lookups of the app database in Prometheus")
    # The instrumented app's traffic (requests, cache lookups, latency) within the dashboards' 5m rate window.
    for path in ("/api/orders/", "/api/orders/3/", "/health/"):
        _app_requests(host, path, 10)
    poll(lambda: _query(host, 'rate(http_requests_total{job="shop", endpoint="/api/orders/<id>/"}[5m]) > 0'),
         timeout=120, interval=3, what="the instrumented app's request rate in Prometheus")
    # The Applications dashboard's variables resolve (their label_values queries, as Grafana asks them).
    for label, match, wanted in (("job", "http_requests_total", "shop"),
                                 ("tenant_id", 'http_requests_total{job=~".*"}', "acme"),
                                 ("endpoint", 'http_requests_total{job=~".*", tenant_id=~".*"}', "/api/orders/")):
        values = get_json(host, PROM + "/api/v1/label/%s/values" % label, auth=RUNBOOK_PROM, cacert=CA,
                          **{"match[]": match})["data"]
        assert wanted in values, (label, values)
    queries = dashboard_queries()  # PromQL only: the Logs dashboard queries Loki
    status = query_status(host, queries, PROM, auth=RUNBOOK_PROM, cacert=CA)
    assert len(status) == len(queries) > 50
    errors = sorted(label for label, state in status.items() if state.startswith("error"))
    assert not errors, errors
    empty = sorted(label for label, state in status.items() if state != "data"
                   and label.split(" / ")[0] not in NO_DATA_DASHBOARDS and label.rsplit(" / ", 1)[0] not in NO_DATA_PANELS)
    assert not empty, "dashboard queries without data from the live Prometheus:\n  " + "\n  ".join(empty)
