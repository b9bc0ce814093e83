# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus rule generation: compact alert specs, SLOs and rule packs.

Everything here returns plain dicts and lists, ready for ``to_nice_yaml`` into a
Prometheus rule file ``{groups: [...]}``. Bad input raises :class:`RuleSpecError`
whose message names the rule and the field.
"""

from __future__ import annotations

import re

SEVERITIES = ("critical", "warning", "info")
COMPARISONS = (">", "<", ">=", "<=", "==", "!=")
DEFAULT_PERIOD = "30d"

_DURATION = re.compile(r"^(?=\d)(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")
_DURATION_PARTS = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION_SECONDS = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECORD_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_SLO_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PARAM = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MATCHER = re.compile(r"""^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*$""")
_URL = re.compile(r"^https?://")

ALERT_KEYS = ("name", "expr", "metric", "comparison", "threshold", "for", "keep_firing_for", "severity",
              "summary", "description", "runbook", "labels", "annotations", "group", "enabled")
RECORD_KEYS = ("record", "expr", "labels", "group", "enabled")
PACK_KEYS = ("pack", "description", "params", "interval", "recording_rules", "alerts")
SLO_KEYS = ("name", "objective", "period", "sli", "description", "service", "labels", "group_by",
            "alert_name", "runbook", "windows", "enabled")
SLI_KEYS = ("type", "metric", "selector", "error_selector", "threshold", "le", "error_query", "total_query")
WINDOW_KEYS = ("long", "short", "burn_rate", "severity", "for")

# Multi-window, multi-burn-rate alerts of the Google SRE workbook, for a 30 day period.
# For another period the burn rates are scaled so each pair still spends the same budget share.
DEFAULT_WINDOWS = (
    {"long": "1h", "short": "5m", "burn_rate": 14.4, "severity": "critical", "for": "2m"},
    {"long": "6h", "short": "30m", "burn_rate": 6, "severity": "critical", "for": "15m"},
    {"long": "1d", "short": "2h", "burn_rate": 3, "severity": "warning", "for": "1h"},
    {"long": "3d", "short": "6h", "burn_rate": 1, "severity": "warning", "for": "3h"},
)


class RuleSpecError(ValueError):
    """Raised for a spec a user must correct; the message names the rule and the field."""

    def __init__(self, rule, field, message):
        self.rule = rule
        self.field = field
        super().__init__("rule %r, field %r: %s" % (rule, field, message))


# --------------------------------------------------------------------------- small helpers


def duration_seconds(value):
    """Seconds of a Prometheus duration string such as ``1h30m``."""
    return sum(int(num) * _DURATION_SECONDS[unit] for num, unit in _DURATION_PARTS.findall(value))


def kebab_case(name):
    """``HostHighCpuLoad`` -> ``host-high-cpu-load``; ``PostgresqlWALFull`` -> ``postgresql-wal-full``; ``FillIn24h`` -> ``fill-in-24h``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1-\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    text = re.sub(r"([A-Za-z])([0-9])", r"\1-\2", text)
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def camel_case(name):
    """``api-read_availability`` -> ``ApiReadAvailability``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def format_number(value):
    """A float without float noise: ``1 - 0.999`` -> ``0.001``, ``80.0`` -> ``80``."""
    return "%.12g" % value


def runbook_url(name, runbook, base_url):
    """The runbook URL of an alert, or None when there is neither a full URL nor a base URL."""
    if runbook and _URL.match(runbook):
        return runbook
    if not base_url:
        return None
    return "%s/%s" % (base_url.rstrip("/"), (runbook or kebab_case(name)).lstrip("/"))


def check_keys(rule, spec, allowed, what="key"):
    """Refuse a non-dict spec or one with keys outside ``allowed``."""
    if not isinstance(spec, dict):
        raise RuleSpecError(rule, what, "expected a mapping, got %s" % type(spec).__name__)
    unknown = sorted(str(key) for key in spec if key not in allowed)
    if unknown:
        raise RuleSpecError(rule, unknown[0], "unknown %s; allowed: %s" % (what, ", ".join(allowed)))


def check_duration(rule, field, value, required=False):
    """Validate an optional Prometheus duration and return it (or None)."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not _DURATION.match(value):
        raise RuleSpecError(rule, field, "%r is not a Prometheus duration such as 5m, 1h30m or 1d" % (value,))
    return value


