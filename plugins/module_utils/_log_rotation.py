# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Log rotation of the files a log source reads: one logrotate file per source.

:func:`logrotate_configs` turns the ``rotate`` option of each source of a catalogue (merged over the role's
defaults) into the text of ``/etc/logrotate.d/monitoring-stack-<name>``. Rotation is always rename + create
(``nocopytruncate``, ``create <mode>``, ``delaycompress``): the renamed file keeps its inode, so Promtail and
Alloy finish reading it to its end, then start the new file at offset 0 under the same path. copytruncate
would race the writer (lines written between the copy and the truncation are lost) and makes the agents see
a shrunk file. Sources whose package rotates them already (nginx, PostgreSQL) and the journal are skipped
with the reason.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._log_sources import log_sources
from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError, unknown_keys_text

ROTATE_DEFAULTS = {
    "enabled": False,
    "frequency": "daily",
    "keep": 14,
    "compress": True,
    "create_mode": "0640",
    "owner": "",
    "group": "",
    "su": "",
    "max_size": "",
    "postrotate": "",
}
FREQUENCIES = ("hourly", "daily", "weekly", "monthly", "yearly")
MARKER = "Managed by monitoring.stack log_shipper"

# Source types whose OS package rotates the files itself: the logrotate.d names that show it, per OS family.
# Debian: nginx ships /etc/logrotate.d/nginx (rename + create, then USR1 to reopen); postgresql-common ships
# /etc/logrotate.d/postgresql-common (copytruncate). EL: nginx ships /etc/logrotate.d/nginx; PostgreSQL's
# logging collector rotates its own files (log_rotation_age), no logrotate at all.
PACKAGED = {
    "nginx_access": {"names": ["nginx"], "what": "the nginx package"},
    "nginx_error": {"names": ["nginx"], "what": "the nginx package"},
    "postgresql": {"names": ["postgresql-common", "postgresql"], "what": "the PostgreSQL packages"},
}
_NAME = re.compile(r"^[a-z_][a-z0-9_.-]*$")
_MODE = re.compile(r"^0?[0-7]{3}$")
_SIZE = re.compile(r"^[0-9]+[kMG]?$")


def _check_rotate(options, where):
    """``options`` (the defaults merged with a source's ``rotate``), checked; the normalised dict."""
    unknown = unknown_keys_text(options, set(ROTATE_DEFAULTS))
    if unknown:
        raise SpecError("%s: %s" % (where, unknown))
    out = dict(ROTATE_DEFAULTS, **{k: v for k, v in options.items() if v is not None})
    if not isinstance(out["enabled"], bool):
        raise SpecError("%s: enabled must be true or false" % where)
    if out["frequency"] not in FREQUENCIES:
        raise SpecError("%s: frequency must be one of %s, got '%s'" % (where, ", ".join(FREQUENCIES), out["frequency"]))
    if isinstance(out["keep"], bool) or not isinstance(out["keep"], int) or out["keep"] < 1:
        raise SpecError("%s: keep must be a number of rotated files (1 or more), got %r" % (where, out["keep"]))
    mode = str(out["create_mode"])
    if not _MODE.match(mode):
        raise SpecError("%s: create_mode must be an octal mode such as '0640', got '%s'" % (where, mode))
    out["create_mode"] = mode.rjust(4, "0")
    for key in ("owner", "group"):
        if out[key] and not _NAME.match(str(out[key])):
            raise SpecError("%s: %s '%s' is not a user or group name" % (where, key, out[key]))
    if bool(out["owner"]) != bool(out["group"]):
        raise SpecError("%s: give owner and group together (both empty: the new file gets the rotated file's)" % where)
    if out["su"] and (len(str(out["su"]).split()) != 2 or not all(_NAME.match(p) for p in str(out["su"]).split())):
        raise SpecError("%s: su must be 'user group', got '%s'" % (where, out["su"]))
    if out["max_size"] and not _SIZE.match(str(out["max_size"])):
        raise SpecError("%s: max_size must be a size such as 100M, got '%s'" % (where, out["max_size"]))
    if any(line.strip() == "endscript" for line in str(out["postrotate"]).splitlines()):
        raise SpecError("%s: postrotate must not contain an 'endscript' line" % where)
    return out


