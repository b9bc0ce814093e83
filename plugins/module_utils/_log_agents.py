# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log agents: the Promtail configuration and the Alloy configuration text for normalised log sources.

Both read the list :func:`_log_sources.log_sources` returns and translate its neutral pipeline stages,
following Promtail 3.5 ``docs/sources/send-data/promtail/configuration.md`` and ``stages/*.md`` and
Alloy 1.x ``docs/sources/reference/components/{local,loki}/*.md``.
"""

from __future__ import annotations

import json
import re

from ansible_collections.monitoring.stack.plugins.module_utils._alloy_syntax import AlloySyntaxError, parse as parse_alloy, undeclared_references
from ansible_collections.monitoring.stack.plugins.module_utils._log_sources import check_sources, labels_ok
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, unknown_keys_text

AGENT_DEFAULTS = {
    "loki_url": "http://127.0.0.1:3100/loki/api/v1/push",
    "tenant_id": "",
    "basic_auth_username": "",
    "basic_auth_password": "",
    "basic_auth_password_file": "",
    "ca_file": "",
    "http_listen_address": "127.0.0.1",
    "http_listen_port": 9080,
    "positions_file": "/var/lib/promtail/positions.yaml",
    # Alloy: a Promtail positions file converted on Alloy's first start (loki.source.file legacy_positions_file).
    "legacy_positions_file": "",
    "log_level": "info",
    "external_labels": {},
}


def _agent_settings(settings):
    unknown = unknown_keys_text(settings or {}, AGENT_DEFAULTS, "setting")
    if unknown:
        raise SpecError("agent settings: %s" % unknown)
    s = dict(AGENT_DEFAULTS, **(settings or {}))
    if not re.match(r"^https?://", str(s["loki_url"])):
        raise SpecError("agent settings: loki_url must be an http(s) URL, got '%s'" % s["loki_url"])
    if s["basic_auth_password"] and s["basic_auth_password_file"]:
        raise SpecError("agent settings: set basic_auth_password or basic_auth_password_file, not both")
    if (s["basic_auth_password"] or s["basic_auth_password_file"]) and not s["basic_auth_username"]:
        raise SpecError("agent settings: basic auth needs basic_auth_username")
    labels_ok(s["external_labels"], "external_labels")
    return s


# --------------------------------------------------------------------------- Promtail

def _promtail_stage(stage):
    kind = stage["type"]
    if kind == "regex":
        body = {"expression": stage["expression"]}
        if stage.get("source"):
            body["source"] = stage["source"]
        return {"regex": body}
    if kind == "json":
        return {"json": {"expressions": dict(stage["expressions"])}}
    if kind in ("labels", "structured_metadata"):
        return {kind: dict(stage["values"])}
    if kind == "timestamp":
        body = {k: stage[k] for k in ("source", "format", "fallback_formats", "location") if stage.get(k)}
        body["action_on_failure"] = "fudge"
        return {"timestamp": body}
    if kind == "multiline":
        return {"multiline": {"firstline": stage["firstline"], "max_wait_time": stage["max_wait_time"]}}
    raise SpecError("internal: unknown stage %s" % kind)


def _file_targets(src):
    """The targets of a file source, both agents' way: its labels plus ``__path__`` (and ``__path_exclude__``)."""
    targets = []
    for path in src["paths"]:
        target = dict(src["labels"], __path__=path)
        if src["exclude"]:
            # One doublestar pattern for several exclusions ({a,b} alternatives).
            excluded = src["exclude"]
            target["__path_exclude__"] = excluded[0] if len(excluded) == 1 else "{%s}" % ",".join(excluded)
        targets.append(target)
    return targets


def _journal_relabel(src):
    rules = [
        {"source_labels": ["__journal__systemd_unit"], "target_label": "unit"},
        {"source_labels": ["__journal_priority_keyword"], "target_label": "level"},
    ]
    if src["units"]:
        rules.append({"source_labels": ["__journal__systemd_unit"], "regex": "(%s)" % "|".join(re.escape(u) for u in src["units"]),
                      "action": "keep"})
    return rules


def promtail_config(sources, settings=None):
    """Build the Promtail configuration dict for normalised sources."""
    check_sources(sources)
    s = _agent_settings(settings)
    client = {"url": s["loki_url"]}
    if s["tenant_id"]:
        client["tenant_id"] = s["tenant_id"]
    if s["basic_auth_username"]:
        auth = {"username": s["basic_auth_username"]}
        if s["basic_auth_password_file"]:
            auth["password_file"] = s["basic_auth_password_file"]
        elif s["basic_auth_password"]:
            auth["password"] = s["basic_auth_password"]
        client["basic_auth"] = auth
    if s["ca_file"]:
        client["tls_config"] = {"ca_file": s["ca_file"]}
    if s["external_labels"]:
        client["external_labels"] = dict(s["external_labels"])
    scrape = []
    for src in sources:
        job = {"job_name": src["name"]}
        if src["kind"] == "journal":
            job["journal"] = {"json": False, "max_age": src["max_age"], "labels": dict(src["labels"])}
            job["relabel_configs"] = _journal_relabel(src)
        else:
            job["static_configs"] = [{"targets": ["localhost"], "labels": target} for target in _file_targets(src)]
        stages = [_promtail_stage(st) for st in src["pipeline"]]
        if stages:
            job["pipeline_stages"] = stages
        scrape.append(job)
    return {
        "server": {
            "http_listen_address": s["http_listen_address"],
            "http_listen_port": int(s["http_listen_port"]),
            # Nothing talks gRPC to Promtail: loopback only, on a port the kernel picks.
            "grpc_listen_address": "127.0.0.1",
            "grpc_listen_port": 0,
            "log_level": s["log_level"],
        },
        "positions": {"filename": s["positions_file"]},
        "clients": [client],
        "scrape_configs": scrape,
    }


# --------------------------------------------------------------------------- Alloy

def _q(value):
    """An Alloy string literal."""
    return json.dumps(str(value), ensure_ascii=False)


def _obj(mapping):
    return "{%s}" % ", ".join("%s = %s" % (_q(k), _q(v)) for k, v in sorted(mapping.items()))


def _alloy_stage(stage, indent="  "):
    kind = stage["type"]
    body = []
    if kind == "regex":
        body.append(("expression", _q(stage["expression"])))
        if stage.get("source"):
            body.append(("source", _q(stage["source"])))
    elif kind == "json":
        body.append(("expressions", _obj(stage["expressions"])))
    elif kind in ("labels", "structured_metadata"):
        body.append(("values", _obj(stage["values"])))
    elif kind == "timestamp":
        for key in ("source", "format", "location"):
            if stage.get(key):
                body.append((key, _q(stage[key])))
        if stage.get("fallback_formats"):
            body.append(("fallback_formats", "[%s]" % ", ".join(_q(f) for f in stage["fallback_formats"])))
        body.append(("action_on_failure", _q("fudge")))
    elif kind == "multiline":
        body.append(("firstline", _q(stage["firstline"])))
        body.append(("max_wait_time", _q(stage["max_wait_time"])))
    else:
        raise SpecError("internal: unknown stage %s" % kind)
    width = max(len(key) for key, _value in body)
    lines = ["%sstage.%s {" % (indent, kind)]
    lines += ["%s  %s = %s" % (indent, k.ljust(width), v) for k, v in body]
    lines.append("%s}" % indent)
    return lines


def alloy_config(sources, settings=None):
    """Build the Alloy configuration text (Alloy syntax) for normalised sources."""
    check_sources(sources)
    s = _agent_settings(settings)
    out = ['logging {', '  level  = %s' % _q(s["log_level"]), '  format = "logfmt"', '}', '']
    for src in sources:
        name = src["name"]
        out.append("// %s (%s)" % (name, src["type"]))
        if src["kind"] == "journal":
            out.append('loki.relabel "%s" {' % name)
            out.append("  forward_to = []")
            for rule in _journal_relabel(src):
                out.append("")
                out.append("  rule {")
                out.append("    source_labels = [%s]" % ", ".join(_q(x) for x in rule["source_labels"]))
                if "target_label" in rule:
                    out.append("    target_label  = %s" % _q(rule["target_label"]))
                if "regex" in rule:
                    out.append("    regex         = %s" % _q(rule["regex"]))
                if "action" in rule:
                    out.append("    action        = %s" % _q(rule["action"]))
                out.append("  }")
            out.append("}")
            out.append("")
            out.append('loki.source.journal "%s" {' % name)
            out.append("  max_age       = %s" % _q(src["max_age"]))
            out.append("  labels        = %s" % _obj(src["labels"]))
            out.append("  relabel_rules = loki.relabel.%s.rules" % name)
            out.append("  forward_to    = [loki.process.%s.receiver]" % name)
            out.append("}")
        else:
            out.append('local.file_match "%s" {' % name)
            out.append("  path_targets = [")
            out.extend("    %s," % _obj(target) for target in _file_targets(src))
            out.append("  ]")
            out.append("}")
            out.append("")
            out.append('loki.source.file "%s" {' % name)
            out.append("  targets    = local.file_match.%s.targets" % name)
            out.append("  forward_to = [loki.process.%s.receiver]" % name)
            if s["legacy_positions_file"]:
                # Read offsets handed over from Promtail: converted when this component has no positions yet.
                out.append("  legacy_positions_file = %s" % _q(s["legacy_positions_file"]))
            out.append("}")
        out.append("")
        out.append('loki.process "%s" {' % name)
        out.append("  forward_to = [loki.write.default.receiver]")
        for stage in src["pipeline"]:
            out.append("")
            out.extend(_alloy_stage(stage))
        out.append("}")
        out.append("")
    out.append('loki.write "default" {')
    out.append("  endpoint {")
    out.append("    url = %s" % _q(s["loki_url"]))
    if s["tenant_id"]:
        out.append("    tenant_id = %s" % _q(s["tenant_id"]))
    if s["basic_auth_username"]:
        out.append("")
        out.append("    basic_auth {")
        out.append("      username = %s" % _q(s["basic_auth_username"]))
        if s["basic_auth_password_file"]:
            out.append("      password_file = %s" % _q(s["basic_auth_password_file"]))
        elif s["basic_auth_password"]:
            out.append("      password = %s" % _q(s["basic_auth_password"]))
        out.append("    }")
    if s["ca_file"]:
        out.append("")
        out.append("    tls_config {")
        out.append("      ca_file = %s" % _q(s["ca_file"]))
        out.append("    }")
    out.append("  }")
    if s["external_labels"]:
        out.append("  external_labels = %s" % _obj(s["external_labels"]))
    out.append("}")
    text = "\n".join(out) + "\n"
    check_alloy_text(text)
    return text


def check_alloy_text(text):
    """Parse an Alloy configuration (module_utils/_alloy_syntax.py); refuse syntax errors and dangling references."""
    try:
        tree = parse_alloy(text)
    except AlloySyntaxError as exc:
        raise SpecError("Alloy configuration: %s" % exc) from exc
    missing = undeclared_references(tree)
    if missing:
        raise SpecError("Alloy configuration: references to undeclared components: %s" % ", ".join(sorted(set(missing))))
    return True
