"""Unit tests of the monitoring.stack.alertmanager_config filter."""

import json
import os
import subprocess

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.alertmanager import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._alertmanager import AlertmanagerSpecError, alertmanager_config

FILTERS = FilterModule().filters()

POLICY = {
    "critical": {"channels": ["pager", "chat", "email"], "repeat_interval": "15m"},
    "warning": {"channels": ["chat", "email"], "repeat_interval": "4h"},
    "info": {"channels": ["chat"], "repeat_interval": "24h"},
}
CHANNELS = {
    "pager": {"type": "pagerduty", "routing_key": "pd-key"},
    "chat": {"type": "slack", "api_url": "https://hooks.slack.example/T/B/x", "channel": "#alerts"},
    "email": {"type": "email", "to": "ops@example.com"},
}


def build(**kwargs):
    kwargs.setdefault("channels", CHANNELS)
    return alertmanager_config(POLICY, **kwargs)


def test_one_combined_receiver_per_severity():
    receivers = {r["name"]: r for r in build()["config"]["receivers"]}
    assert set(receivers) == {"severity-critical", "severity-warning", "severity-info"}
    assert set(receivers["severity-critical"]) == {"name", "pagerduty_configs", "slack_configs", "email_configs"}
    assert set(receivers["severity-warning"]) == {"name", "slack_configs", "email_configs"}
    assert set(receivers["severity-info"]) == {"name", "slack_configs"}


def test_routes_use_matchers_and_per_severity_repeat_interval():
    route = build()["config"]["route"]
    assert route["receiver"] == "severity-warning"
    assert route["routes"] == [
        {"receiver": "severity-critical", "matchers": ['severity="critical"'], "repeat_interval": "15m"},
        {"receiver": "severity-warning", "matchers": ['severity="warning"'], "repeat_interval": "4h"},
        {"receiver": "severity-info", "matchers": ['severity="info"'], "repeat_interval": "24h"},
    ]
    text = json.dumps(build()["config"])
    assert '"match"' not in text and "match_re" not in text


def test_inhibition_higher_over_lower_on_alertname_and_instance():
    assert build()["config"]["inhibit_rules"] == [
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'], "equal": ["alertname", "instance"]},
        {"source_matchers": ['severity="warning"'], "target_matchers": ['severity="info"'], "equal": ["alertname", "instance"]},
    ]