def check_severity(rule, value, field="severity"):
    if value not in SEVERITIES:
        raise RuleSpecError(rule, field, "%r is not one of %s" % (value, "|".join(SEVERITIES)))
    return value


def check_str(rule, field, value, required=False):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RuleSpecError(rule, field, "expected a non-empty string, got %r" % (value,))
    return value


def check_number(rule, field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RuleSpecError(rule, field, "expected a number, got %r" % (value,))
    return value


def check_labels(rule, field, labels):
    """Validate a label dict and return it with string values."""
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise RuleSpecError(rule, field, "expected a mapping of label name to value")
    result = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_NAME.match(key):
            raise RuleSpecError(rule, field, "%r is not a valid label name" % (key,))
        if isinstance(value, (dict, list)) or value is None:
            raise RuleSpecError(rule, field, "value of %r must be a scalar" % (key,))
        result[key] = scalar_text(value)
    return result


def scalar_text(value):
    """A label or parameter value as text: numbers without float noise, booleans in lower case."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


def check_label_names(rule, field, names):
    if names is None:
        return []
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) and _LABEL_NAME.match(n) for n in names):
        raise RuleSpecError(rule, field, "expected a list of label names, got %r" % (names,))
    return list(names)


def substitute(rule, field, text, params):
    """Replace ``${name}`` placeholders from ``params``; unknown names are an error."""
    def repl(match):
        key = match.group(1)
        if key not in params:
            raise RuleSpecError(rule, field, "unknown parameter ${%s}; known: %s" % (key, ", ".join(sorted(params)) or "none"))
        return scalar_text(params[key])
    return _PARAM.sub(repl, text)


# --------------------------------------------------------------------------- PromQL scoping


class Scope:
    """Label matchers injected into every vector selector and labels added to every ``by``/``on`` clause."""

    def __init__(self, selector=None, group_by=None):
        self.matchers = parse_selector(selector)
        given = check_label_names("<scope>", "group_by", group_by)
        self.group_by = given + [name for name, _text in self.matchers if name not in given]

    def __bool__(self):
        return bool(self.matchers or self.group_by)

    def apply(self, expr):
        return scope_expr(expr, self.matchers, self.group_by) if self else expr


def parse_selector(selector):
    """``'a="1", b=~"x|y"'`` or ``{a: 1}`` -> ``[(name, matcher_text), ...]``."""
    if not selector:
        return []
    if isinstance(selector, dict):
        labels = check_labels("<scope>", "selector", selector)
        return [(k, '%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))) for k, v in labels.items()]
    if not isinstance(selector, str):
        raise RuleSpecError("<scope>", "selector", "expected a string of label matchers or a mapping")
    text = selector.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    result = []
    for part in _split_top(text, ","):
        match = _MATCHER.match(part)
        if not match:
            raise RuleSpecError("<scope>", "selector", "%r is not a label matcher such as tenant_id=\"t1\"" % part.strip())
        result.append((match.group(1), "%s%s%s" % match.groups()))
    return result


def _split_top(text, sep):
    """Split ``text`` on ``sep`` outside quoted strings, dropping empty parts."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] in "\"'`":
            i = _string_end(text, i)
            continue
        if text[i] == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


_LIST_KEYWORDS = ("by", "without", "on", "ignoring", "group_left", "group_right")
_EXTENDED_LISTS = ("by", "on")
_KEYWORDS = ("and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
             # aggregation operators, which may be followed by "by (...)" instead of "("
             "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
             "bottomk", "topk", "quantile", "limitk", "limit_ratio")
_IDENT_START = re.compile(r"[A-Za-z_:]")
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(?:0x[0-9a-fA-F]+|[0-9.]+(?:[eE][+-]?[0-9]+)?[0-9A-Za-z_.]*)")
_LABEL_IN_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)")


