"""Unit tests for the alert digest filter (plugins/filter/digest.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.monitoring.stack.plugins.filter.digest import FilterModule

F = FilterModule().filters()
SMTP = {"smarthost": "mail.example.com:587", "from": "monitoring@example.com", "auth_username": "mailer",
        "auth_password": "m4il"}
GROUPS = {"prometheus": ["mon1.example.org", "mon2.example.org"]}
HOSTVARS = {"mon1.example.org": {"ansible_host": "10.0.0.5", "prometheus_listen_address": ":9091"}}


def _plan(digest, **kwargs):
    args = dict(smtp=SMTP, channels={}, groups=GROUPS, hostvars=HOSTVARS, tls=False, ca_file="")
    args.update(kwargs)
    return F["alert_digest_plan"](digest, **args)


def test_off_by_default():
    assert F["alert_digest_plan"]({}) == {"enabled": False, "on_calendar": "", "config": {}}


def test_plain_http_to_the_first_prometheus_and_the_smtp_settings():
    plan = _plan({"enabled": True, "recipients": ["ops@example.com"], "time": "06:30",
                  "prometheus_username": "digest", "prometheus_password": "pw"})
    assert plan["on_calendar"] == "*-*-* 06:30:00"
    config = plan["config"]
    assert config["prometheus"] == {"url": "http://10.0.0.5:9091", "ca_file": "", "username": "digest", "password": "pw"}
    assert config["smtp"]["smarthost"] == "mail.example.com:587" and config["smtp"]["require_tls"] is True
    assert config["smtp"]["username"] == "mailer" and config["smtp"]["password"] == "m4il"
    assert config["hours"] == 24 and config["step"] == "1m"


def test_site_tls_uses_the_inventory_name_and_the_ca():
    config = _plan({"enabled": True, "recipients": ["ops@example.com"]}, tls=True, ca_file="/etc/alertmanager/tls/ca.crt")["config"]
    assert config["prometheus"]["url"] == "https://mon1.example.org:9091"
    assert config["prometheus"]["ca_file"] == "/etc/alertmanager/tls/ca.crt"


def test_the_route_prefix_of_the_external_url_but_not_its_proxy():
    hostvars = {"mon1.example.org": {"prometheus_external_url": "https://mon.example.org/prometheus/"}}
    config = _plan({"enabled": True, "recipients": ["ops@example.com"]}, hostvars=hostvars, tls=True, ca_file="/ca")["config"]
    assert config["prometheus"]["url"] == "https://mon1.example.org:9090/prometheus"


def test_email_channel_overrides_smtp_and_gives_the_recipients():
    channels = {"email": {"type": "email", "to": "ops@example.com, dba@example.com", "smarthost": "relay:25", "require_tls": False}}
    config = _plan({"enabled": True, "channel": "email"}, channels=channels)["config"]
    assert config["smtp"]["to"] == ["ops@example.com", "dba@example.com"]
    assert config["smtp"]["smarthost"] == "relay:25" and config["smtp"]["require_tls"] is False
    assert config["smtp"]["from"] == "monitoring@example.com"


def test_chat_channel_adds_the_slack_webhook_and_the_site_ca_is_trusted_for_mail():
    channels = {"chat": {"type": "slack", "api_url": "https://hooks.slack.com/services/T/B/x", "channel": "#ops"}}
    config = _plan({"enabled": True, "recipients": ["ops@example.com"], "chat_channel": "chat"}, channels=channels,
                   tls=True, ca_file="/etc/alertmanager/tls/ca.crt")["config"]
    assert config["slack"] == {"api_url": "https://hooks.slack.com/services/T/B/x", "channel": "#ops",
                               "ca_file": "/etc/alertmanager/tls/ca.crt"}
    assert config["smtp"]["ca_file"] == "/etc/alertmanager/tls/ca.crt"
    assert "slack" not in _plan({"enabled": True, "recipients": ["ops@example.com"]})["config"]


@pytest.mark.parametrize("digest, kwargs, match", [
    ({"enabled": True, "recipients": ["ops@example.com"], "chat_channel": "email"},
     {"channels": {"email": {"type": "email", "to": "a@example.com"}}}, "not a slack channel"),
    ({"enabled": True, "recipients": ["ops@example.com"], "chat_channel": "chat"},
     {"channels": {"chat": {"type": "slack", "api_url_file": "/etc/x"}}}, "api_url"),
    ({"enabled": True}, {}, "recipients"),
    ({"enabled": True, "recipients": ["ops@example.com"], "time": "7:00"}, {}, "HH:MM"),
    ({"enabled": True, "recipients": ["not-an-address"]}, {}, "mail address"),
    ({"enabled": True, "recipients": ["ops@example.com"]}, {"smtp": {"from": "a@example.com"}}, "SMTP server"),
    ({"enabled": True, "recipients": ["ops@example.com"], "prometheus_username": "u"}, {}, "together"),
    ({"enabled": True, "recipients": ["ops@example.com"]}, {"groups": {}}, "prometheus group"),
    ({"enabled": True, "channel": "chat"}, {"channels": {"chat": {"type": "slack"}}}, "not an email channel"),
    ({"enabled": True, "recipients": ["ops@example.com"], "hours": 0}, {}, "hours"),
    ({"enabled": True, "recipients": ["ops@example.com"], "colour": "red"}, {}, "colour"),
])
def test_bad_settings_are_refused(digest, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match):
        _plan(digest, **kwargs)
