# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log-based alerts: Loki ruler rule groups from the compact specs and rule packs of the Prometheus roles
(``_rules.py``, ``_rule_packs.py``), with LogQL expressions, and the ruler's Alertmanager settings derived
from the inventory the way ``_scrape.py`` derives Prometheus' ``alerting`` block.

:func:`check_logql` is a syntax sanity check (quotes, brackets, a stream selector with a matcher that cannot
match the empty string, durations, a metric query for rules); Loki itself (``loki -verify-config`` and the
ruler) checks the rest when a binary is there.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._rule_packs import rule_pack_groups
from ansible_collections.monitoring.stack.plugins.module_utils._rules import Context, rule_error
from ansible_collections.monitoring.stack.plugins.module_utils._scrape import _group_hosts, _job_port, _join_host_port, _target_prefix, host_address
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, is_duration, unknown_keys_text

# LogQL range aggregations (a log query over [range] -> a metric) and vector aggregations.
RANGE_FUNCTIONS = ("count_over_time", "rate", "rate_counter", "bytes_over_time", "bytes_rate", "avg_over_time", "sum_over_time",
                   "min_over_time", "max_over_time", "stdvar_over_time", "stddev_over_time", "quantile_over_time",
                   "first_over_time", "last_over_time", "absent_over_time")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)\s*(,|$)')
_SELECTOR = re.compile(r"\{([^{}]*)\}")
_RANGE = re.compile(r"\[([^\[\]]*)\]")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _strip_strings(expr, where):
    """``expr`` with string literals emptied (their text cannot unbalance brackets); unclosed quotes refused."""
    out, i = [], 0
    while i < len(expr):
        char = expr[i]
        if char in "\"`":
            end = i + 1
            while end < len(expr) and expr[end] != char:
                end += 2 if (char == '"' and expr[end] == "\\") else 1
            if end >= len(expr):
                raise SpecError("%s: unterminated string starting at column %d" % (where, i + 1))
            out.append(char * 2)
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _check_brackets(bare, where):
    stack = []
    for pos, char in enumerate(bare):
        if char in _PAIRS:
            stack.append((char, pos))
        elif char in _PAIRS.values():
            if not stack or _PAIRS[stack[-1][0]] != char:
                raise SpecError("%s: unbalanced '%s' at column %d" % (where, char, pos + 1))
            stack.pop()
    if stack:
        raise SpecError("%s: '%s' at column %d is never closed" % (where, stack[-1][0], stack[-1][1] + 1))


def _matches_empty(op, value):
    text = value[1:-1]
    if op == "=":
        return text == ""
    if op == "=~":
        try:
            return re.fullmatch(text.replace("\\\\", "\\"), "") is not None
        except re.error:
            return False
    return True  # != and !~ alone select everything but a value


def check_logql(expr, where="expr", metric=True):
    """Refuse a LogQL expression with obvious syntax errors; with ``metric``, also a log (non-metric) query."""
    if not isinstance(expr, str) or not expr.strip():
        raise SpecError("%s: expected a LogQL expression" % where)
    bare = _strip_strings(expr, where)
    _check_brackets(bare, where)
    selectors = list(_SELECTOR.finditer(expr))
    if not selectors:
        raise SpecError("%s: no stream selector {label=\"value\"} in %r" % (where, expr))
    for match in selectors:
        body, matchers, pos = match.group(1), [], 0
        while pos < len(body):
            found = _MATCHER.match(body, pos)
            if not found:
                raise SpecError("%s: bad label matcher in {%s} (expected name=\"value\", =~, != or !~)" % (where, body))
            matchers.append((found.group(2), found.group(3)))
            pos = found.end()
        if not matchers or all(_matches_empty(op, value) for op, value in matchers):
            raise SpecError("%s: the stream selector {%s} needs at least one matcher that does not match the empty "
                            "string (Loki refuses it)" % (where, body))
    for match in _RANGE.finditer(bare):
        text = match.group(1).split(":")[0].strip()
        if not is_duration(text):
            raise SpecError("%s: [%s] is not a duration range" % (where, match.group(1)))
    if metric:
        if not any(re.search(r"\b%s\s*\(" % name, expr) for name in RANGE_FUNCTIONS) or not _RANGE.search(bare):
            raise SpecError("%s: a rule needs a metric query, a range aggregation such as count_over_time({...}[5m]); "
                            "got a log query %r" % (where, expr))
    return expr