def _string_end(text, i):
    """Index after the quoted string starting at ``i``."""
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" and quote != "`" else 1
    if j >= len(text):
        raise RuleSpecError("<expr>", "expr", "unterminated string in %r" % text)
    return j + 1


def _closing(text, i, open_char, close_char):
    """Index after the bracket matching the one at ``i``, skipping strings."""
    depth, j = 0, i
    while j < len(text):
        char = text[j]
        if char in "\"'`":
            j = _string_end(text, j)
            continue
        depth += (char == open_char) - (char == close_char)
        j += 1
        if depth == 0:
            return j
    raise RuleSpecError("<expr>", "expr", "unbalanced %r in %r" % (open_char, text))


def _strip_strings(text):
    out, i = [], 0
    while i < len(text):
        if text[i] in "\"'`":
            i = _string_end(text, i)
            out.append('""')
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _inject_matchers(braces, matchers):
    """``{a="1"}`` + matchers -> ``{a="1", b="2"}``; labels already matched are left alone."""
    inner = braces[1:-1]
    present = set(_LABEL_IN_MATCHER.findall(_strip_strings(inner)))
    extra = [text for name, text in matchers if name not in present]
    if not extra:
        return braces
    body = inner.rstrip().rstrip(",")
    joined = ", ".join(extra)
    return "{%s}" % ("%s, %s" % (body, joined) if body.strip() else joined)


def _extend_label_list(parens, labels):
    """``(instance)`` + labels -> ``(instance, tenant_id)``."""
    inner = parens[1:-1]
    present = [p.strip() for p in inner.split(",") if p.strip()]
    extra = [label for label in labels if label not in present]
    return "(%s)" % ", ".join(present + extra) if extra else parens


def scope_expr(expr, matchers, group_by=()):
    """Inject ``matchers`` into every vector selector of ``expr`` and add ``group_by`` to every ``by``/``on`` list.

    A small PromQL lexer, not a full parser: it knows strings, comments, ranges,
    numbers/durations, function calls, keywords and label lists, which is all a
    selector rewrite needs. Labels the selector already matches are not touched.
    """
    out, i, size = [], 0, len(expr)
    while i < size:
        char = expr[i]
        if char in "\"'`":
            end = _string_end(expr, i)
        elif char == "#":
            newline = expr.find("\n", i)
            end = size if newline < 0 else newline
        elif char == "[":
            end = _closing(expr, i, "[", "]")
        elif char == "{":
            end = _closing(expr, i, "{", "}")
            out.append(_inject_matchers(expr[i:end], matchers))
            i = end
            continue
        elif _IDENT_START.match(char):
            i = _scope_identifier(expr, i, out, matchers, group_by)
            continue
        elif char.isdigit() or (char == "." and expr[i + 1:i + 2].isdigit()):
            end = _NUMBER.match(expr, i).end()
        else:
            end = i + 1
        out.append(expr[i:end])
        i = end
    return "".join(out)


def _scope_identifier(expr, i, out, matchers, group_by):
    """Handle the identifier at ``i``; append the rewritten text to ``out`` and return the next index."""
    end = _IDENT.match(expr, i).end()
    word = expr[i:end]
    nxt = end
    while nxt < len(expr) and expr[nxt].isspace():
        nxt += 1
    follows = expr[nxt:nxt + 1]
    lower = word.lower()
    if lower in _LIST_KEYWORDS and follows == "(":
        close = _closing(expr, nxt, "(", ")")
        labels = expr[nxt:close]
        out.append(word + expr[end:nxt] + (_extend_label_list(labels, group_by) if lower in _EXTENDED_LISTS else labels))
        return close
    if lower in _LIST_KEYWORDS or lower in _KEYWORDS or follows == "(":
        out.append(word)
        return end
    if follows == "{":
        close = _closing(expr, nxt, "{", "}")
        out.append(word + expr[end:nxt] + _inject_matchers(expr[nxt:close], matchers))
        return close
    out.append(word + ("{%s}" % ", ".join(text for _name, text in matchers) if matchers else ""))
    return end


