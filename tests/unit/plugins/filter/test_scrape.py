"""Unit tests of the monitoring.stack.scrape_plan filter."""

import json
import os
import subprocess

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.scrape import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import merge_jobs, scrape_plan
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

FILTERS = FilterModule().filters()

GROUPS = {
    "all": ["mon", "db", "web"],
    "node_exporter": ["web", "db", "mon", "db"],
    "postgres_exporter": ["db"],
    "pushgateway": ["mon"],
    "alertmanager": ["mon", "mon2"],
    "blackbox": ["mon"],
    "empty": [],
}
HOSTVARS = {
    "mon": {"ansible_host": "10.0.0.1", "blackbox_exporter_targets": [
        "https://example.com", {"url": "tcp.example:22", "module": "tcp_connect", "name": "ssh", "labels": {"team": "ops"}}]},
    "mon2": {"ansible_host": "10.0.0.4", "alertmanager_listen_address": "0.0.0.0:19093"},
    "db": {"ansible_host": "10.0.0.2", "prometheus_target_labels": {"role": "database"}},
    "web": {"prometheus_target_address": "web.example.com", "node_exporter_listen_address": ":9200"},
}
JOBS = [
    {"name": "node", "group": "node_exporter", "port": 9100, "port_var": "node_exporter_listen_address", "rule_packs": {"node": {"job": "node"}}},
    {"name": "postgres", "group": "postgres_exporter", "port": 9187, "labels": {"service": "db"}},
    {"name": "pushgateway", "group": "pushgateway", "port": 9091, "honor_labels": True, "rule_packs": ["pushgateway", "backups"]},
    {"name": "nothing", "group": "empty", "port": 1234, "rule_packs": ["nope"]},
    {"name": "missing", "group": "no_such_group", "port": 1234},
]


def plan(jobs=None, **kwargs):
    return scrape_plan(JOBS if jobs is None else jobs, GROUPS, HOSTVARS, **kwargs)


def test_one_file_sd_entry_per_host_sorted_deduplicated_and_addressed():
    result = plan()
    assert result["file_sd"]["node"] == [
        {"targets": ["10.0.0.2:9100"], "labels": {"role": "database"}},
        {"targets": ["10.0.0.1:9100"], "labels": {}},
        {"targets": ["web.example.com:9200"], "labels": {}},
    ]
    assert result["file_sd"]["postgres"] == [{"targets": ["10.0.0.2:9187"], "labels": {"role": "database", "service": "db"}}]
    json.dumps(result)  # the plan is plain data


def test_jobs_without_hosts_are_left_out():
    result = plan()
    assert result["active_jobs"] == ["node", "postgres", "pushgateway"]
    assert [c["job_name"] for c in result["scrape_configs"]] == ["node", "postgres", "pushgateway"]
    assert "nothing" not in result["file_sd"]
    assert "nope" not in result["rule_packs"]
    kept = plan(keep_empty=True)
    assert kept["file_sd"]["nothing"] == []
    assert "nothing" not in kept["active_jobs"]


def test_removing_a_host_removes_its_target():
    groups = dict(GROUPS, node_exporter=["mon"])
    result = scrape_plan(JOBS, groups, HOSTVARS)
    assert result["file_sd"]["node"] == [{"targets": ["10.0.0.1:9100"], "labels": {}}]


def test_scrape_config_reads_its_file_sd_file():
    config = plan(file_sd_dir="/etc/p/sd/")["scrape_configs"][0]
    assert config == {"job_name": "node", "metrics_path": "/metrics", "scheme": "http",
                      "file_sd_configs": [{"files": ["/etc/p/sd/node.json"]}]}


def test_honor_labels_and_rule_packs():
    result = plan()
    push = [c for c in result["scrape_configs"] if c["job_name"] == "pushgateway"][0]
    assert push["honor_labels"] is True
    assert result["rule_packs"] == {"node": {"job": "node"}, "pushgateway": {}, "backups": {}}


def test_basic_auth_password_goes_to_a_file_never_into_the_config():
    jobs = [dict(JOBS[0], basic_auth={"username": "prometheus", "password": "s3cret"})]
    result = plan(jobs, secrets_dir="/etc/prometheus/secrets")
    assert result["scrape_configs"][0]["basic_auth"] == {"username": "prometheus", "password_file": "/etc/prometheus/secrets/node.basic_auth"}
    assert result["secrets"] == [{"path": "/etc/prometheus/secrets/node.basic_auth", "content": "s3cret"}]
    assert "s3cret" not in json.dumps(result["scrape_configs"])


