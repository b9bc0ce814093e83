# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine's daemon descriptor: defaults, checks and every derived path.

A role describes each daemon it runs with ONE descriptor (``_<role>_daemon`` in its
``vars/main.yml``). ``daemon_plan`` fills the defaults, refuses unknown keys and derives
everything the engine's steps need (binary path, download, controller cache, readiness
port), so no engine step depends on a fact another step set.
"""

from __future__ import annotations

import difflib
import posixpath
import re

from ansible_collections.monitoring.stack.plugins.module_utils._common import CommonError, go_arch

INSTALL_SOURCES = ("archive", "package", "binary")
ARCHIVE_FORMATS = ("tar.gz", "zip", "binary", "tree")

DEFAULTS = {
    "service": None,          # unit name; required
    "role": None,             # tag prefix and handler owner; defaults to service
    "description": "",
    "documentation": "",
    "user": None,             # required
    "group": None,            # defaults to user
    "user_groups": [],
    "packages": [],           # OS packages the daemon needs besides itself (libraries, tools)
    "user_home": "/nonexistent",
    "directories": [],
    "install_source": "archive",
    "version": "",
    "archive_url": "",
    "archive_checksums": {},
    "archive_format": "tar.gz",
    "archive_binaries": [],
    "archive_tree_dir": "",
    "package_name": "",
    "package_service": "",
    "package_binary": "",
    "package_tools": {},
    "binary_path": "",
    "config_dir": "",
    "web": None,
    "site_tls": False,        # serve HTTPS with monitoring_stack_tls without an exporter-toolkit web config
    "exec_args": [],
    "environment_file": "",
    "read_write_paths": [],
    "reloadable": False,
    "unit_hardening": {},
    "unit_extra": {},
    "listen": "",
    "ready_timeout": 60,
    "preflight": "",          # the role's own checks: a task file in its tasks/, run first
    "install": "",            # the role's own install steps: a task file in its tasks/, after the engine's
    "configure": "",          # the role's own configuration: a task file in its tasks/, after the web config
}
_REQUIRED = ("service", "user")
_WEB_KEYS = ("tls", "tls_files", "users")
_LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]*\]|[^:\[\]]*):(?P<port>[0-9]{1,5})$")


def _suggest(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return "; did you mean %r?" % close[0] if close else ""


def listen_parts(address):
    """Split ``[host]:port`` into the address a local client uses and the port.

    A wildcard or empty host gives 127.0.0.1 (``[::]`` gives ``::1``).
    """
    match = _LISTEN.match(str(address or ""))
    if not match:
        raise CommonError("listen address %r is not [host]:port" % (address,))
    host = match.group("host").strip("[]")
    port = int(match.group("port"))
    if not 0 < port < 65536:
        raise CommonError("listen address %r: port out of range" % (address,))
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return host, port


def _check(desc):
    unknown = sorted(set(desc) - set(DEFAULTS))
    if unknown:
        raise CommonError("daemon descriptor: unknown key(s) %s%s" % (
            ", ".join(unknown), _suggest(unknown[0], list(DEFAULTS))))
    for key in _REQUIRED:
        if not desc.get(key):
            raise CommonError("daemon descriptor: %r is required" % key)
    name = desc["service"]
    if desc["install_source"] not in INSTALL_SOURCES:
        raise CommonError("%s: install source must be one of %s, got %r" % (
            name, ", ".join(INSTALL_SOURCES), desc["install_source"]))
    if desc["archive_format"] not in ARCHIVE_FORMATS:
        raise CommonError("%s: archive_format must be one of %s" % (name, ", ".join(ARCHIVE_FORMATS)))
    timeout = desc["ready_timeout"]
    if isinstance(timeout, str) and timeout.isdigit():
        timeout = desc["ready_timeout"] = int(timeout)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 3600:
        raise CommonError("%s: ready_timeout (monitoring_stack_ready_timeout) must be whole seconds 1-3600, got %r"
                          % (name, timeout))
    if desc["install_source"] == "package" and not desc["package_name"]:
        raise CommonError("%s: install source 'package' needs a package name" % name)
    if desc["install_source"] == "binary" and not desc["binary_path"]:
        raise CommonError("%s: install source 'binary' needs a binary path" % name)
    if desc["install_source"] == "archive":
        if not desc["archive_binaries"]:
            raise CommonError("%s: install source 'archive' needs archive_binaries" % name)
        if desc["archive_format"] == "tree" and not desc["archive_tree_dir"]:
            raise CommonError("%s: archive_format 'tree' needs archive_tree_dir" % name)
    web = desc["web"]
    if web is not None:
        if not isinstance(web, dict) or set(web) - set(_WEB_KEYS):
            raise CommonError("%s: web takes the keys %s" % (name, ", ".join(_WEB_KEYS)))
        if not desc["config_dir"]:
            raise CommonError("%s: a web config needs config_dir" % name)


TLS_KEYS = ("ca_file", "cert_file", "key_file", "min_version")


def site_tls(tls, config_dir):
    """The web TLS of a daemon from the collection-wide ``monitoring_stack_tls``.

    ``tls`` holds controller paths (``ca_file``, ``cert_file``, ``key_file``; ``min_version``
    optional). Returns ``(tls_server_config, tls_files, ca_path)``: the files go to
    ``<config_dir>/tls/`` (the key 0640 root:<group>), ``ca_path`` is where the CA lands on the
    host, for the daemon's own clients (Prometheus scraping, Grafana datasources, hooks).
    """
    if not tls:
        return {}, [], ""
    if not isinstance(tls, dict):
        raise CommonError("monitoring_stack_tls must be a dict of %s, got %r" % (", ".join(TLS_KEYS), tls))
    unknown = sorted(set(tls) - set(TLS_KEYS))
    if unknown:
        raise CommonError("monitoring_stack_tls: unknown key(s) %s%s" % (
            ", ".join(unknown), _suggest(unknown[0], TLS_KEYS)))
    missing = [key for key in ("ca_file", "cert_file", "key_file") if not tls.get(key)]
    if missing:
        raise CommonError("monitoring_stack_tls needs %s (controller paths of the CA certificate, this host's "
                          "certificate and its key)" % ", ".join(missing))
    base = posixpath.join(config_dir, "tls")
    server = {"cert_file": base + "/server.crt", "key_file": base + "/server.key",
              "min_version": tls.get("min_version") or "TLS12"}
    files = [{"src": tls["ca_file"], "dest": base + "/ca.crt", "secret": False},
             {"src": tls["cert_file"], "dest": base + "/server.crt", "secret": False},
             {"src": tls["key_file"], "dest": base + "/server.key", "secret": True}]
    return server, files, base + "/ca.crt"


def daemon_plan(descriptor, architecture="", binary_dir="/usr/local/bin", cache_dir="", mirror_url="",
                require_archive=True, tls=None, ready_timeout=None):
    """Return the descriptor with defaults filled in and the derived values added.

    Derived keys: ``role``, ``group``, ``binary`` (the daemon's path on the host for the
    chosen install source), ``tools`` (name -> path of the other binaries, e.g. promtool),
    ``arch``, ``archive_name``, ``archive_checksum``, ``download_url``, ``unpack_dir``,
    ``copies`` (``[{src, dest}]`` controller -> host), ``ready_host``/``ready_port`` (from
    ``listen``) and ``handlers`` (``restart``/``reload`` handler names).

    ``tls`` is ``monitoring_stack_tls``: a daemon with a web config and no TLS of its own serves
    HTTPS with the site's certificate (see ``site_tls``); ``ca_file`` is then the CA's path on the
    host, else empty.

    With ``require_archive=False`` (the handlers, which need only the unit and its port) the
    archive values are left empty instead of failing for a missing architecture or checksum.

    ``ready_timeout`` is ``monitoring_stack_ready_timeout``: the readiness wait of every daemon whose
    descriptor does not set its own (Grafana's migrations need longer and say so).
    """
    if not isinstance(descriptor, dict):
        raise CommonError("daemon descriptor must be a dict, got %s" % type(descriptor).__name__)
    desc = dict(DEFAULTS)
    if ready_timeout is not None and "ready_timeout" not in descriptor:
        desc["ready_timeout"] = ready_timeout
    desc.update(descriptor)
    _check(desc)
    name = desc["service"]
    desc["role"] = desc["role"] or name
    desc["group"] = desc["group"] or desc["user"]
    desc["handlers"] = {"restart": "Restart %s" % name, "reload": "Reload %s" % name}
    desc["ca_file"] = ""
    desc["tls_server"] = {}
    desc["tls_files"] = []
    web = desc["web"]
    if tls and (web is not None or desc["site_tls"]):
        if not desc["config_dir"]:
            raise CommonError("%s: site TLS needs config_dir" % name)
        server, files, ca_path = site_tls(tls, desc["config_dir"])
        desc["ca_file"] = ca_path
        desc["directories"] = list(desc["directories"]) + [{"path": posixpath.dirname(ca_path), "mode": "0750"}]
        if web is None:
            # The role puts tls_server (cert_file, key_file, min_version) into its own config.
            desc["tls_server"], desc["tls_files"] = server, files
        elif not web.get("tls") and not web.get("tls_files"):
            desc["web"] = dict(web, tls=server, tls_files=files)
    # Owner root, group the service's, mode 0750 unless the descriptor says otherwise: one
    # monitoring.stack.directories call makes them all.
    desc["directories"] = [dict({"owner": "root", "group": desc["group"], "mode": "0750"}, **d)
                           for d in desc["directories"]]
    if desc["listen"]:
        desc["ready_host"], desc["ready_port"] = listen_parts(desc["listen"])
    else:
        desc["ready_host"], desc["ready_port"] = "", 0
    source = desc["install_source"]
    desc.update({"arch": "", "archive_name": "", "archive_checksum": "", "download_url": "",
                 "unpack_dir": "", "copies": [], "tools": {}})
    if source == "archive" and (require_archive or architecture):
        _archive(desc, architecture, binary_dir, cache_dir, mirror_url)
    elif source == "archive":
        desc["binary"] = posixpath.join(binary_dir, desc["archive_binaries"][0]["dest"])
    elif source == "package":
        desc["binary"] = desc["package_binary"]
        desc["tools"] = dict(desc["package_tools"])
    else:
        desc["binary"] = desc["binary_path"]
        base = posixpath.dirname(desc["binary_path"])
        desc["tools"] = {posixpath.basename(b["dest"]): posixpath.join(base, posixpath.basename(b["dest"]))
                         for b in desc["archive_binaries"][1:]}
    return desc


def _archive(desc, architecture, binary_dir, cache_dir, mirror_url):
    name = desc["service"]
    if not architecture:
        raise CommonError("%s: the archive install needs the host's architecture: gather facts "
                          "(gather_subset: ['!all', 'min'] is enough)" % name)
    arch = go_arch(architecture)
    desc["arch"] = arch
    checksum = str((desc["archive_checksums"] or {}).get(arch, ""))
    if not re.match(r"^[0-9a-f]{64}$", checksum):
        raise CommonError("%s %s: no sha256 is pinned for architecture %s. Set %s_checksums.%s to the sha256 "
                          "from the release's checksum file." % (name, desc["version"], arch, desc["role"], arch))
    url = desc["archive_url"].replace("{arch}", arch)
    archive = posixpath.basename(url.split("?", 1)[0])
    desc["archive_name"] = archive
    desc["archive_checksum"] = checksum
    desc["download_url"] = (mirror_url.rstrip("/") + "/" + archive) if mirror_url else url
    desc["unpack_dir"] = "%s/%s-%s-%s-%s" % (cache_dir.rstrip("/"), name, desc["version"], arch, checksum[:12])
    fmt = desc["archive_format"]
    if fmt == "tree":
        root = desc["archive_tree_dir"].rstrip("/")
        desc["binary"] = posixpath.join(root, desc["archive_binaries"][0]["src"])
        desc["tools"] = {posixpath.basename(b["dest"]): posixpath.join(root, b["src"])
                         for b in desc["archive_binaries"][1:]}
        return
    copies = []
    for item in desc["archive_binaries"]:
        src = archive if fmt == "binary" else item["src"].replace("{arch}", arch)
        base = cache_dir.rstrip("/") if fmt == "binary" else desc["unpack_dir"]
        copies.append({"src": "%s/%s" % (base, src), "dest": posixpath.join(binary_dir, item["dest"])})
    desc["copies"] = copies
    desc["binary"] = copies[0]["dest"]
    desc["tools"] = {posixpath.basename(c["dest"]): c["dest"] for c in copies[1:]}
