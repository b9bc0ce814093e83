# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets and TLS files of the scrape plan (module_utils/_scrape.py).

:class:`Secrets` moves the passwords and tokens of scrape jobs, alertmanagers and remote_write entries into
files (the config only refers to them through ``password_file`` / ``credentials_file``) and collects the TLS
files the config names, so that the role can copy and check them before the config lands.
"""

from __future__ import annotations

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, check_keys

KIND = "scrape job"
TLS_KEYS = ("ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify", "min_version", "max_version")
TLS_FILE_KEYS = ("ca_file", "cert_file", "key_file")
TLS_VERSIONS = ("TLS12", "TLS13")
BASIC_AUTH_KEYS = ("username", "password", "password_file")
AUTHORIZATION_KEYS = ("type", "credentials", "credentials_file")


def scrape_error(job, field, message):
    """The SpecError of a scrape job: ``scrape job <job>, field <field>: <message>``."""
    return SpecError(job, field, message, kind=KIND)


_error = scrape_error


def _check_keys(job, spec, allowed, field="job"):
    check_keys(job, spec, allowed, field, kind=KIND)


class Secrets:
    """Collects the secret files the role writes, and the TLS files the config refers to."""

    def __init__(self, directory):
        self.directory = directory.rstrip("/")
        self.files = []
        self.tls_files = []

    def add(self, name, content):
        path = "%s/%s" % (self.directory, name)
        self.files.append({"path": path, "content": str(content)})
        return path

    def http_auth(self, owner, spec, config):
        """Copy basic_auth / authorization of ``spec`` into ``config``, passwords moved to files."""
        basic = spec.get("basic_auth")
        if basic:
            _check_keys(owner, basic, BASIC_AUTH_KEYS, "basic_auth")
            if not basic.get("username"):
                raise _error(owner, "basic_auth.username", "a username is required")
            if bool(basic.get("password")) == bool(basic.get("password_file")):
                raise _error(owner, "basic_auth", "give exactly one of password (written to a 0640 file) or password_file")
            path = basic.get("password_file") or self.add("%s.basic_auth" % owner, basic["password"])
            config["basic_auth"] = {"username": str(basic["username"]), "password_file": path}
        authz = spec.get("authorization")
        if authz:
            if basic:
                raise _error(owner, "authorization", "basic_auth and authorization are mutually exclusive")
            _check_keys(owner, authz, AUTHORIZATION_KEYS, "authorization")
            if bool(authz.get("credentials")) == bool(authz.get("credentials_file")):
                raise _error(owner, "authorization", "give exactly one of credentials or credentials_file")
            path = authz.get("credentials_file") or self.add("%s.credentials" % owner, authz["credentials"])
            config["authorization"] = {"type": str(authz.get("type") or "Bearer"), "credentials_file": path}

    def tls(self, owner, spec, config):
        tls = spec.get("tls")
        if not tls:
            return
        _check_keys(owner, tls, TLS_KEYS, "tls")
        if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
            raise _error(owner, "tls", "cert_file and key_file go together (client certificate)")
        for key in ("min_version", "max_version"):
            if key in tls and tls[key] not in TLS_VERSIONS:
                raise _error(owner, "tls." + key, "expected one of %s, got %r" % (", ".join(TLS_VERSIONS), tls[key]))
        result = {key: tls[key] for key in TLS_KEYS if tls.get(key) not in (None, "")}
        result.setdefault("min_version", "TLS12")
        for key in TLS_FILE_KEYS:
            if key in result:
                if not str(result[key]).startswith("/"):
                    raise _error(owner, "tls." + key, "needs an absolute path on the Prometheus host, got %r" % (result[key],))
                if result[key] not in self.tls_files:
                    self.tls_files.append(result[key])
        if "insecure_skip_verify" in result:
            result["insecure_skip_verify"] = bool(result["insecure_skip_verify"])
        config["tls_config"] = result