def test_authorization_credentials_go_to_a_file():
    jobs = [dict(JOBS[0], authorization={"credentials": "tok"})]
    config = plan(jobs)["scrape_configs"][0]
    assert config["authorization"] == {"type": "Bearer", "credentials_file": "/etc/prometheus/secrets/node.credentials"}


def test_tls_config_and_referenced_files():
    jobs = [dict(JOBS[0], scheme="https", tls={"ca_file": "/etc/prometheus/tls/ca.pem", "server_name": "node"})]
    result = plan(jobs)
    assert result["scrape_configs"][0]["tls_config"] == {"ca_file": "/etc/prometheus/tls/ca.pem", "server_name": "node", "min_version": "TLS12"}
    assert result["scrape_configs"][0]["scheme"] == "https"
    assert result["tls_files"] == ["/etc/prometheus/tls/ca.pem"]


@pytest.mark.parametrize("change, field", [
    ({"tls": {"ca_file": "relative.pem"}}, "tls.ca_file"),
    ({"tls": {"cert_file": "/a"}}, "tls"),
    ({"tls": {"min_version": "TLS10"}}, "tls.min_version"),
    ({"basic_auth": {"username": "u"}}, "basic_auth"),
    ({"basic_auth": {"password": "p"}}, "basic_auth.username"),
    ({"scheme": "ftp"}, "scheme"),
    ({"port": 70000}, "port"),
    ({"port": "9100"}, "port"),
    ({"scrape_interval": "often"}, "scrape_interval"),
    ({"labels": {"__bad": "x"}}, "labels"),
    ({"type": "magic"}, "type"),
    ({"colour": "red"}, "colour"),
    ({"honor_labels": "yes"}, "honor_labels"),
])
def test_bad_job_specs_name_job_and_field(change, field):
    with pytest.raises(SpecError) as err:
        plan([dict(JOBS[0], **change)])
    assert err.value.item == "node"
    assert err.value.field == field


def test_job_needs_a_name_and_a_group():
    with pytest.raises(SpecError, match="needs a name"):
        plan([{"group": "x", "port": 1}])
    with pytest.raises(SpecError, match="inventory group"):
        plan([{"name": "x", "port": 1}])


def test_static_targets_without_group():
    result = plan([{"name": "ext", "targets": ["ext.example:9100"], "port": 9100}])
    assert result["file_sd"]["ext"] == [{"targets": ["ext.example:9100"], "labels": {}}]


def test_overrides_and_extra_jobs():
    jobs = merge_jobs(JOBS, {"node": {"labels": {"a": "b"}, "scrape_interval": "5s"}},
                      [{"name": "postgres", "group": "postgres_exporter", "port": 9999}, {"name": "new", "group": "x", "port": 1}])
    assert jobs[0]["labels"] == {"a": "b"} and jobs[0]["scrape_interval"] == "5s"
    assert jobs[1] == {"name": "postgres", "group": "postgres_exporter", "port": 9999}
    assert jobs[-1]["name"] == "new"
    with pytest.raises(SpecError, match="no scrape job of this name"):
        merge_jobs(JOBS, {"nope": {"port": 1}})


def test_disabled_job_is_left_out():
    assert "node" not in plan(extra=[dict(JOBS[0], enabled=False)])["active_jobs"]


def test_blackbox_probes_relabelled_to_the_prober():
    job = {"name": "blackbox", "group": "blackbox", "port": 9115, "type": "blackbox"}
    result = plan([job])
    config = result["scrape_configs"][0]
    assert config["metrics_path"] == "/probe"
    assert config["relabel_configs"] == [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"source_labels": ["__tmp_prober"], "target_label": "__address__"},
    ]
    assert result["file_sd"]["blackbox"] == [
        {"targets": ["https://example.com"],
         "labels": {"__param_module": "http_2xx", "__tmp_prober": "10.0.0.1:9115", "module": "http_2xx", "prober": "mon"}},
        {"targets": ["tcp.example:22"],
         "labels": {"__param_module": "tcp_connect", "__tmp_prober": "10.0.0.1:9115", "module": "tcp_connect", "probe": "ssh",
                    "prober": "mon", "team": "ops"}},
    ]