def has_top_level_set_operator(expr):
    """True when ``expr`` has ``and``/``or``/``unless`` outside parentheses (it needs parentheses before ``> x``)."""
    depth, i = 0, 0
    text = _strip_strings(expr)
    while i < len(text):
        char = text[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and _IDENT_START.match(char):
            word = _IDENT.match(text, i).group(0)
            if word.lower() in ("and", "or", "unless"):
                return True
            i += len(word)
            continue
        i += 1
    return False


# --------------------------------------------------------------------------- rule builders


class Context:
    """Settings shared by every rule of one render: runbook base URL, scope, extra labels, parameters."""

    def __init__(self, runbook_base_url="", selector=None, group_by=None, labels=None, params=None):
        if runbook_base_url and not (isinstance(runbook_base_url, str) and _URL.match(runbook_base_url)):
            raise RuleSpecError("<render>", "runbook_base_url", "%r is not an http(s) URL" % (runbook_base_url,))
        self.runbook_base_url = runbook_base_url or ""
        self.scope = Scope(selector, group_by)
        self.labels = check_labels("<render>", "labels", labels)
        self.params = dict(params or {})

    def with_params(self, params):
        clone = Context.__new__(Context)
        clone.__dict__.update(self.__dict__)
        clone.params = dict(params)
        return clone


def _alert_expr(name, spec, params):
    """The alert expression: ``expr`` as is, or ``expr``/``metric`` compared with ``threshold``."""
    if ("expr" in spec) == ("metric" in spec):
        raise RuleSpecError(name, "expr", "give exactly one of 'expr' or 'metric'")
    field = "expr" if "expr" in spec else "metric"
    base = substitute(name, field, check_str(name, field, spec[field], True).strip(), params)
    threshold = spec.get("threshold")
    comparison = spec.get("comparison", ">")
    if comparison not in COMPARISONS:
        raise RuleSpecError(name, "comparison", "%r is not one of %s" % (comparison, " ".join(COMPARISONS)))
    if threshold is None:
        if field == "metric" or "comparison" in spec:
            raise RuleSpecError(name, "threshold", "required with 'metric' or 'comparison'")
        return base
    check_number(name, "threshold", threshold)
    if has_top_level_set_operator(base):
        base = "(%s)" % base
    return "%s %s %s" % (base, comparison, format_number(threshold))


def build_alert(spec, ctx):
    """One compact alert spec -> ``(group, rule)``; ``group`` is None when the spec gives none."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not _ALERT_NAME.match(name):
        raise RuleSpecError(name if isinstance(name, str) else "<unnamed>", "name", "an alert needs a name matching [A-Za-z_][A-Za-z0-9_]*")
    check_keys(name, spec, ALERT_KEYS)
    params = dict(ctx.params, threshold=spec.get("threshold", ""))
    rule = {"alert": name, "expr": ctx.scope.apply(_alert_expr(name, spec, params))}
    for field in ("for", "keep_firing_for"):
        if check_duration(name, field, spec.get(field)):
            rule[field] = spec[field]
    labels = dict(ctx.labels, **check_labels(name, "labels", spec.get("labels")))
    if "severity" in labels:
        raise RuleSpecError(name, "labels", "set the severity with the 'severity' field, not as a label")
    labels["severity"] = check_severity(name, spec.get("severity"))
    rule["labels"] = labels
    rule["annotations"] = _annotations(name, spec, ctx, params)
    return check_str(name, "group", spec.get("group")), rule


def _annotations(name, spec, ctx, params):
    annotations = {"summary": substitute(name, "summary", check_str(name, "summary", spec.get("summary"), True), params)}
    if spec.get("description") is not None:
        annotations["description"] = substitute(name, "description", check_str(name, "description", spec["description"]), params)
    url = runbook_url(name, check_str(name, "runbook", spec.get("runbook")), ctx.runbook_base_url)
    if url:
        annotations["runbook_url"] = url
    extra = check_labels(name, "annotations", spec.get("annotations"))
    annotations.update({key: substitute(name, "annotations", value, params) for key, value in extra.items()})
    return annotations


def build_record(spec, ctx):
    """One recording rule spec -> ``(group, rule)``."""
    record = spec.get("record") if isinstance(spec, dict) else None
    if not isinstance(record, str) or not _RECORD_NAME.match(record):
        raise RuleSpecError(record if isinstance(record, str) else "<unnamed>", "record", "a recording rule needs a metric name as 'record'")
    check_keys(record, spec, RECORD_KEYS)
    expr = substitute(record, "expr", check_str(record, "expr", spec.get("expr"), True).strip(), ctx.params)
    rule = {"record": record, "expr": ctx.scope.apply(expr)}
    labels = check_labels(record, "labels", spec.get("labels"))
    if labels:
        rule["labels"] = labels
    return check_str(record, "group", spec.get("group")), rule


def build_rule(spec, ctx):
    """Dispatch on ``record`` vs ``name``."""
    return build_record(spec, ctx) if isinstance(spec, dict) and "record" in spec else build_alert(spec, ctx)


def is_enabled(name, spec):
    enabled = spec.get("enabled", True) if isinstance(spec, dict) else True
    if not isinstance(enabled, bool):
        raise RuleSpecError(name, "enabled", "expected true or false, got %r" % (enabled,))
    return enabled


def spec_name(spec):
    if isinstance(spec, dict):
        return spec.get("record") or spec.get("name") or "<unnamed>"
    return "<unnamed>"


class GroupSet:
    """Ordered rule groups; rules added under an existing group name join that group."""

    def __init__(self):
        self._groups = {}

    def add(self, name, rule, interval=None):
        group = self._groups.setdefault(name, {"name": name, "rules": []})
        if interval and "interval" not in group:
            group["interval"] = interval
        group["rules"].append(rule)

    def extend(self, groups):
        for group in groups:
            for rule in group["rules"]:
                self.add(group["name"], rule, group.get("interval"))

    def as_list(self):
        return [group for group in self._groups.values() if group["rules"]]


def alert_rule_groups(specs, ctx, default_group="alerts"):
    """Compact alert and recording specs -> rule groups (disabled specs are skipped)."""
    if not isinstance(specs, list):
        raise RuleSpecError("<rules>", "rules", "expected a list of rule specs, got %s" % type(specs).__name__)
    groups = GroupSet()
    for spec in specs:
        if is_enabled(spec_name(spec), spec):
            group, rule = build_rule(spec, ctx)
            groups.add(group or default_group, rule)
    return groups.as_list()


# --------------------------------------------------------------------------- SLOs


def _windows(name, spec, period):
    """The burn-rate window pairs of an SLO, validated; default burn rates scaled to the SLO period."""
    windows = spec.get("windows")
    if windows is None:
        scale = duration_seconds(period) / duration_seconds(DEFAULT_PERIOD)
        return [dict(w, burn_rate=round(w["burn_rate"] * scale, 4)) for w in DEFAULT_WINDOWS]
    if not isinstance(windows, list) or not windows:
        raise RuleSpecError(name, "windows", "expected a non-empty list of {long, short, burn_rate, severity, for}")
    for window in windows:
        check_keys(name, window, WINDOW_KEYS, "windows key")
        for field in ("long", "short"):
            check_duration(name, "windows.%s" % field, window.get(field), True)
        check_duration(name, "windows.for", window.get("for"))
        check_number(name, "windows.burn_rate", window.get("burn_rate"))
        check_severity(name, window.get("severity"), "windows.severity")
    return windows


def _sli_queries(name, sli, by):
    """``(error_query, total_query)`` templates with a ``${window}`` placeholder."""
    check_keys(name, sli, SLI_KEYS, "sli key")
    if "error_query" in sli or "total_query" in sli:
        return (check_str(name, "sli.error_query", sli.get("error_query"), True),
                check_str(name, "sli.total_query", sli.get("total_query"), True))
    kind = sli.get("type")
    metric = check_str(name, "sli.metric", sli.get("metric"), True)
    matchers = [m for _n, m in parse_selector(check_str(name, "sli.selector", sli.get("selector")))]
    agg = "sum by (%s) " % ", ".join(by) if by else "sum"

    def rate(series, extra=()):
        selector = ", ".join(matchers + list(extra))
        return "%s(rate(%s%s[${window}]))" % (agg, series, "{%s}" % selector if selector else "")

    if kind == "availability":
        errors = [m for _n, m in parse_selector(check_str(name, "sli.error_selector", sli.get("error_selector"), True))]
        return "(%s or %s * 0)" % (rate(metric, errors), rate(metric)), rate(metric)
    if kind == "latency":
        le = sli.get("le")
        if le is None:
            threshold = check_number(name, "sli.threshold", sli.get("threshold"))
            le = "%s.0" % int(threshold) if float(threshold).is_integer() else repr(float(threshold))
        good = rate(metric + "_bucket", ['le="%s"' % check_str(name, "sli.le", le)])
        total = rate(metric + "_count")
        return "(%s - %s)" % (total, good), total
    raise RuleSpecError(name, "sli.type", "%r is not availability or latency (or give error_query and total_query)" % (kind,))


def _slo_recordings(name, selector, error_q, total_q, windows, objective, period):
    """Sloth-style recording rules: SLI error ratios per window plus objective/budget metadata."""
    budget = format_number(1 - objective / 100.0)
    rules = [{"record": "slo:sli_error:ratio_rate%s" % w,
              "expr": "%s / %s" % (substitute(name, "sli", error_q, {"window": w}), substitute(name, "sli", total_q, {"window": w}))}
             for w in windows]
    rules += [
        {"record": "slo:sli_error:ratio_rate%s" % period,
         "expr": "avg_over_time(slo:sli_error:ratio_rate%s{%s}[%s])" % (windows[0], selector, period)},
        {"record": "slo:objective:ratio", "expr": "vector(%s)" % format_number(objective / 100.0)},
        {"record": "slo:error_budget:ratio", "expr": "vector(%s)" % budget},
        {"record": "slo:time_period:days", "expr": "vector(%s)" % format_number(duration_seconds(period) / 86400.0)},
        {"record": "slo:current_burn_rate:ratio", "expr": "slo:sli_error:ratio_rate%s{%s} / %s" % (windows[0], selector, budget)},
        {"record": "slo:period_burn_rate:ratio", "expr": "slo:sli_error:ratio_rate%s{%s} / %s" % (period, selector, budget)},
        {"record": "slo:period_error_budget_remaining:ratio", "expr": "1 - slo:period_burn_rate:ratio{%s}" % selector},
    ]
    return rules


def _slo_alerts(name, spec, ctx, selector, windows, objective):
    budget = format_number(1 - objective / 100.0)
    alert_name = check_str(name, "alert_name", spec.get("alert_name")) or "%sErrorBudgetBurn" % camel_case(name)
    rules = []
    for window in windows:
        threshold = "(%s * %s)" % (format_number(window["burn_rate"]), budget)
        alert = {
            "name": alert_name,
            "expr": "slo:sli_error:ratio_rate%s{%s} > %s and slo:sli_error:ratio_rate%s{%s} > %s"
                    % (window["long"], selector, threshold, window["short"], selector, threshold),
            "severity": window["severity"],
            "labels": {"long_window": window["long"], "short_window": window["short"]},
            "summary": "SLO %s is burning its error budget %sx too fast." % (name, format_number(window["burn_rate"])),
            "description": ("Error ratio over the last %s is {{ $value | humanizePercentage }} (and over %s too); "
                            "the objective is %s%% over %s." % (
                                window["long"], window["short"], format_number(objective), spec.get("period", DEFAULT_PERIOD))),
            "runbook": spec.get("runbook"),
        }
        if window.get("for"):
            alert["for"] = window["for"]
        rules.append(build_alert(alert, ctx)[1])
    return rules


def _slo_rules(spec, ctx):
    """One SLO spec -> one group: recording rules first, then the alerts that read them (same evaluation cycle)."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if not isinstance(name, str) or not _SLO_NAME.match(name):
        raise RuleSpecError(name if isinstance(name, str) else "<unnamed>", "name", "an SLO needs a name matching [a-z0-9][a-z0-9_-]*")
    check_keys(name, spec, SLO_KEYS)
    objective = check_number(name, "objective", spec.get("objective"))
    if not 0 < objective < 100:
        raise RuleSpecError(name, "objective", "a percentage between 0 and 100 (exclusive), such as 99.9, got %r" % (objective,))
    period = check_duration(name, "period", spec.get("period", DEFAULT_PERIOD), True)
    windows = _windows(name, spec, period)
    by = check_label_names(name, "group_by", spec.get("group_by"))
    error_q, total_q = _sli_queries(name, spec.get("sli"), by)
    slo_labels = dict(check_labels(name, "labels", spec.get("labels")), slo=name)
    if spec.get("service") is not None:
        slo_labels["service"] = check_str(name, "service", spec["service"])
    selector = 'slo="%s"' % name
    durations = sorted({w[key] for w in windows for key in ("long", "short")}, key=duration_seconds)
    recordings = [dict(rule, expr=ctx.scope.apply(rule["expr"]), labels=dict(slo_labels))
                  for rule in _slo_recordings(name, selector, error_q, total_q, durations, objective, period)]
    alert_ctx = ctx.with_params(ctx.params)
    alert_ctx.labels = dict(ctx.labels, **slo_labels)
    alerts = _slo_alerts(name, spec, alert_ctx, selector, windows, objective)
    return [{"name": "slo-%s" % name, "rules": recordings + alerts}]


def slo_rule_groups(slos, ctx):
    """SLO specs -> one group per SLO with SLI recording rules and multi-window multi-burn-rate alerts."""
    if not isinstance(slos, list):
        raise RuleSpecError("<slos>", "slos", "expected a list of SLO specs, got %s" % type(slos).__name__)
    groups = []
    for spec in slos:
        if is_enabled(spec_name(spec), spec):
            groups.extend(_slo_rules(spec, ctx))
    return groups


# --------------------------------------------------------------------------- rule packs


def _index_packs(packs):
    """A list (or name -> pack mapping) of pack dicts -> ordered ``{name: pack}``, validated."""
    items = list(packs.values()) if isinstance(packs, dict) and "pack" not in packs else packs
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise RuleSpecError("<packs>", "packs", "expected a list of rule pack mappings")
    index = {}
    for pack in items:
        name = pack.get("pack") if isinstance(pack, dict) else None
        if not isinstance(name, str) or not _SLO_NAME.match(name):
            raise RuleSpecError("<pack>", "pack", "every rule pack needs a 'pack' name matching [a-z0-9][a-z0-9_-]*")
        check_keys(name, pack, PACK_KEYS)
        if name in index:
            raise RuleSpecError(name, "pack", "two rule packs have this name")
        index[name] = pack
    return index


def _pack_specs(pack):
    """``[(kind, spec), ...]`` of a pack: recording rules first, then alerts."""
    name = pack["pack"]
    specs = []
    for kind, key in (("record", "recording_rules"), ("alert", "alerts")):
        entries = pack.get(key) or []
        if not isinstance(entries, list):
            raise RuleSpecError(name, key, "expected a list")
        specs.extend((kind, entry) for entry in entries)
    return specs


def _rule_key(kind, spec):
    return spec.get("record") if kind == "record" else spec.get("name")


def _known_rule_names(index):
    names = {}
    for pack_name, pack in index.items():
        for kind, spec in _pack_specs(pack):
            key = _rule_key(kind, spec) if isinstance(spec, dict) else None
            if kind == "alert" and key in names:
                raise RuleSpecError(key, "name", "alert name used twice (packs %s and %s)" % (names[key], pack_name))
            names[key] = pack_name
    return names


def _merge_override(kind, spec, override):
    """A spec with an override applied; labels and annotations are merged key by key."""
    key = _rule_key(kind, spec)
    check_keys(key, override, RECORD_KEYS[1:] if kind == "record" else ALERT_KEYS[1:], "override key")
    merged = dict(spec)
    for field, value in override.items():
        if field in ("labels", "annotations") and isinstance(value, dict):
            merged[field] = dict(spec.get(field) or {}, **value)
        elif field in ("expr", "metric"):
            merged.pop("expr", None)
            merged.pop("metric", None)
            merged[field] = value
        else:
            merged[field] = value
    return merged


def _check_overrides(overrides, known):
    if not isinstance(overrides, dict):
        raise RuleSpecError("<overrides>", "overrides", "expected a mapping of rule name to changes")
    for name in overrides:
        if name not in known:
            raise RuleSpecError(name, "overrides", "no rule of this name in any rule pack")


def _check_enabled(enabled, index):
    if enabled is None:
        return list(index)
    if not isinstance(enabled, list):
        raise RuleSpecError("<packs>", "enabled", "expected a list of pack names")
    unknown = [name for name in enabled if name not in index]
    if unknown:
        raise RuleSpecError(unknown[0], "enabled", "no rule pack of this name; known packs: %s" % ", ".join(index))
    return enabled


def _pack_params(name, pack, params):
    defaults = pack.get("params") or {}
    given = params.get(name) or {}
    if not isinstance(defaults, dict) or not isinstance(given, dict):
        raise RuleSpecError(name, "params", "expected a mapping of parameter name to value")
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise RuleSpecError(name, "params", "unknown parameter %r; the pack knows: %s" % (unknown[0], ", ".join(sorted(defaults)) or "none"))
    return dict(defaults, **given)


def _pack_groups(pack, overrides, ctx, groups):
    """Add the rules of one pack to ``groups``: one group named after the pack, recording rules first,
    so alerts read recording rules of the same evaluation cycle (rules of a group run in order)."""
    name = pack["pack"]
    interval = check_duration(name, "interval", pack.get("interval"))
    for kind, spec in _pack_specs(pack):
        key = _rule_key(kind, spec) if isinstance(spec, dict) else None
        if key in overrides:
            spec = _merge_override(kind, spec, overrides[key])
        if is_enabled(key, spec):
            group, rule = build_record(spec, ctx) if kind == "record" else build_alert(spec, ctx)
            groups.add(group or name, rule, interval)


def rule_pack_groups(packs, ctx, enabled=None, overrides=None, extra_rules=None, slos=None, params=None):
    """Rule packs (+ user rules and SLOs) -> rule groups, with packs switched on/off and rules overridden."""
    index = _index_packs(packs)
    overrides = overrides or {}
    _check_overrides(overrides, _known_rule_names(index))
    params = params or {}
    if not isinstance(params, dict):
        raise RuleSpecError("<packs>", "params", "expected a mapping of pack name to parameters")
    for pack_name in params:
        if pack_name not in index:
            raise RuleSpecError(pack_name, "params", "no rule pack of this name")
    groups = GroupSet()
    for pack_name in _check_enabled(enabled, index):
        pack = index[pack_name]
        _pack_groups(pack, overrides, ctx.with_params(_pack_params(pack_name, pack, params)), groups)
    groups.extend(alert_rule_groups(extra_rules or [], ctx, default_group="custom.alerts"))
    groups.extend(slo_rule_groups(slos or [], ctx))
    return groups.as_list()
