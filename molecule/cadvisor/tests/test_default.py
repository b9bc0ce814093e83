"""cAdvisor WITHOUT Docker (Debian's 0.38.7 binary from the mirror).

Docker is not installed in the test container (Docker-in-Docker inside these systemd
containers is not attempted), so the role runs with cadvisor_docker: false and these tests
check what cAdvisor still exports without it: machine metrics and container_* metrics of
the root cgroup and the cgroups below it (cgroupns=host, so the docker host's cgroups).
Docker-specific behaviour (name/image labels, docker group access) is NOT covered here.
"""

from testlib import exposure, first_sample, poll, preflight_failure, samples


def metrics(host):
    def body():
        res = host.run("curl -sf http://127.0.0.1:8080/metrics")
        return res.stdout if res.rc == 0 and "container_cpu_usage_seconds_total" in res.stdout else None
    return poll(body, timeout=30, what="container metrics of cAdvisor")


def test_service_running_as_unprivileged_user(host):
    svc = host.service("cadvisor")
    assert svc.is_running and svc.is_enabled
    assert host.check_output("ps -o user= -C cadvisor").strip() == "cadvisor"
    assert "docker" not in host.user("cadvisor").groups


def test_go_style_flags(host):
    cmdline = host.check_output("tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value cadvisor)/cmdline")
    assert "-port=8080" in cmdline and "-docker_only=false" in cmdline
    assert "--" not in cmdline and "-no-" not in cmdline


def test_machine_metrics(host):
    body = metrics(host)
    assert first_sample(body, "machine_cpu_cores") == float(host.check_output("nproc"))
    assert first_sample(body, "machine_memory_bytes") > 0


def test_container_metrics_of_root_cgroup_and_slices(host):
    body = metrics(host)
    cpu = samples(body, "container_cpu_usage_seconds_total")
    assert any(labels.endswith('id="/"') for labels in cpu), "root cgroup missing"
    # Below the root: the host's cgroups (cgroupns=host); which ones depends on the host's cgroup layout.
    assert len(cpu) >= 2, "no cgroup below the root"
    assert samples(body, "container_memory_working_set_bytes")
    assert samples(body, "container_last_seen")


def test_unit_hardening_kept_where_possible(host):
    unit = host.file("/etc/systemd/system/cadvisor.service").content_string
    for line in ("ProtectSystem=strict", "ProtectControlGroups=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK", "PrivateDevices=yes"):
        assert line in unit, line
    assert "ProcSubset" not in unit and "ProtectProc" not in unit


def test_preflight_refuses_boolean_flags():
    """Bad input fails early with a message naming the variable (preflight only, on the controller)."""
    out = preflight_failure(__file__)
    assert 'cadvisor_extra_flags: give booleans as the strings "true"/"false"' in out, out


def test_security_score(host):
    """cAdvisor keeps full /proc (ProtectProc/ProcSubset dropped), yet stays within the exporters' 3.5."""
    assert exposure(host, "cadvisor.service") <= 3.5
