"""Documentation that runs: every YAML example of role variables in the docs, READMEs and inventories is valid.

The checker is tests/harness/docs_examples.py (its docstring lists the checks and the placeholder rule);
`python tests/harness/docs_examples.py` prints the same findings. The tests below the first prove that it
catches what it should.
"""

import importlib.util
import pathlib
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("docs_examples", ROOT / "tests" / "harness" / "docs_examples.py")
DOCS = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(DOCS)


@pytest.fixture(name="checker")
def fixture_checker():
    return DOCS.Checker(str(ROOT))


def _markdown(tmp_path, checker, text):
    path = tmp_path / "fake.md"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    checker.check_markdown(str(path))
    return [finding.replace(str(path), "fake.md") for finding in checker.findings]


def _has(findings, prefix, *parts):
    """Some finding starts with ``prefix`` (``fake.md:<line>:``) and contains every part."""
    return any(f.startswith(prefix) and all(p in f for p in parts) for f in findings)


def test_every_example_in_docs_readmes_and_inventories_is_valid(checker):
    findings = checker.check_repo()
    assert not findings, "wrong examples (fix the example, or see docs/CONTRIBUTING.md):\n" + "\n".join(findings)
    # The extraction still finds the examples: a broken extractor would pass with nothing checked.
    assert checker.stats["examples"] >= 30 and checker.stats["variables"] >= 120, checker.stats
    assert checker.stats["renders"] >= 15, checker.stats


def test_wrong_names_and_keys_are_reported_with_the_closest_valid_name(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        # Fake page

        ```yaml
        node_exporter_basic_auth_user: x
        prometheus_scrape_interval: 15s
        prometheus_rule_packs_enabled: [node]
        prometheus_global:
          scrape_intervall: 15s
        grafana_dashboards:
          - folder: monitoring-stack
            specs: {title: Business}
        monitoring_stack_mirror: https://mirror.example.org
        monitoring_scrape_username: prometheus   # no role prefix: not checked in docs
        ```
        """)
    assert _has(findings, "fake.md:4:", "`node_exporter_basic_auth_user`", "did you mean `node_exporter_basic_auth_users`?")
    assert _has(findings, "fake.md:5:", "`prometheus_scrape_interval`", "did you mean `prometheus_global.scrape_interval`?")
    assert _has(findings, "fake.md:6:", "`prometheus_rule_packs_enabled`", "did you mean `prometheus_rule_packs`?")
    assert _has(findings, "fake.md:8:", "`prometheus_global.scrape_intervall`", "did you mean `scrape_interval`?")
    assert _has(findings, "fake.md:11:", "`grafana_dashboards[0].specs`", "did you mean `spec`?")
    assert _has(findings, "fake.md:9:", "`grafana_dashboards`", "one of the following is required: spec, file")
    assert _has(findings, "fake.md:12:", "`monitoring_stack_mirror`", "did you mean `monitoring_stack_mirror_url`?")
    assert len(findings) == 7, findings


def test_types_choices_and_required_keys_are_checked(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        ```yaml
        grafana_dashboards_allow_ui_updates: maybe
        grafana_dashboard_folders:
          - {title: Business}
        ```
        """)
    assert _has(findings, "fake.md:2:", "grafana_dashboards_allow_ui_updates", "bool")
    assert _has(findings, "fake.md:3:", "grafana_dashboard_folders", "uid")


def test_playbooks_task_lists_and_role_vars_are_searched(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        ```yaml
        - hosts: prometheus
          vars:
            prometheus_retention_tme: 30d
          roles:
            - role: monitoring.stack.alertmanager
              vars:
                alertmanager_chanels: {}
          tasks:
            - name: Include node_exporter.
              ansible.builtin.include_role: {name: monitoring.stack.node_exporter}
              vars:
                node_exporter_listen: ":9100"
        ```
        """)
    assert _has(findings, "fake.md:4:", "did you mean `prometheus_retention_time`?")
    assert _has(findings, "fake.md:8:", "did you mean `alertmanager_channels`?")
    assert _has(findings, "fake.md:13:", "`node_exporter_listen`")


def test_specs_are_rendered_through_the_collection_builders(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        ```yaml
        prometheus_alert_rules:
          - {name: Broken, expr: up == 0, severity: page, summary: x}
        prometheus_rule_overrides:
          HostOutOfMemory: {threshold: 90}
        alertmanager_channels:
          chat: {type: slack, channel: "#ops"}
        grafana_dashboards:
          - spec: {title: Wide, panels: [{title: A, width: 30, targets: [{expr: up}]}]}
        grafana_datasource_sources:
          - {name: Prometheus, type: prometheus, uid: "not a uid", group: prometheus}
        log_sources:
          - {name: journal, type: jornal}
        ```
        """)
    assert _has(findings, "fake.md:2:", "rendering Prometheus rules", "severity")
    assert _has(findings, "fake.md:2:", "rendering Prometheus rules", "HostOutOfMemory") is False  # first error wins
    assert _has(findings, "fake.md:6:", "rendering the Alertmanager config", "api_url")
    assert _has(findings, "fake.md:8:", "rendering dashboards", "width")
    assert _has(findings, "fake.md:10:", "rendering datasources", "uid")
    assert _has(findings, "fake.md:12:", "rendering log sources")