def loki_rule_groups(packs, enabled=None, overrides=None, extra_rules=None, params=None, runbook_base_url="", labels=None):
    """Rule packs and own rules (compact specs, LogQL) -> Loki ruler groups, each expression checked."""
    ctx = Context(runbook_base_url, None, None, labels)
    groups = rule_pack_groups(packs, ctx, enabled=enabled, overrides=overrides, extra_rules=extra_rules, params=params)
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            try:
                check_logql(rule["expr"], "LogQL of %s" % name)
            except SpecError as exc:
                raise rule_error(name, "expr", str(exc)) from exc
    return groups


ALERTMANAGER_KEYS = ("group", "port", "port_var", "path_var", "path_prefix", "targets", "scheme", "tls", "basic_auth", "enabled")


def loki_ruler_alertmanager(spec, groups, hostvars, ca_file=""):
    """The ruler's ``alertmanager_url`` (comma-separated, one per Alertmanager host) and ``alertmanager_client``.

    ``spec`` has the keys of ``prometheus_alertmanagers``; with the site CA (``ca_file``) the scheme is https
    and the CA verifies the Alertmanagers, as Prometheus does. Returns ``{}`` when there is no Alertmanager.
    """
    if not spec or spec.get("enabled") is False:
        return {}
    if not isinstance(spec, dict):
        raise SpecError("ruler alertmanagers: expected a mapping of %s" % ", ".join(ALERTMANAGER_KEYS))
    unknown = unknown_keys_text(spec, ALERTMANAGER_KEYS)
    if unknown:
        raise SpecError("ruler alertmanagers: %s" % unknown)
    hosts = _group_hosts(groups, spec.get("group"))
    scheme = spec.get("scheme") or ("https" if ca_file else "http")
    if scheme not in ("http", "https"):
        raise SpecError("ruler alertmanagers: scheme must be http or https, got '%s'" % scheme)
    prefixes = sorted({_target_prefix("alertmanagers", spec, hostvars, host) for host in hosts})
    if len(prefixes) > 1:
        raise SpecError("ruler alertmanagers: the hosts of group %s serve under different route prefixes (%s)"
                        % (spec.get("group"), ", ".join(prefixes)))
    prefix = str(spec.get("path_prefix") or (prefixes[0] if prefixes else "")).rstrip("/")
    targets = [_join_host_port(host_address(hostvars, host), _job_port("alertmanagers", spec, hostvars, host)) for host in hosts]
    targets += [str(t) for t in spec.get("targets") or []]
    if not targets:
        return {}
    out = {"alertmanager_url": ",".join("%s://%s%s" % (scheme, target, prefix) for target in targets),
           "enable_alertmanager_v2": True}
    client = {}
    auth = spec.get("basic_auth") or {}
    if auth:
        if not auth.get("username") or not auth.get("password"):
            raise SpecError("ruler alertmanagers: basic_auth needs username and password")
        client.update(basic_auth_username=str(auth["username"]), basic_auth_password=str(auth["password"]))
    tls = dict(spec.get("tls") or {})
    ca = tls.get("ca_file") or (ca_file if scheme == "https" else "")
    if ca:
        client["tls_ca_path"] = ca
    if tls.get("cert_file") and tls.get("key_file"):
        client.update(tls_cert_path=tls["cert_file"], tls_key_path=tls["key_file"])
    if tls.get("server_name"):
        client["tls_server_name"] = tls["server_name"]
    if client:
        out["alertmanager_client"] = client
    return out
