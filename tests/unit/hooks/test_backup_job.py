# -*- coding: utf-8 -*-
# Copyright: (c) monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# pylint: disable=missing-function-docstring  # test names say what they check
"""Unit tests for roles/backup_monitor/files/backup-job (the job runner of the systemd units).

backup-job is run as a child process (it installs signal handlers); a fake
backup-metrics records its calls, and fake PostgreSQL client tools stand in for the
restore test.
"""

import json
import os
import stat
import subprocess
import sys
import tarfile

import pytest
import role_script

JOB = role_script.path("backup_monitor", "backup-job")

FAKE_TOOL = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
with open({log!r}, "a") as handle:
    handle.write(json.dumps([name] + sys.argv[1:]) + "\\n")
behaviour = json.loads(os.environ.get("FAKE_BEHAVIOUR", "{{}}")).get(name, {{}})
sys.stdout.write(behaviour.get("stdout", ""))
sys.exit(behaviour.get("exit", 0))
"""


def write_tool(directory, name, log):
    """A fake program that appends its argv to log and behaves per $FAKE_BEHAVIOUR."""
    path = directory / name
    path.write_text(FAKE_TOOL.format(python=sys.executable, log=str(log)), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class Setup:
    """A job directory, a backup directory, a fake hook and fake PostgreSQL tools."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.jobs = tmp_path / "jobs"
        self.jobs.mkdir()
        self.log = tmp_path / "calls.log"
        self.hook = write_tool(self.bin, "backup-metrics", self.log)
        for tool in ("pg_dump", "dropdb", "createdb", "pg_restore", "psql"):
            write_tool(self.bin, tool, self.log)

    def job(self, **values):
        """Write a job description; return its path."""
        values.setdefault("hook", str(self.hook))
        values.setdefault("backup_dir", str(self.tmp / "backups" / values["name"]))
        path = self.jobs / f"{values['name']}.json"
        path.write_text(json.dumps(values), encoding="utf-8")
        return path

    def run(self, path, behaviour=None):
        """Run backup-job; return the completed process."""
        env = dict(os.environ, PATH=f"{self.bin}:{os.environ['PATH']}", FAKE_BEHAVIOUR=json.dumps(behaviour or {}))
        return subprocess.run([sys.executable, JOB, str(path)], env=env, capture_output=True, text=True, timeout=60, check=False)

    def calls(self, name=None):
        """Recorded calls of the fake tools, optionally of one tool."""
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        return [call for call in calls if name is None or call[0] == name]


@pytest.fixture(name="setup")
def fixture_setup(tmp_path):
    """A fresh fake environment."""
    return Setup(tmp_path)