def test_secrets_only_through_files():
    result = build(smtp={"smarthost": "mail:587", "from": "am@example.com", "auth_username": "am", "auth_password": "smtp-pw"},
                   secrets_dir="/etc/alertmanager/secrets")
    text = json.dumps(result["config"])
    for secret in ("pd-key", "hooks.slack.example", "smtp-pw"):
        assert secret not in text
    paths = {s["path"]: s["content"] for s in result["secrets"]}
    assert paths == {
        "/etc/alertmanager/secrets/pager.routing_key": "pd-key",
        "/etc/alertmanager/secrets/chat.api_url": "https://hooks.slack.example/T/B/x",
        "/etc/alertmanager/secrets/smtp.auth_password": "smtp-pw",
    }
    critical = result["config"]["receivers"][0]
    assert critical["pagerduty_configs"][0]["routing_key_file"] == "/etc/alertmanager/secrets/pager.routing_key"
    assert critical["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/chat.api_url"
    assert result["config"]["global"]["smtp_auth_password_file"] == "/etc/alertmanager/secrets/smtp.auth_password"


def test_default_texts_use_the_shipped_templates():
    critical = build(templates=["/etc/alertmanager/templates/*.tmpl"])["config"]
    assert critical["templates"] == ["/etc/alertmanager/templates/*.tmpl"]
    slack = critical["receivers"][0]["slack_configs"][0]
    assert slack["title"] == '{{ template "monitoring_stack.title" . }}'
    assert slack["text"] == '{{ template "monitoring_stack.text" . }}'
    assert critical["receivers"][0]["email_configs"][0]["headers"]["Subject"] == '{{ template "monitoring_stack.title" . }}'


def test_webhook_and_http_config_secrets():
    channels = {"hook": {"type": "webhook", "url": "http://hook:9999/", "max_alerts": 5,
                         "http_config": {"basic_auth": {"username": "u", "password": "pw"}}}}
    result = alertmanager_config({"warning": {"channels": ["hook"]}}, channels=channels)
    hook = result["config"]["receivers"][0]["webhook_configs"][0]
    assert hook == {"send_resolved": True, "max_alerts": 5, "url_file": "/etc/alertmanager/secrets/hook.url",
                    "http_config": {"basic_auth": {"username": "u", "password_file": "/etc/alertmanager/secrets/hook.basic_auth"}}}
    assert "inhibit_rules" not in result["config"]


def test_unconfigured_channels_are_reported_and_left_out():
    result = build(channels={"chat": CHANNELS["chat"]})
    assert result["unconfigured"] == ["pager", "email"]
    assert set(result["config"]["receivers"][0]) == {"name", "slack_configs"}
    empty = build(channels={})
    assert empty["config"]["receivers"][2] == {"name": "severity-info"}


def test_extra_routes_go_first_and_must_use_matchers():
    extra = [{"receiver": "team-db", "matchers": ['team="db"']}]
    result = build(extra_routes=extra, extra_receivers=[{"name": "team-db"}])
    assert result["config"]["route"]["routes"][0] == extra[0]
    assert result["config"]["receivers"][-1] == {"name": "team-db"}
    with pytest.raises(AlertmanagerSpecError, match="deprecated"):
        build(extra_routes=[{"receiver": "x", "match": {"team": "db"}}])
    with pytest.raises(AlertmanagerSpecError, match="source_matchers"):
        build(extra_inhibit_rules=[{"source_match": {"a": "b"}}])


@pytest.mark.parametrize("kwargs, item, field", [
    ({"channels": {"x": {"type": "sms"}}}, "channel 'x'", "type"),
    ({"channels": {"x": {"type": "slack"}}}, "channel 'x'", "api_url"),
    ({"channels": {"x": {"type": "slack", "api_url": "u", "api_url_file": "/f"}}}, "channel 'x'", "api_url"),
    ({"channels": {"x": {"type": "email"}}}, "channel 'x'", "to"),
    ({"channels": {"x": {"type": "pagerduty"}}}, "channel 'x'", "routing_key"),
    ({"channels": {"x": {"type": "webhook", "url": "u", "colour": 1}}}, "channel 'x'", "colour"),
    ({"group_wait": "soon"}, "route", "group_wait"),
    ({"group_by": "alertname"}, "route", "group_by"),
    ({"default_severity": "page"}, "default_severity", "default_severity"),
    ({"global_config": {"slack_api_url": "x"}}, "global", "slack_api_url"),
])
def test_bad_input_names_item_and_field(kwargs, item, field):
    kwargs.setdefault("channels", CHANNELS)
    with pytest.raises(AlertmanagerSpecError) as err:
        alertmanager_config(POLICY, **kwargs)
    assert err.value.item == item
    assert err.value.field == field


def test_bad_policy():
    with pytest.raises(AlertmanagerSpecError, match="expected a mapping of severity"):
        alertmanager_config({})
    with pytest.raises(AlertmanagerSpecError, match="repeat"):
        alertmanager_config({"warning": {"channels": [], "repeat": "1h"}})
    with pytest.raises(AlertmanagerSpecError, match="list of channel names"):
        alertmanager_config({"warning": {"channels": "chat"}})


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="alertmanager_config: channel 'x'"):
        FILTERS["alertmanager_config"](POLICY, channels={"x": {"type": "sms"}})
    assert FILTERS["alertmanager_config"](POLICY)["unconfigured"] == ["pager", "chat", "email"]


def test_cluster_peers():
    hostvars = {"am1": {"ansible_host": "10.0.0.1"}, "am2": {"alertmanager_cluster_advertise_address": "10.1.0.2:7946"},
                "am3": {}, "am4": {"ansible_host": "fd00::4"}}
    peers = FILTERS["alertmanager_cluster_peers"](["am2", "am1", "am3", "am4", "am1"], hostvars, 9094, exclude="am1")
    assert peers == ["10.1.0.2:9094", "am3:9094", "[fd00::4]:9094"]
    assert FILTERS["alertmanager_cluster_peers"](["am1"], hostvars, 9094, exclude="am1") == []
    with pytest.raises(AnsibleFilterError, match="port"):
        FILTERS["alertmanager_cluster_peers"](["am1"], hostvars, "9094")


AMTOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", ".cache", "tools", "bin", "amtool")


@pytest.mark.skipif(not os.access(AMTOOL, os.X_OK), reason="amtool of the test mirror not built (make mirror)")
def test_amtool_accepts_the_built_config(tmp_path):
    (tmp_path / "secrets").mkdir()
    result = build(secrets_dir=str(tmp_path / "secrets"), smtp={"smarthost": "mail:587", "from": "am@example.com", "auth_password": "x"},
                   extra_inhibit_rules=[{"source_matchers": ['alertname="HostDown"'], "target_matchers": ['job="node"'], "equal": ["instance"]}])
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(result["config"]), encoding="utf-8")
    proc = subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