def test_blackbox_bad_probe_target():
    hostvars = dict(HOSTVARS, mon={"blackbox_exporter_targets": [{"module": "x"}]})
    with pytest.raises(SpecError, match="probe target"):
        scrape_plan([{"name": "bb", "group": "blackbox", "port": 9115, "type": "blackbox"}], GROUPS, hostvars)


def test_alerting_to_every_alertmanager_of_the_group():
    result = plan(alertmanagers={"group": "alertmanager", "port": 9093, "port_var": "alertmanager_listen_address",
                                 "basic_auth": {"username": "prom", "password": "pw"}})
    assert result["alerting"] == {"alertmanagers": [{
        "scheme": "http", "api_version": "v2",
        "basic_auth": {"username": "prom", "password_file": "/etc/prometheus/secrets/alertmanagers.basic_auth"},
        "static_configs": [{"targets": ["10.0.0.1:9093", "10.0.0.4:19093"]}]}]}
    assert plan(alertmanagers={"group": "empty", "port": 9093})["alerting"] is None
    assert plan()["alerting"] is None


def test_remote_write_secrets_moved_to_files():
    result = plan(remote_write=[{"url": "https://rw.example/api/v1/write", "basic_auth": {"username": "u", "password": "p"},
                                 "queue_config": {"max_shards": 10}}])
    assert result["remote_write"] == [{"url": "https://rw.example/api/v1/write", "queue_config": {"max_shards": 10},
                                       "basic_auth": {"username": "u", "password_file": "/etc/prometheus/secrets/remote_write-0.basic_auth"}}]
    with pytest.raises(SpecError, match="needs a url"):
        plan(remote_write=[{"name": "x"}])


def test_ipv6_address():
    hostvars = dict(HOSTVARS, mon={"ansible_host": "fd00::1"})
    result = scrape_plan([{"name": "p", "group": "pushgateway", "port": 9091}], GROUPS, hostvars)
    assert result["file_sd"]["p"][0]["targets"] == ["[fd00::1]:9091"]


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="scrape_plan: scrape job 'node', field 'scheme'"):
        FILTERS["scrape_plan"]([dict(JOBS[0], scheme="ftp")], GROUPS, HOSTVARS)
    assert FILTERS["scrape_plan"](JOBS, GROUPS, HOSTVARS)["active_jobs"] == ["node", "postgres", "pushgateway"]


PROMTOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", ".cache", "tools", "bin", "promtool")


@pytest.mark.skipif(not os.access(PROMTOOL, os.X_OK), reason="promtool of the test mirror not built (make mirror)")
def test_promtool_accepts_the_built_config(tmp_path):
    jobs = JOBS + [{"name": "blackbox", "group": "blackbox", "port": 9115, "type": "blackbox"},
                   dict(JOBS[1], name="tls", basic_auth={"username": "u", "password": "p"}, tls={"ca_file": str(tmp_path / "ca.pem")})]
    result = plan(jobs, file_sd_dir=str(tmp_path), secrets_dir=str(tmp_path),
                  alertmanagers={"group": "alertmanager", "port": 9093}, remote_write=[{"url": "https://rw.example/write"}])
    for job, groups in result["file_sd"].items():
        (tmp_path / ("%s.json" % job)).write_text(json.dumps(groups), encoding="utf-8")
    config = {"global": {"scrape_interval": "15s"}, "alerting": result["alerting"],
              "scrape_configs": result["scrape_configs"], "remote_write": result["remote_write"]}
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    proc = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stdout + proc.stderr


SECURE_HOSTVARS = {
    "mon1": {"prometheus_external_url": "https://mon1.example.org/prometheus/",
             "alertmanager_external_url": "https://mon1.example.org/alertmanager/"},
    "mon2": {"prometheus_external_url": "https://mon2.example.org/prometheus",
             "alertmanager_external_url": "https://mon2.example.org/alertmanager/"},
    "db1": {},
}
SECURE_GROUPS = {"prometheus": ["mon1", "mon2"], "alertmanager": ["mon1", "mon2"], "node_exporter": ["mon1", "db1"]}
SECURE_JOBS = [
    {"name": "prometheus", "group": "prometheus", "port": 9090, "path_var": "prometheus_external_url"},
    {"name": "node", "group": "node_exporter", "port": 9100, "scheme": "http"},
]
SECURE_DEFAULTS = {"scheme": "https", "tls": {"ca_file": "/etc/prometheus/tls/ca.crt"},
                   "basic_auth": {"username": "prometheus", "password": "scrape-pw"}}


