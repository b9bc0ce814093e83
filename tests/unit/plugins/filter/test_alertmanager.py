"""Unit tests of the monitoring.stack.alertmanager_config filter."""

import json
import os
import subprocess

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.alertmanager import FilterModule
from ansible_collections.monitoring.stack.plugins.module_utils._alertmanager import alertmanager_config
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

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


def test_undefined_channel_is_an_error_naming_severity_and_channel():
    with pytest.raises(SpecError) as err:
        build(channels={"chat": CHANNELS["chat"], "mail": CHANNELS["email"]})
    assert (err.value.item, err.value.field) == ("severity 'critical'", "channels")
    assert "channel 'pager' is not defined in channels" in str(err.value)
    assert "defined: chat, mail" in str(err.value)
    with pytest.raises(SpecError, match="channel 'emial' is not defined in channels \\(did you mean 'email'\\?\\)"):
        alertmanager_config({"warning": {"channels": ["emial"]}}, channels=CHANNELS)
    assert build()["unconfigured"] == []


def test_severity_without_channels_needs_allow_empty():
    policy = dict(POLICY, info={"channels": []})
    with pytest.raises(SpecError) as err:
        alertmanager_config(policy, channels=CHANNELS)
    assert (err.value.item, err.value.field) == ("severity 'info'", "channels")
    assert "allow_empty" in str(err.value)
    with pytest.raises(SpecError, match="no channel"):
        alertmanager_config(dict(POLICY, info={}), channels=CHANNELS)
    result = alertmanager_config(dict(POLICY, info={"channels": [], "allow_empty": True}), channels=CHANNELS)
    assert result["config"]["receivers"][2] == {"name": "severity-info"}
    assert result["config"]["route"]["routes"][2] == {"receiver": "severity-info", "matchers": ['severity="info"']}
    assert result["unconfigured"] == []
    with pytest.raises(SpecError) as err:
        alertmanager_config(dict(POLICY, info={"channels": [], "allow_empty": "yes"}), channels=CHANNELS)
    assert err.value.field == "allow_empty"


@pytest.mark.parametrize("severity, hint", [("urgent", ""), ("critcal", " (did you mean 'critical'?)")])
def test_unknown_severity_is_an_early_error(severity, hint):
    with pytest.raises(SpecError) as err:
        alertmanager_config(dict(POLICY, **{severity: {"channels": ["chat"]}}), channels={"bogus": {"type": "sms"}})
    assert (err.value.item, err.value.field) == ("severity %r" % severity, "severity")
    assert str(err.value).endswith("unknown severity%s; the known severities, highest first, are critical, warning, info "
                                   "(the severities argument)" % hint)


def test_severities_argument_sets_the_known_list_and_inhibit_order():
    policy = {"page": {"channels": ["pager"]}, "ticket": {"channels": ["email"]}, "fyi": {"channels": ["chat"]}}
    result = alertmanager_config(policy, channels=CHANNELS, severities=["page", "ticket", "fyi"], default_severity="ticket")
    assert result["config"]["inhibit_rules"][0] == {
        "source_matchers": ['severity="page"'], "target_matchers": ['severity=~"ticket|fyi"'], "equal": ["alertname", "instance"]}
    assert result["config"]["route"]["receiver"] == "severity-ticket"
    with pytest.raises(SpecError) as err:
        alertmanager_config(POLICY, channels=CHANNELS, severities=["page", "ticket", "fyi"])
    assert err.value.item == "severity 'critical'" and "page, ticket, fyi" in str(err.value)


@pytest.mark.parametrize("severities", ["critical", [], ["critical", "critical"], ["crit ical"]])
def test_bad_severities_argument(severities):
    with pytest.raises(SpecError) as err:
        build(severities=severities)
    assert err.value.field == "severities"


@pytest.mark.parametrize("order, message", [
    (["critical", "warning"], "severity 'info' of the policy is missing; every severity must be covered by the inhibit rules"),
    (["warning", "critical", "info"], "must follow the order of the severities"),
    (["critical", "urgent", "info"], "expected a list of known severities"),
])
def test_inhibit_order_must_cover_the_policy_in_order(order, message):
    with pytest.raises(SpecError, match=message) as err:
        build(inhibit_order=order)
    assert err.value.field == "inhibit_order"


def test_inhibit_order_subset_of_known_severities():
    result = build(inhibit_order=["critical", "warning", "info"])
    assert result["config"]["inhibit_rules"] == build()["config"]["inhibit_rules"]


def test_extra_routes_go_first_and_must_use_matchers():
    extra = [{"receiver": "team-db", "matchers": ['team="db"']}]
    result = build(extra_routes=extra, extra_receivers=[{"name": "team-db"}])
    assert result["config"]["route"]["routes"][0] == extra[0]
    assert result["config"]["receivers"][-1] == {"name": "team-db"}
    with pytest.raises(SpecError, match="deprecated"):
        build(extra_routes=[{"receiver": "x", "match": {"team": "db"}}])
    with pytest.raises(SpecError, match="source_matchers"):
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
    with pytest.raises(SpecError) as err:
        alertmanager_config(POLICY, **kwargs)
    assert err.value.item == item
    assert err.value.field == field


def test_bad_policy():
    with pytest.raises(SpecError, match="expected a mapping of severity"):
        alertmanager_config({})
    with pytest.raises(SpecError, match="repeat"):
        alertmanager_config({"warning": {"channels": [], "repeat": "1h"}})
    with pytest.raises(SpecError, match="list of channel names"):
        alertmanager_config({"warning": {"channels": "chat"}})


def test_filter_wraps_errors():
    with pytest.raises(AnsibleFilterError, match="alertmanager_config: channel 'x'"):
        FILTERS["alertmanager_config"](POLICY, channels={"x": {"type": "sms"}})
    with pytest.raises(AnsibleFilterError, match="^monitoring.stack.alertmanager_config: severity 'critical', field 'channels': "
                                                 "channel 'pager' is not defined in channels"):
        FILTERS["alertmanager_config"](POLICY)
    with pytest.raises(AnsibleFilterError, match="severity 'urgent', field 'severity'"):
        FILTERS["alertmanager_config"]({"urgent": {"channels": ["chat"]}}, channels=CHANNELS, default_severity="urgent")


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
