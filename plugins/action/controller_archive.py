# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch a release archive into the controller cache, check its sha256 and unpack it, in one step.

Documentation: plugins/modules/controller_archive.py. Runs on the controller only; every write goes to a
private temporary name first and is renamed into place, so hosts (forks) and parallel runs that share the
cache never see half a file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import time
import zipfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.urls import open_url
from ansible.plugins.action import ActionBase

UNPACKED = ("tar.gz", "zip")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, target, timeout):
    """Copy url (file://, http://, https://) to target."""
    if url.startswith("file://"):
        shutil.copyfile(url[len("file://"):], target)
        return
    with open_url(url, timeout=timeout, validate_certs=True, follow_redirects="all") as response, \
            open(target, "wb") as handle:
        shutil.copyfileobj(response, handle)


def download(url, dest, checksum, timeout=60, retries=2, delay=3):
    """dest holds url's content with the given sha256 afterwards; True when it was downloaded now."""
    if os.path.isfile(dest) and sha256_of(dest) == checksum:
        return False
    directory = os.path.dirname(dest)
    error = ""
    for attempt in range(retries + 1):
        handle, partial = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(dest))
        os.close(handle)
        try:
            _fetch(url, partial, timeout)
            found = sha256_of(partial)
            if found != checksum:
                # A wrong pin is not fixed by trying again.
                raise AnsibleActionFail("the sha256 checksum of %s is %s, not the pinned %s: nothing was unpacked "
                                        "or installed" % (url, found, checksum))
            os.chmod(partial, 0o644)
            os.replace(partial, dest)
            return True
        except AnsibleActionFail:
            raise
        except Exception as exc:  # network or file errors: try again, then report the last one
            error = "%s: %s" % (type(exc).__name__, exc)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        if attempt < retries:
            time.sleep(delay)
    raise AnsibleActionFail("could not download %s after %d tries: %s" % (url, retries + 1, error))


def _inside(root, name):
    target = os.path.realpath(os.path.join(root, name))
    return target == root or target.startswith(root + os.sep)


def extract(archive, fmt, target):
    """Unpack archive into the empty directory target, refusing members that would land outside it."""
    root = os.path.realpath(target)
    if fmt == "tar.gz":
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if not _inside(root, member.name) or member.isdev() or (
                        (member.issym() or member.islnk())
                        and not _inside(root, os.path.join(os.path.dirname(member.name), member.linkname))):
                    raise AnsibleActionFail("%s: member %s points outside the unpack directory" % (archive, member.name))
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: members are checked above
                tar.extractall(target, members=members, filter="fully_trusted")
            else:
                tar.extractall(target, members=members)  # nosec: members checked above
        return
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            if not _inside(root, info.filename):
                raise AnsibleActionFail("%s: member %s points outside the unpack directory" % (archive, info.filename))
        for info in zipped.infolist():
            path = zipped.extract(info, target)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(path, mode | stat.S_IRUSR)


def unpack(archive, fmt, unpack_dir, creates):
    """unpack_dir holds the archive's files afterwards (creates exists); True when it was unpacked now."""
    if os.path.exists(creates):
        return False
    parent = os.path.dirname(unpack_dir.rstrip("/"))
    scratch = tempfile.mkdtemp(dir=parent, prefix=".unpack.")
    try:
        extract(archive, fmt, scratch)
        os.chmod(scratch, 0o755)
        if os.path.exists(creates):  # another run finished first
            return False
        if os.path.isdir(unpack_dir):  # a partial unpack of an older run
            shutil.rmtree(unpack_dir)
        os.rename(scratch, unpack_dir)
        scratch = None
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if not os.path.exists(creates):
        raise AnsibleActionFail("%s was unpacked, but %s is not in it" % (archive, creates))
    return True


class ActionModule(ActionBase):
    """The controller half of the archive install: cache directory, download, sha256, unpack."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("url", "dest", "checksum", "format", "unpack_dir", "creates", "timeout", "retries"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        for key in ("url", "dest", "checksum"):
            if not isinstance(args.get(key), str) or not args[key]:
                raise AnsibleActionFail("%s is required (a non-empty string)" % key)
        fmt = args.get("format") or "tar.gz"
        if fmt not in UNPACKED + ("binary", "tree"):
            raise AnsibleActionFail("format must be one of tar.gz, zip, binary, tree, not %s" % fmt)
        dest = os.path.abspath(os.path.expanduser(args["dest"]))
        checksum = args["checksum"].lower()
        os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
        downloaded = download(args["url"], dest, checksum, timeout=int(args.get("timeout") or 60),
                              retries=int(args.get("retries") if args.get("retries") is not None else 2))
        unpacked = False
        if fmt in UNPACKED:
            if not args.get("unpack_dir") or not args.get("creates"):
                raise AnsibleActionFail("format %s needs unpack_dir and creates" % fmt)
            unpacked = unpack(dest, fmt, os.path.abspath(args["unpack_dir"]), os.path.abspath(args["creates"]))
        # The controller cache is not the host's state: never "changed".
        result.update(changed=False, path=dest, downloaded=downloaded, unpacked=unpacked)
        return result
