"""Site TLS files checked on the controller: CA signature, subjectAltName, validity."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.monitoring.stack.plugins.module_utils._spec import SpecError
from ansible_collections.monitoring.stack.plugins.module_utils._tls import site_tls_problems

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def _cert(subject, issuer_name, issuer_key, key, ca=False, names=(), days=30):
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(name="pki")
def fixture_pki(tmp_path):
    ca_key, other_key, host_key = (ec.generate_private_key(ec.SECP256R1()) for _key in range(3))
    files = {
        "ca": _cert("Test CA", "Test CA", ca_key, ca_key, ca=True),
        "other_ca": _cert("Other CA", "Other CA", other_key, other_key, ca=True),
        "host": _cert("mon1", "Test CA", ca_key, host_key, names=["mon1.example.org"]),
        "foreign": _cert("mon1", "Other CA", other_key, host_key, names=["mon1.example.org"]),
    }
    paths = {}
    for name, cert in files.items():
        path = tmp_path / (name + ".crt")
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths[name] = str(path)
    (tmp_path / "junk.crt").write_text("not a certificate")
    paths["junk"] = str(tmp_path / "junk.crt")
    return paths


def tls(pki, ca="ca", cert="host"):
    return {"ca_file": pki[ca], "cert_file": pki[cert], "key_file": "/unused"}


def test_a_certificate_signed_by_the_ca_for_this_host_has_no_problems(pki):
    assert not site_tls_problems(tls(pki), "mon1.example.org", now=NOW)
    assert not site_tls_problems({}, "mon1.example.org")


def test_a_ca_that_did_not_sign_the_certificate_is_named(pki):
    problems = site_tls_problems(tls(pki, ca="other_ca"), "mon1.example.org", now=NOW)
    assert len(problems) == 1 and "did not sign" in problems[0] and "Other CA" in problems[0]


def test_a_certificate_without_the_host_name_or_out_of_date_is_named(pki):
    problems = site_tls_problems(tls(pki), "mon2.example.org", now=NOW + datetime.timedelta(days=60))
    assert any("not mon2.example.org" in p for p in problems)
    assert any("not now" in p for p in problems)


def test_unreadable_or_non_pem_files_are_errors(pki):
    with pytest.raises(SpecError, match="cannot read"):
        site_tls_problems(tls(pki) | {"ca_file": "/no/such/ca.crt"}, "mon1.example.org")
    with pytest.raises(SpecError, match="not a PEM certificate"):
        site_tls_problems(tls(pki, cert="junk"), "mon1.example.org")
