# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A parser of the Grafana Alloy configuration syntax (formerly River).

Follows the documented grammar (Alloy ``docs/sources/get-started/configuration-syntax/``): a file is a
body of attributes (``name = expression``) and blocks (``name.part "label" { body }``), one statement per
line; ``//`` and ``/* */`` comments; expressions are strings (``"..."`` with Go escapes, raw backtick
strings), numbers, ``true``/``false``, ``null``, lists ``[a, b,]``, objects ``{ key = value, "k" = v }``,
identifiers and traversals (``a.b``, ``a[0]``), function calls ``f(x)`` and the operators
``|| && == != < <= > >= + - * / % ^ !`` with Alloy's precedence. Like Alloy's scanner, a newline ends a
statement or list element: a list, object or call that closes on a later line needs a trailing comma.

No PyPI or npm package parsing this grammar was found, so it is written here. It depends on the standard
library only (the Molecule tests load it by path). :func:`parse` returns the syntax tree or raises
:class:`AlloySyntaxError` with ``line:column``.
"""

from __future__ import annotations

import re


class AlloySyntaxError(ValueError):
    """A syntax error at ``line``:``column`` (1-based)."""

    def __init__(self, message, line=0, column=0):
        super().__init__("line %d:%d: %s" % (line, column, message) if line else message)
        self.line, self.column = line, column


_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r]+)
  | (?P<newline>\n)
  | (?P<comment>//[^\n]*)
  | (?P<blockcomment>/\*.*?\*/)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<rawstring>`[^`]*`)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[-+*/%^<>!=.,\[\](){}])
""", re.X | re.S)

_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"'}
_ESCAPE = re.compile(r"\\(?:(?P<simple>[abfnrtv\\\"])|x(?P<hex>[0-9A-Fa-f]{2})|u(?P<u4>[0-9A-Fa-f]{4})"
                     r"|U(?P<u8>[0-9A-Fa-f]{8})|(?P<oct>[0-7]{3})|(?P<bad>.?))", re.S)
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Binary operators, loosest first (Alloy: || ; && ; comparisons ; + - ; * / % ; ^ right-associative).
_BINARY = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"), ("^",)]
_KEYWORDS = {"true": True, "false": False, "null": None}


class _Tok:
    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind, text, line, col):
        self.kind, self.text, self.line, self.col = kind, text, line, col

    def __repr__(self):
        return "%s %r" % (self.kind, self.text)


def _unquote(text, line, col):
    def repl(match):
        if match.group("bad") is not None:
            raise AlloySyntaxError("unknown escape sequence \\%s in string" % match.group("bad"), line, col)
        if match.group("simple"):
            return _ESCAPES[match.group("simple")]
        code = match.group("hex") or match.group("u4") or match.group("u8")
        return chr(int(code, 16)) if code else chr(int(match.group("oct"), 8))
    return _ESCAPE.sub(repl, text[1:-1])


def tokens(text):
    """The tokens of ``text``; comments dropped, newlines kept (they end statements)."""
    out, pos, line, start = [], 0, 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        col = pos - start + 1
        if not match:
            char = text[pos]
            if char == '"':
                raise AlloySyntaxError("string literal not terminated", line, col)
            raise AlloySyntaxError("illegal character %r" % char, line, col)
        kind, value = match.lastgroup, match.group()
        if text.startswith("/*", pos) and kind != "blockcomment":
            raise AlloySyntaxError("comment not terminated", line, col)
        if kind == "newline":
            out.append(_Tok("newline", value, line, col))
        elif kind == "string":
            out.append(_Tok("string", _unquote(value, line, col), line, col))
        elif kind == "rawstring":
            out.append(_Tok("string", value[1:-1], line, col))
        elif kind in ("number", "ident", "op"):
            out.append(_Tok(kind, value, line, col))
        newlines = value.count("\n")
        if newlines:
            line += newlines
            start = pos + value.rfind("\n") + 1
        pos = match.end()
    out.append(_Tok("eof", "", line, pos - start + 1))
    return out


