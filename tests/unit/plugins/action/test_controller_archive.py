"""controller_archive: one controller step that caches, checks and unpacks a release archive."""

import hashlib
import importlib
import io
import os
import tarfile
import zipfile

import pytest
from ansible.errors import AnsibleActionFail

MOD = importlib.import_module("ansible_collections.monitoring.stack.plugins.action.controller_archive")


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(name="release")
def fixture_release(tmp_path):
    src = tmp_path / "mirror" / "tool-1.0.linux-amd64.tar.gz"
    src.parent.mkdir()
    checksum = _tar(str(src), [("tool-1.0.linux-amd64/tool", b"#!/bin/sh\necho tool\n", 0o755),
                               ("tool-1.0.linux-amd64/LICENSE", b"license\n", 0o644)])
    return "file://%s" % src, checksum, tmp_path / "cache"


def test_downloads_checks_and_unpacks_once(release):
    url, checksum, cache = release
    cache.mkdir()
    dest = str(cache / "tool.tar.gz")
    assert MOD.download(url, dest, checksum) is True
    assert MOD.download(url, dest, checksum) is False, "the cached archive with the right sha256 is reused"
    unpack_dir, creates = str(cache / "tool-1.0"), str(cache / "tool-1.0" / "tool-1.0.linux-amd64" / "tool")
    assert MOD.unpack(dest, "tar.gz", unpack_dir, creates) is True
    assert os.access(creates, os.X_OK), "the executable bit survives"
    assert MOD.unpack(dest, "tar.gz", unpack_dir, creates) is False
    assert not [n for n in os.listdir(str(cache)) if n.startswith(".")], "no scratch files left in the cache"


def test_a_wrong_checksum_fails_and_keeps_nothing(release):
    url, _checksum, cache = release
    cache.mkdir()
    dest = str(cache / "tool.tar.gz")
    with pytest.raises(AnsibleActionFail, match="not the pinned 0000"):
        MOD.download(url, dest, "0" * 64, retries=0)
    assert os.listdir(str(cache)) == []


def test_a_cached_file_with_another_checksum_is_replaced(release):
    url, checksum, cache = release
    cache.mkdir()
    dest = cache / "tool.tar.gz"
    dest.write_bytes(b"truncated")
    assert MOD.download(url, str(dest), checksum) is True
    assert MOD.sha256_of(str(dest)) == checksum


def test_an_unreachable_url_is_tried_again_then_reported(tmp_path):
    with pytest.raises(AnsibleActionFail, match="after 2 tries"):
        MOD.download("file://%s/missing.tar.gz" % tmp_path, str(tmp_path / "x.tar.gz"), "0" * 64, retries=1, delay=0)


def test_members_outside_the_unpack_directory_are_refused(tmp_path):
    archive = str(tmp_path / "evil.tar.gz")
    _tar(archive, [("../escape", b"x", 0o644)])
    with pytest.raises(AnsibleActionFail, match="outside"):
        MOD.unpack(archive, "tar.gz", str(tmp_path / "out"), str(tmp_path / "out" / "escape"))
    assert not (tmp_path / "escape").exists() and not (tmp_path / "out").exists()


def test_zip_keeps_the_executable_bit(tmp_path):
    archive = str(tmp_path / "tool.zip")
    with zipfile.ZipFile(archive, "w") as zipped:
        info = zipfile.ZipInfo("tool")
        info.external_attr = 0o755 << 16
        zipped.writestr(info, "#!/bin/sh\n")
    unpack_dir = str(tmp_path / "tool")
    assert MOD.unpack(archive, "zip", unpack_dir, os.path.join(unpack_dir, "tool")) is True
    assert os.access(os.path.join(unpack_dir, "tool"), os.X_OK)
