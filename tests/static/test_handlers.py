"""Every daemon role's handlers/main.yml is the engine's handler template, rendered."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("render_handlers", ROOT / "tests" / "harness" / "render_handlers.py")
RENDER = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(RENDER)
DAEMON_ROLES = RENDER.roles()


def test_every_daemon_role_has_descriptors():
    names = {r.name for r in DAEMON_ROLES}
    expected = {"node_exporter", "prometheus", "alertmanager", "pushgateway", "blackbox_exporter", "cadvisor",
                "postgres_exporter", "nginx_exporter", "loki", "promtail", "alloy", "grafana"}
    assert expected <= names, "roles without a _<role>_daemon descriptor: %s" % sorted(expected - names)


@pytest.mark.parametrize("role_dir", DAEMON_ROLES, ids=[r.name for r in DAEMON_ROLES])
def test_handlers_match_the_template(role_dir):
    current = (role_dir / "handlers" / "main.yml").read_text(encoding="utf-8")
    assert current == RENDER.render(role_dir), (
        "%s/handlers/main.yml drifted from roles/_common/templates/handlers.yml.j2: run `make handlers`" % role_dir.name)


def test_a_drifted_handler_file_is_caught(tmp_path):
    role = DAEMON_ROLES[0]
    copy = tmp_path / role.name
    (copy / "vars").mkdir(parents=True)
    (copy / "handlers").mkdir()
    (copy / "vars" / "main.yml").write_text((role / "vars" / "main.yml").read_text(encoding="utf-8"), encoding="utf-8")
    edited = RENDER.render(role).replace("restart.yml", "restart_other.yml")
    assert edited != RENDER.render(copy)