def secure_plan(**kwargs):
    return scrape_plan(SECURE_JOBS, SECURE_GROUPS, SECURE_HOSTVARS, defaults=SECURE_DEFAULTS,
                       alertmanagers={"group": "alertmanager", "port": 9093, "path_var": "alertmanager_external_url"},
                       **kwargs)


def test_defaults_give_every_job_and_the_alertmanagers_scheme_tls_and_credentials():
    result = secure_plan()
    prom, node = result["scrape_configs"]
    assert prom["scheme"] == "https" and node["scheme"] == "http"  # a job's own key wins
    assert prom["tls_config"] == {"ca_file": "/etc/prometheus/tls/ca.crt", "min_version": "TLS12"}
    assert prom["basic_auth"]["username"] == "prometheus" and "password" not in prom["basic_auth"]
    am = result["alerting"]["alertmanagers"][0]
    assert am["scheme"] == "https" and am["path_prefix"] == "/alertmanager"
    assert am["basic_auth"]["password_file"].startswith("/etc/prometheus/secrets/")
    assert "/etc/prometheus/tls/ca.crt" in result["tls_files"]


def test_path_var_puts_each_targets_route_prefix_before_the_metrics_path():
    groups = secure_plan()["file_sd"]["prometheus"]
    assert [g["labels"]["__metrics_path__"] for g in groups] == ["/prometheus/metrics", "/prometheus/metrics"]
    assert "__metrics_path__" not in secure_plan()["file_sd"]["node"][0]["labels"]


@pytest.mark.parametrize("url", ["mon1.example.org/prometheus/", "ftp://mon1/prometheus"])
def test_an_external_url_without_http_scheme_is_an_error(url):
    hostvars = dict(SECURE_HOSTVARS, mon1={"prometheus_external_url": url})
    with pytest.raises(SpecError, match="has no http:// or https:// scheme"):
        scrape_plan(SECURE_JOBS, SECURE_GROUPS, hostvars)


def test_alertmanagers_with_different_route_prefixes_are_refused():
    hostvars = dict(SECURE_HOSTVARS, mon2={"alertmanager_external_url": "https://mon2/am/"})
    with pytest.raises(SpecError, match="different route prefixes"):
        scrape_plan(SECURE_JOBS, SECURE_GROUPS, hostvars,
                    alertmanagers={"group": "alertmanager", "port": 9093, "path_var": "alertmanager_external_url"})


def test_unknown_default_keys_are_refused():
    with pytest.raises(SpecError, match="defaults"):
        scrape_plan(SECURE_JOBS, SECURE_GROUPS, SECURE_HOSTVARS, defaults={"schema": "https"})


def test_local_api_is_plain_http_on_loopback_without_tls():
    from ansible_collections.monitoring.stack.plugins.module_utils._endpoints import local_api
    assert local_api({"prometheus_listen_address": "0.0.0.0:9099"}, "prometheus", "mon1") == {
        "url": "http://127.0.0.1:9099", "ca_path": "", "scheme": "http"}


def test_local_api_with_site_tls_uses_the_host_name_the_ca_and_the_route_prefix():
    from ansible_collections.monitoring.stack.plugins.module_utils._endpoints import local_api
    host_vars = {"monitoring_stack_tls": {"ca_file": "a", "cert_file": "b", "key_file": "c"},
                 "alertmanager_external_url": "https://mon1.example.org/alertmanager/"}
    assert local_api(host_vars, "alertmanager", "mon1.example.org") == {
        "url": "https://mon1.example.org:9093/alertmanager", "ca_path": "/etc/alertmanager/tls/ca.crt", "scheme": "https"}
    with pytest.raises(SpecError, match="no http"):
        local_api({"prometheus_external_url": "mon1/prometheus"}, "prometheus", "mon1")
    with pytest.raises(SpecError, match="unknown component"):
        local_api({}, "grafana", "mon1")
