# -*- coding: utf-8 -*-
# Copyright: monitoring.stack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the site's TLS files (monitoring_stack_tls) on the controller, before anything is copied."""

from __future__ import annotations

import datetime

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError


def _load(path, what):
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SpecError("monitoring_stack_tls.%s: cannot read %s on the controller: %s" % (what, path, exc.strerror)) from exc
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise SpecError("monitoring_stack_tls.%s: %s is not a PEM certificate" % (what, path)) from exc


def site_tls_problems(tls, host, now=None):
    """Problems of the site TLS files for ``host``: the CA must sign the host certificate, the certificate
    must name the host (subjectAltName DNS or IP) and be valid now. Empty ``tls`` has none."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.exceptions import InvalidSignature  # pylint: disable=import-outside-toplevel
    if not tls:
        return []
    ca = _load(tls.get("ca_file", ""), "ca_file")
    cert = _load(tls.get("cert_file", ""), "cert_file")
    problems = []
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        problems.append("the CA %s (%s) did not sign %s (issuer %s): clients would refuse this host" % (
            tls["ca_file"], ca.subject.rfc4514_string(), tls["cert_file"], cert.issuer.rfc4514_string()))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName) + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    if host not in names:
        problems.append("%s names %s, not %s (the name clients use): put it into the subjectAltName" % (
            tls["cert_file"], ", ".join(names) or "no subjectAltName", host))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        problems.append("%s is valid from %s to %s, not now" % (
            tls["cert_file"], cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat()))
    return problems
