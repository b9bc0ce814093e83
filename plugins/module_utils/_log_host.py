# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the log sources of a catalogue read on one host.

* :data:`OS_FAMILY_SOURCES`: where nginx and PostgreSQL write their logs, and how an agent gets to read them,
  per OS family (Debian: the ``adm`` group; EL: read ACLs, and traverse ACLs down to PostgreSQL's data
  directory).
* :func:`host_timezone`: the host's IANA time zone, for timestamps written in local time without a zone.
* :func:`exclusive_sources` / :func:`source_overlaps`: every file is read by one source only. A source whose
  glob covers another source's more specific path gets that path as an exclusion (Promtail and Alloy:
  ``__path_exclude__``); paths that still overlap are reported.
"""

from __future__ import annotations

import re

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError

# Per OS family: type -> defaults merged over _log_sources.SOURCE_TYPES. ``traverse_paths`` get an
# execute-only ACL (no listing, not inherited) so the agent can reach a log directory below them.
OS_FAMILY_SOURCES = {
    "Debian": {
        # /var/log/nginx is 0755 root:adm, logs 0640 www-data:adm: the adm group reads them.
        "nginx_access": {"paths": ["/var/log/nginx/*access.log"], "acl": False},
        "nginx_error": {"paths": ["/var/log/nginx/*error.log"], "acl": False},
        # /var/log/postgresql is 1775 root:postgres, logs 0640 postgres:adm.
        "postgresql": {"paths": ["/var/log/postgresql/postgresql-*.log"], "acl": True},
    },
    "RedHat": {
        # EL9: /var/log/nginx is 0711 root:root (no listing for a glob), logs owned by nginx/root.
        "nginx_access": {"paths": ["/var/log/nginx/*access.log"], "acl": True},
        "nginx_error": {"paths": ["/var/log/nginx/*error.log"], "acl": True},
        # EL9: the logging collector writes under the 0700 data directory (log_file_mode 0600 by default:
        # set log_file_mode = 0640 so the inherited read ACL takes effect on new files).
        "postgresql": {"paths": ["/var/lib/pgsql/data/log/postgresql-*.log"], "acl": True,
                       "traverse_paths": ["/var/lib/pgsql", "/var/lib/pgsql/data"]},
    },
}
OS_FAMILY_ALIASES = {"Ubuntu": "Debian", "Rocky": "RedHat", "AlmaLinux": "RedHat", "CentOS": "RedHat", "OracleLinux": "RedHat"}


def os_family_sources(os_family):
    """The per-type defaults of ``os_family`` (Debian, RedHat or an alias such as Rocky)."""
    family = OS_FAMILY_ALIASES.get(str(os_family or "Debian"), str(os_family or "Debian"))
    if family not in OS_FAMILY_SOURCES:
        raise SpecError("os_family must be one of %s (or %s), got '%s'"
                        % (", ".join(sorted(OS_FAMILY_SOURCES)), ", ".join(sorted(OS_FAMILY_ALIASES)), os_family))
    return OS_FAMILY_SOURCES[family]


# --------------------------------------------------------------------------- time zone

_ZONE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_+-]*)(?:/[A-Za-z0-9_+-]+){0,2}$")
_ZONEINFO = re.compile(r"(?:^|/)zoneinfo/(?:posix/|right/)?(?P<zone>.+)$")


def check_timezone(zone, where="timezone"):
    """An IANA zone name (``Europe/Paris``, ``UTC``); abbreviations such as ``CET`` or ``EST5EDT`` are ambiguous for Go."""
    zone = str(zone or "").strip()
    if not _ZONE.match(zone) or (zone.isupper() and zone not in ("UTC", "GMT")) or re.search(r"\d[A-Z]", zone):
        raise SpecError("%s: '%s' is not an IANA time zone name such as Europe/Paris or UTC" % (where, zone))
    return zone


def host_timezone(localtime_link="", timezone_file="", default="UTC"):
    """The host's IANA zone: the target of /etc/localtime (``../usr/share/zoneinfo/Europe/Paris``),
    else the content of /etc/timezone (Debian), else ``default``."""
    match = _ZONEINFO.search(str(localtime_link or "").strip())
    if match:
        try:
            return check_timezone(match.group("zone"))
        except SpecError:
            pass
    for line in str(timezone_file or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                return check_timezone(line)
            except SpecError:
                break
    return check_timezone(default, "default timezone")


# --------------------------------------------------------------------------- exclusive globs

def glob_regex(pattern):
    """A doublestar glob (``*``, ``?``, ``[...]``, ``{a,b}``, ``**``) as an anchored regular expression."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if pattern.startswith("/", i):
                out.append("/?")
                i += 1
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1:end]
                out.append("[%s%s]" % ("^" if body.startswith(("!", "^")) else "", re.escape(body.lstrip("!^"))))
                i = end
        elif char == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                out.append("(?:%s)" % "|".join(glob_regex(alt)[1:-1] for alt in pattern[i + 1:end].split(",")))
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "^%s$" % "".join(out)


def covers(general, specific):
    """True when the glob ``general`` matches every path ``specific`` matches (tested on its text, wildcards as is)."""
    return general == specific or bool(re.match(glob_regex(general), specific))


def overlap(one, other):
    """True when the globs may match a common path (one covers the other's text)."""
    return covers(one, other) or covers(other, one)


def _excluded(path, excludes):
    return any(covers(exclude, path) for exclude in excludes)


def exclusive_sources(sources):
    """Add to each file source the paths of other sources its globs strictly cover (the more specific source
    keeps the file). Returns the sources (changed in place); :func:`source_overlaps` reports what is left."""
    files = [s for s in sources if s.get("kind") == "file"]
    for src in files:
        for other in files:
            if other is src:
                continue
            for path in other["paths"]:
                strict = any(covers(mine, path) and not covers(path, mine) for mine in src["paths"])
                if strict and not _excluded(path, src["exclude"]):
                    src["exclude"].append(path)
    return sources


def source_overlaps(sources):
    """Pairs of file sources that still read the same files: ``["odoo and audit: /var/log/odoo/*.log ~ ..."]``."""
    files = [s for s in sources if s.get("kind") == "file"]
    problems = []
    for i, src in enumerate(files):
        for other in files[i + 1:]:
            for mine in src["paths"]:
                for theirs in other["paths"]:
                    if not overlap(mine, theirs):
                        continue
                    if _excluded(theirs, src["exclude"]) or _excluded(mine, other["exclude"]):
                        continue
                    problems.append("log sources '%s' and '%s' both read %s ~ %s: give one of them an 'exclude' "
                                    "(or narrower paths), or every line is shipped twice"
                                    % (src["name"], other["name"], mine, theirs))
    return problems