def test_usage_error_exits_2(setup):
    result = subprocess.run([sys.executable, JOB], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "usage: backup-job JOB.json" in result.stderr
    assert setup.calls() == []


def test_command_job_success_renames_the_result_and_reports_it(setup):
    path = setup.job(name="app", type="command", command='printf 12345 > "$BACKUP_OUTPUT"', extension=".txt",
                     labels={"team": "ops"}, expected_max_duration=600)
    result = setup.run(path)
    assert result.returncode == 0, result.stderr
    (produced,) = os.listdir(setup.tmp / "backups" / "app")
    assert produced.startswith("app-") and produced.endswith("Z.txt")
    start, finish = setup.calls("backup-metrics")
    assert start == ["backup-metrics", "start", "--job", "app", "--label", "team=ops"]
    output = str(setup.tmp / "backups" / "app" / produced)
    assert finish == ["backup-metrics", "finish", "--job", "app", "--label", "team=ops", "--exit-code", "0",
                      "--output", output, "--expected-max-duration", "600"]


def test_command_job_failure_keeps_its_exit_code_and_reports_no_output(setup):
    path = setup.job(name="app", type="command", command='echo partial > "$BACKUP_OUTPUT"; exit 3')
    result = setup.run(path)
    assert result.returncode == 3
    assert os.listdir(setup.tmp / "backups" / "app") == []
    finish = setup.calls("backup-metrics")[-1]
    assert finish[1] == "finish"
    assert finish[finish.index("--exit-code") + 1] == "3"
    assert "--output" not in finish


def test_retention_keeps_the_newest_results_and_removes_partials(setup):
    backups = setup.tmp / "backups" / "db"
    backups.mkdir(parents=True)
    for day in range(1, 6):
        (backups / f"db-2024010{day}T000000Z.dump").write_text("old", encoding="utf-8")
    (backups / "db-20240109T000000Z.dump.partial").write_text("stale", encoding="utf-8")
    (backups / "other-20240101T000000Z.dump").write_text("not ours", encoding="utf-8")
    path = setup.job(name="db", type="pg_dump", database="app", retention=2)
    result = setup.run(path, {"pg_dump": {"exit": 0}})
    # The fake pg_dump writes nothing: a producer that exits 0 without a result is a failure.
    assert result.returncode == 1
    assert sorted(os.listdir(backups)) == ["db-20240101T000000Z.dump", "db-20240102T000000Z.dump", "db-20240103T000000Z.dump",
                                           "db-20240104T000000Z.dump", "db-20240105T000000Z.dump", "other-20240101T000000Z.dump"]
    (pg_dump,) = setup.calls("pg_dump")
    assert pg_dump[1] == "--format=custom"
    assert pg_dump[2].startswith("--file=" + str(backups / "db-")) and pg_dump[2].endswith(".dump.partial")
    assert pg_dump[-1] == "app"
    path = setup.job(name="db", type="command", command="true", retention=2, extension=".dump")
    assert setup.run(path).returncode == 0
    assert sorted(os.listdir(backups)) == ["db-20240104T000000Z.dump", "db-20240105T000000Z.dump", "other-20240101T000000Z.dump"]


def test_files_job_writes_a_tar_gz_of_the_paths(setup):
    source = setup.tmp / "etc-like"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "config").write_text("key=value\n", encoding="utf-8")
    path = setup.job(name="sysfiles", type="files", paths=[str(source)], exclude=["*.tmp"])
    result = setup.run(path)
    assert result.returncode == 0, result.stderr
    (archive,) = os.listdir(setup.tmp / "backups" / "sysfiles")
    assert archive.endswith(".tar.gz")
    with tarfile.open(setup.tmp / "backups" / "sysfiles" / archive) as tar:
        assert str(source / "sub" / "config").lstrip("/") in tar.getnames()


def test_restore_test_without_a_dump_fails_under_the_source_job_name(setup):
    setup.job(name="db", type="pg_dump", database="app")
    path = setup.job(name="db_restore", type="pg_restore_test", source_job="db")
    result = setup.run(path)
    assert result.returncode == 1
    assert "no finished dump" in result.stderr
    (report,) = setup.calls("backup-metrics")
    assert report[:5] == ["backup-metrics", "restore-test", "--job", "db", "--status"]
    assert report[5] == "failed"
    assert setup.calls("createdb") == []


def make_dump(setup):
    """A source job with two finished dumps; return the newest."""
    setup.job(name="db", type="pg_dump", database="app")
    backups = setup.tmp / "backups" / "db"
    backups.mkdir(parents=True)
    (backups / "db-20240101T000000Z.dump").write_text("older", encoding="utf-8")
    newest = backups / "db-20240102T000000Z.dump"
    newest.write_text("newer", encoding="utf-8")
    return newest


@pytest.mark.parametrize("behaviour, minimum, status", [
    ({"psql": {"stdout": "5\n"}}, 3, "ok"),
    ({"psql": {"stdout": "5\n"}}, None, "ok"),
    ({"psql": {"stdout": "2\n"}}, 3, "failed"),
    ({"psql": {"stdout": "n/a\n"}}, 3, "failed"),
    ({"psql": {"exit": 1}}, None, "failed"),
    ({"pg_restore": {"exit": 1}}, None, "failed"),
])
def test_restore_test_restores_the_newest_dump_checks_and_drops_the_scratch_db(setup, behaviour, minimum, status):
    newest = make_dump(setup)
    path = setup.job(name="db_restore", type="pg_restore_test", source_job="db", expected_min=minimum,
                     check_query="SELECT count(*) FROM items")
    result = setup.run(path, behaviour)
    assert result.returncode == (0 if status == "ok" else 1), result.stderr
    names = [call[0] for call in setup.calls() if call[0] != "backup-metrics"]
    assert names[:3] == ["dropdb", "createdb", "pg_restore"]
    assert ("psql" in names) == ("pg_restore" not in behaviour)
    assert setup.calls("createdb")[0][1:] == ["--template=template0", "restore_test_db_restore"]
    assert setup.calls("pg_restore")[0][-1] == str(newest)
    assert setup.calls("dropdb")[-1][1:] == ["--if-exists", "restore_test_db_restore"]
    assert names[-1] == "dropdb"
    report = setup.calls("backup-metrics")[-1]
    assert report[report.index("--status") + 1] == status
    assert report[report.index("--job") + 1] == "db"
