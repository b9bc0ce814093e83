# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PromQL expression helpers: scope injection (tenant or environment matchers) and operator detection.

A small PromQL lexer, not a full parser: it knows strings, comments, ranges, numbers and durations,
function calls, keywords and label lists, which is all a selector rewrite needs.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_label_names, check_labels

_KIND = "rule"
_MATCHER = re.compile(r"""^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*$""")


class Scope:
    """Label matchers injected into every vector selector and labels added to every ``by``/``on`` clause."""

    def __init__(self, selector=None, group_by=None):
        self.matchers = parse_selector(selector)
        given = check_label_names("<scope>", "group_by", group_by, kind=_KIND)
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
        labels = check_labels("<scope>", "selector", selector, kind=_KIND)
        return [(k, '%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))) for k, v in labels.items()]
    if not isinstance(selector, str):
        raise SpecError("<scope>", "selector", "expected a string of label matchers or a mapping", kind=_KIND)
    text = selector.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    result = []
    for part in _split_top(text, ","):
        match = _MATCHER.match(part)
        if not match:
            raise SpecError("<scope>", "selector", "%r is not a label matcher such as tenant_id=\"t1\"" % part.strip(), kind=_KIND)
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
        raise SpecError("<expr>", "expr", "unterminated string in %r" % text, kind=_KIND)
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
    raise SpecError("<expr>", "expr", "unbalanced %r in %r" % (open_char, text), kind=_KIND)


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