class _Parser:
    def __init__(self, text):
        self.toks = tokens(text)
        self.i = 0

    # -- helpers
    def peek(self, ahead=0):
        return self.toks[min(self.i + ahead, len(self.toks) - 1)]

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def fail(self, message, tok=None):
        tok = tok or self.peek()
        raise AlloySyntaxError(message, tok.line, tok.col)

    def describe(self, tok):
        return {"newline": "newline", "eof": "end of file"}.get(tok.kind, repr(tok.text))

    def expect(self, text, what=None):
        tok = self.peek()
        if tok.kind not in ("op",) or tok.text != text:
            self.fail("expected %s, got %s" % (what or repr(text), self.describe(tok)))
        return self.next()

    def skip_newlines(self):
        while self.peek().kind == "newline":
            self.next()

    def at(self, text):
        tok = self.peek()
        return tok.kind == "op" and tok.text == text

    # -- body
    def body(self, closing=None):
        stmts = []
        self.skip_newlines()
        while True:
            tok = self.peek()
            if tok.kind == "eof":
                if closing:
                    self.fail("expected '}' to close the block opened on line %d, got end of file" % closing.line)
                return stmts
            if closing and self.at("}"):
                return stmts
            stmts.append(self.statement())
            tok = self.peek()
            if tok.kind == "newline":
                self.skip_newlines()
            elif not (tok.kind == "eof" or (closing and self.at("}"))):
                self.fail("expected a newline after the statement, got %s" % self.describe(tok))

    def statement(self):
        first = self.peek()
        if first.kind != "ident":
            self.fail("expected an attribute or block name, got %s" % self.describe(first))
        parts = [self.next().text]
        while self.at("."):
            self.next()
            tok = self.next()
            if tok.kind != "ident":
                self.fail("expected an identifier after '.', got %s" % self.describe(tok), tok)
            parts.append(tok.text)
        tok = self.peek()
        if self.at("="):
            if len(parts) > 1:
                self.fail("attribute name %s must be a single identifier" % ".".join(parts), first)
            self.next()
            return {"type": "attribute", "name": parts[0], "value": self.expression(), "line": first.line}
        label = None
        if tok.kind == "string":
            label = self.next().text
            if not _LABEL.match(label):
                self.fail("block label %r must be a valid identifier" % label, tok)
        if not self.at("{"):
            self.fail("expected '=' (attribute) or '{' (block) after %s, got %s" % (".".join(parts), self.describe(self.peek())))
        opening = self.next()
        stmts = self.body(closing=opening)
        self.expect("}")
        return {"type": "block", "name": ".".join(parts), "label": label, "body": stmts, "line": first.line}

    # -- expressions
    def expression(self, level=0):
        if level == len(_BINARY):
            return self.unary()
        left = self.expression(level + 1)
        while self.peek().kind == "op" and self.peek().text in _BINARY[level]:
            op = self.next().text
            # ^ is right-associative.
            right = self.expression(level if op == "^" else level + 1)
            left = {"op": op, "left": left, "right": right}
            if op == "^":
                break
        return left

    def unary(self):
        if self.at("!") or self.at("-"):
            op = self.next().text
            return {"op": op, "operand": self.unary()}
        return self.postfix(self.primary())

    def postfix(self, value):
        while True:
            if self.at("."):
                self.next()
                tok = self.next()
                if tok.kind != "ident":
                    self.fail("expected a field name after '.', got %s" % self.describe(tok), tok)
                value = {"access": value, "field": tok.text}
            elif self.at("["):
                self.next()
                index = self.expression()
                self.expect("]")
                value = {"index": value, "key": index}
            elif self.at("("):
                self.next()
                value = {"call": value, "args": self.sequence(")", self.expression)}
            else:
                return value

    def primary(self):
        tok = self.peek()
        if tok.kind == "string":
            return self.next().text
        if tok.kind == "number":
            text = self.next().text
            return float(text) if any(c in text for c in ".eE") else int(text)
        if tok.kind == "ident":
            self.next()
            if tok.text in _KEYWORDS:
                return _KEYWORDS[tok.text]
            return {"ident": tok.text}
        if self.at("("):
            self.next()
            self.skip_newlines()
            value = self.expression()
            self.skip_newlines()
            self.expect(")")
            return {"paren": value}
        if self.at("["):
            self.next()
            return {"list": self.sequence("]", self.expression)}
        if self.at("{"):
            self.next()
            return {"object": dict(self.sequence("}", self.object_item))}
        self.fail("expected an expression, got %s" % self.describe(tok))
        return None

    def object_item(self):
        tok = self.next()
        if tok.kind not in ("ident", "string"):
            self.fail("expected an object key (identifier or string), got %s" % self.describe(tok), tok)
        if not self.at("="):
            self.fail("expected '=' after object key %r, got %s" % (tok.text, self.describe(self.peek())))
        self.next()
        return tok.text, self.expression()

    def sequence(self, closing, item):
        """Items separated by commas up to ``closing``; a newline may follow '(' '[' '{' or a comma only."""
        items = []
        self.skip_newlines()
        while not self.at(closing):
            if self.peek().kind == "eof":
                self.fail("expected %r, got end of file" % closing)
            items.append(item())
            if self.at(","):
                self.next()
                self.skip_newlines()
            elif not self.at(closing):
                tok = self.peek()
                self.fail("missing ',' before %s (a list, object or call closed on a later line needs a trailing comma)"
                          % self.describe(tok) if tok.kind == "newline"
                          else "expected ',' or %r, got %s" % (closing, self.describe(tok)))
        self.next()
        return items


def parse(text):
    """The syntax tree of an Alloy configuration: a list of statements (attributes and blocks)."""
    return _Parser(str(text)).body()


def blocks(tree, prefix=()):
    """Every block of ``tree`` (nested ones too) as ``(path of enclosing names + name, label)``."""
    out = []
    for stmt in tree:
        if stmt["type"] == "block":
            out.append((".".join(prefix + (stmt["name"],)), stmt["label"]))
            out.extend(blocks(stmt["body"], prefix + (stmt["name"],)))
    return out


def _traversal(node):
    parts = []
    while isinstance(node, dict) and "access" in node:
        parts.append(node["field"])
        node = node["access"]
    if isinstance(node, dict) and "ident" in node:
        return ".".join([node["ident"]] + parts[::-1])
    return None


def references(value):
    """The traversals (``loki.write.default.receiver``) an expression refers to, outermost only."""
    out = []
    if isinstance(value, dict):
        path = _traversal(value)
        if path is not None and ("access" in value or "ident" in value):
            return [path]
        if "call" in value:
            return [r for arg in value["args"] for r in references(arg)]
        for child in value.values():
            out.extend(references(child))
    elif isinstance(value, list):
        for child in value:
            out.extend(references(child))
    return out


def undeclared_references(tree):
    """References ``<component>.<label>.<export>`` to a component namespace the file uses but whose labelled
    block it does not declare (a dangling ``forward_to``)."""
    declared = {(name, label) for name, label in blocks(tree) if label}
    roots = {name.split(".", maxsplit=1)[0] for name, _label in declared}
    missing = []

    def walk(stmts):
        for stmt in stmts:
            if stmt["type"] == "block":
                walk(stmt["body"])
                continue
            for ref in references(stmt["value"]):
                if ref.split(".", maxsplit=1)[0] not in roots:
                    continue
                if not any(ref.startswith("%s.%s." % (name, label)) for name, label in declared):
                    missing.append(ref)
    walk(tree)
    return missing
