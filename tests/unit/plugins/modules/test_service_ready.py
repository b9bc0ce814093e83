"""The readiness gate reads listening sockets and decides whether the daemon itself owns its port."""

import importlib

import pytest

MOD = importlib.import_module("ansible_collections.monitoring.stack.plugins.modules.service_ready")

TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:238C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   997        0 85289 1
   1: 00000000000000000000000000000000:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   995        0 85290 1
   2: 0100007F000000000000000000000000:238C 0100007F000000000000000000000000:D3A2 01 00000000:00000000 00:00000000 00000000   997        0 85291 1
"""


@pytest.fixture(name="tables")
def fixture_tables(tmp_path):
    path = tmp_path / "tcp6"
    path.write_text(TCP6)
    return (str(path),)


def test_listening_sockets_only_counts_listen_state(tables):
    assert MOD.listening_sockets(9100, tables) == {("85289", 997)}
    assert MOD.listening_sockets(9090, tables) == {("85290", 995)}
    assert MOD.listening_sockets(9093, tables) == set()


def test_owns_port_by_user_when_fds_cannot_be_read(monkeypatch, tables):
    real = MOD.listening_sockets
    monkeypatch.setattr(MOD, "listening_sockets", lambda port: real(port, tables))
    monkeypatch.setattr(MOD, "_socket_inodes", lambda pids: set())
    monkeypatch.setattr(MOD, "_children", lambda pid: [pid])
    monkeypatch.setattr(MOD, "_uid", {"node-exp": 997, "alertmanager": 996}.get)
    assert MOD.owns_port(42, 9100, "node-exp")
    # Port 9090 is held by uid 995 (prometheus): alertmanager configured on :9090 is not ready.
    assert not MOD.owns_port(42, 9090, "alertmanager")
    assert not MOD.owns_port(0, 9100, "node-exp")


def test_owns_port_by_socket_inode_when_fds_are_readable(monkeypatch, tables):
    real = MOD.listening_sockets
    monkeypatch.setattr(MOD, "listening_sockets", lambda port: real(port, tables))
    monkeypatch.setattr(MOD, "_children", lambda pid: [pid])
    monkeypatch.setattr(MOD, "_socket_inodes", lambda pids: {"85290"})
    assert MOD.owns_port(42, 9090, "whoever")
    assert not MOD.owns_port(42, 9100, "node-exp")


def test_a_process_running_for_a_while_is_settled_at_once():
    """An idempotent run does not wait the settle time again for a daemon that started long ago."""
    now = 1000.0
    assert MOD._started({"ExecMainStartTimestampMonotonic": "400000000"}, now) == 400.0
    # A process that just started, an unknown or an odd value: count from now (the settle time is waited).
    assert MOD._started({"ExecMainStartTimestampMonotonic": "999900000"}, now) == 999.9
    assert MOD._started({}, now) == now
    assert MOD._started({"ExecMainStartTimestampMonotonic": "0"}, now) == now
    assert MOD._started({"ExecMainStartTimestampMonotonic": "n/a"}, now) == now
    assert MOD._started({"ExecMainStartTimestampMonotonic": "2000000000"}, now) == now