def test_an_override_of_a_rule_that_no_pack_has_is_reported(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        ```yaml
        prometheus_rule_overrides:
          HostOutOfMemory: {threshold: 90}
        ```
        """)
    assert _has(findings, "fake.md:2:", "rendering Prometheus rules", "HostOutOfMemory")


def test_template_text_needs_unsafe_and_jinja_names_must_exist(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        <!-- docs-test: var prometheus_alert_rules -->
        ```yaml
        - name: A
          expr: up == 0
          severity: critical
          summary: "{{ $labels.instance }} is down"
          description: !unsafe "{{ $value }} is fine with !unsafe"
          labels: {team: "{{ vault_team }}", owner: "{{ team_owner }}"}
        ```
        """)
    assert _has(findings, "fake.md:6:", "not valid Jinja", "!unsafe")
    assert _has(findings, "fake.md:8:", "team_owner")
    assert len(findings) == 2, findings


def test_directives_skip_with_a_reason_and_name_the_variable(tmp_path, checker):
    findings = _markdown(tmp_path, checker, """
        <!-- docs-test: skip (shows a mistake on purpose) -->
        ```yaml
        node_exporter_basic_auth_user: x
        ```

        <!-- docs-test: skip -->
        ```yaml
        node_exporter_typo: x
        ```

        <!-- docs-test: var prometheus_slos -->
        ```yaml
        - {name: api, objective: 99.9, sli: {type: availability, metric: http_requests_total}, periodd: 30d}
        ```

        ```yaml
        prometheus_rule_packs: [node
        ```

        ```
        not: yaml: a plain block that does not parse is ignored
        ```
        """)
    assert not _has(findings, "fake.md:3:")
    assert _has(findings, "fake.md:6:", "unknown docs-test directive")
    assert _has(findings, "fake.md:8:", "`node_exporter_typo`")
    assert _has(findings, "fake.md:13:", "`prometheus_slos[0].periodd`", "did you mean `period`?")
    assert _has(findings, "fake.md:13:", "rendering Prometheus rules", "periodd")
    assert _has(findings, "fake.md:18:", "does not parse")
    assert len(findings) == 5, findings


def test_the_text_names_only_existing_variables_tags_and_rules(tmp_path, checker):
    path = tmp_path / "fake.md"
    path.write_text(textwrap.dedent("""\
        Set `prometheus_rule_packs_enabled` to switch packs; tags `node_exporter_install`, `prometheus_run`.
        `monitoring_stack_mirror` is the mirror; `prometheus_target_address` is a hostvar it reads.
        Raise the threshold of HostOutOfMemory, not of `HostHighMemoryUtilisation`.

        ```yaml
        # In a fence the text rules do not apply: node_exporter_typo
        ```
        """), encoding="utf-8")
    checker.check_prose(str(path))
    checker.check_alert_names(str(path))
    findings = [finding.replace(str(path), "fake.md") for finding in checker.findings]
    assert _has(findings, "fake.md:1:", "`prometheus_rule_packs_enabled`", "did you mean `prometheus_rule_packs`?")
    assert _has(findings, "fake.md:2:", "`monitoring_stack_mirror`")
    assert _has(findings, "fake.md:3:", "`HostOutOfMemory` is not a rule")
    assert len(findings) == 3, findings


def test_inventories_need_known_names_and_skip_vaults(tmp_path, checker):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    (inventory / "group_vars" / "all" / "vault.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n6136\n", encoding="utf-8")
    (inventory / "group_vars" / "all" / "main.yml").write_text(textwrap.dedent("""\
        ---
        ansible_user: deploy
        monitoring_scrape_username: prometheus
        monitoring_scrape_pasword: x
        promethues_retention_time: 30d
        """), encoding="utf-8")
    (inventory / "host_vars" / "mon1.yml").write_text(textwrap.dedent("""\
        ---
        alertmanager_channels:
          chat: {type: webhook, url: "{{ vault_webhook }}"}
        alertmanager_severity_policy:
          critical: {channels: [chat, pager]}
          warning: {channels: [chat]}
        prometheus_external_labels: {replica: "{{ monitoring_scrape_username }}"}
        """), encoding="utf-8")
    checker.check_inventory(str(inventory))
    findings = [f.replace(str(inventory) + "/", "") for f in checker.findings]
    assert _has(findings, "group_vars/all/main.yml:4:", "`monitoring_scrape_pasword`", "INVENTORY_VARS")
    assert _has(findings, "group_vars/all/main.yml:5:", "`promethues_retention_time`")
    assert _has(findings, "host_vars/mon1.yml:2:", "rendering the Alertmanager config", "pager")
    assert len(findings) == 3, findings


def test_placeholders_follow_the_argument_spec():
    spec = {"type": "dict", "options": {
        "port": {"type": "int"}, "enabled": {"type": "bool"}, "mode": {"type": "str", "choices": ["a", "b"]},
        "items": {"type": "list", "elements": "str"}, "url": {"type": "str"}, "name": {"type": "str"}}}
    value = DOCS.load_yaml(textwrap.dedent("""\
        port: "{{ p }}"
        enabled: "{{ o }}"
        mode: "{{ m }}"
        items: "{{ i }}"
        url: "{{ u }}"
        name: "{{ n }}"
        raw: !unsafe "{{ kept }}"
        """))
    assert DOCS.placeholders(value, spec) == {
        "port": 1, "enabled": True, "mode": "a", "items": [], "url": "https://placeholder.example.org",
        "name": "placeholder", "raw": "{{ kept }}"}