def _stanza(src, opts):
    lines = ["# %s: log source '%s' (%s)." % (MARKER, src["name"], src["type"]),
             "# Rename + create, never copytruncate: the agent reads the renamed file to its end (delaycompress keeps",
             "# it plain until the next rotation) and starts the new file at offset 0, so its positions stay right.",
             " ".join(src["paths"]) + " {",
             "    " + opts["frequency"],
             "    rotate %d" % opts["keep"],
             "    missingok",
             "    notifempty",
             "    nocopytruncate",
             "    create " + " ".join(p for p in (opts["create_mode"], opts["owner"], opts["group"]) if p)]
    if opts["compress"]:
        lines += ["    compress", "    delaycompress"]
    else:
        lines.append("    nocompress")
    if opts["max_size"]:
        lines.append("    maxsize %s" % opts["max_size"])
    if opts["su"]:
        lines.append("    su %s" % opts["su"])
    if opts["postrotate"]:
        lines += ["    sharedscripts", "    postrotate"]
        lines += ["        " + line for line in str(opts["postrotate"]).strip().splitlines()]
        lines.append("    endscript")
    lines.append("}")
    return "\n".join(lines) + "\n"


def logrotate_configs(catalogue, enabled=None, defaults=None, packaged=None, os_family="Debian", directory="/etc/logrotate.d"):
    """The logrotate files of the sources read on a host.

    ``catalogue`` and ``enabled`` as for :func:`log_sources`; ``defaults`` is merged under each source's ``rotate``;
    ``packaged`` lists the file names found in ``directory`` (``nginx``, ``postgresql-common``, ...) that show a
    package rotating a source's files. Returns ``{"files": [{"name", "dest", "content"}], "keep": [dest, ...],
    "skipped": [sentence, ...]}``.
    """
    base = _check_rotate(dict(defaults or {}), "log_shipper_rotate")
    present = set(packaged or [])
    family = "RedHat" if str(os_family) in ("RedHat", "Rocky", "AlmaLinux", "CentOS", "OracleLinux") else "Debian"
    raw = {}
    for item in catalogue if isinstance(catalogue, list) else []:
        if isinstance(item, dict) and item.get("rotate") is not None:
            raw[item.get("name")] = item["rotate"]
    if isinstance(catalogue, dict):
        raw = {k: v.get("rotate") for k, v in catalogue.items() if isinstance(v, dict) and v.get("rotate") is not None}
    files, skipped = [], []
    for src in log_sources(catalogue, enabled, os_family=os_family):
        where = "log source '%s' rotate" % src["name"]
        own = raw.get(src["name"])
        if own is not None and not isinstance(own, dict):
            raise SpecError("%s: must be a mapping (enabled, frequency, keep, ...)" % where)
        opts = _check_rotate(dict(base, **(own or {})), where)
        if not opts["enabled"]:
            continue
        if src["kind"] == "journal":
            if own and own.get("enabled"):
                raise SpecError("%s: a journal source has no files to rotate (journald rotates itself)" % where)
            continue
        if src["type"] == "postgresql" and family == "RedHat":
            skipped.append("%s: not rotated here, PostgreSQL's logging collector rotates its files (log_rotation_age)"
                           % src["name"])
            continue
        shipped = sorted(present & set(PACKAGED.get(src["type"], {}).get("names", [])))
        if shipped:
            skipped.append("%s: not rotated here, %s already does (%s/%s)"
                           % (src["name"], PACKAGED[src["type"]]["what"], directory, shipped[0]))
            continue
        if src["exclude"]:
            raise SpecError(
                "%s: the paths %s also match %s, which logrotate cannot leave out of a glob (read by another source "
                "or excluded); give this source paths that match only its own files, or rotate those files in the "
                "source that reads them" % (where, ", ".join(src["paths"]), ", ".join(src["exclude"])))
        files.append({"name": src["name"], "dest": "%s/monitoring-stack-%s" % (directory, src["name"]),
                      "content": _stanza(src, opts)})
    return {"files": files, "keep": [f["dest"] for f in files], "skipped": skipped}
