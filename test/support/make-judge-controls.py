#!/usr/bin/env python3
"""make-judge-controls.py OUTDIR: certificates the CA did not make, each wrong
in a way one or more of the judges of test/hostile-requests.janet must see.
The test judges them in the same batch as the corpus and fails unless every
expected judge objects: a judge that cannot fail judges nothing.

Writes OUTDIR/control-*.pem and OUTDIR/controls.jdn, a list of
{:name :cert :chain [intermediate files] :root file :requested [...]
 :expect [violation prefixes]}; the prefixes are those the test writes for
each judge ("openssl verify", "go x509: parse", "pkilint", ...)."""

import base64
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import janet_data  # noqa: E402
from hostile_der import (  # noqa: E402
    OID_CN, TAG_BOOLEAN, bit_string, integer, name, oid, rdn, seq, split_tlv, string_value, tlv)

NOW = datetime.datetime.now(datetime.timezone.utc)
ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))


def cn_name(text):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def build(subject, issuer_name, issuer_key, key, ca=False, sans=None, serial=None, constraints=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
         .serial_number(serial or x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(hours=1)).not_valid_after(NOW + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer_key is not key:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if constraints:
        b = b.add_extension(constraints, critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def resign(cert, issuer_key, patch):
    """`cert` with its TBSCertificate bytes passed through `patch`, signed again."""
    tbs = patch(cert.tbs_certificate_bytes)
    sig = issuer_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return seq(tbs, ECDSA_SHA256, bit_string(sig))


def pem(der):
    b64 = base64.b64encode(der)
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def main():
    outdir = sys.argv[1]
    files = {}

    def write(name, data):
        path = os.path.join(outdir, "control-" + name + ".pem")
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.public_bytes(serialization.Encoding.PEM))
        files[name] = path
        return path

    root_key, inter_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = build(cn_name("Control Root"), cn_name("Control Root"), root_key, root_key, ca=True)
    excluded = x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=[x509.DNSName("evil.com")])
    inter = build(cn_name("Control Excluding CA"), root.subject, root_key, inter_key, ca=True, constraints=excluded)
    write("root", root)
    write("inter", inter)

    def leaf(subject="control.example", sans=None, issuer=inter, key=inter_key, serial=None):
        return build(cn_name(subject), issuer.subject, key, ec.generate_private_key(ec.SECP256R1()),
                     sans=sans, serial=serial)

    controls = []

    def control(name, cert, requested, expect, chain=True):
        controls.append({"name": "control/" + name, "cert": write(name, cert), "root": files["root"],
                         "chain": [files["inter"]] if chain else [], "requested": requested, "expect": expect})

    cn_control = OID_CN + "=control.example"
    control("excluded-name", leaf(sans=[x509.DNSName("www.evil.com")]), [cn_control, "DNS:www.evil.com"],
            ["openssl verify", "go x509: verify", "cryptography verifier"])
    control("bad-dns-syntax", leaf(sans=[x509.DNSName("a..example.com")]), [cn_control, "DNS:a..example.com"],
            ["pkilint"])
    control("name-not-requested", leaf(sans=[x509.DNSName("www.example.com")]), [cn_control],
            ["carries a name not requested"])
    control("serial-first", leaf(serial=4242), [cn_control], [])  # a good certificate: no judge objects
    control("serial-again", leaf(serial=4242), [cn_control], ["same issuer and serial"])

    # hand-patched TBSCertificates, signed again with the intermediate's key
    plain = leaf()
    cn_universal = seq(oid(OID_CN), string_value("universal", "control.example"))
    cn_integer = seq(oid(OID_CN), integer(42))

    def replace_subject(new_atv):
        def patch(tbs):
            body = split_tlv(tbs)[1]
            old = plain.subject.public_bytes()
            i = body.index(old, body.index(plain.issuer.public_bytes()) + 1)
            return tlv(0x30, body[:i] + name(rdn(new_atv)) + body[i + len(old):])
        return patch

    control("universal-string-cn", pem(resign(plain, inter_key, replace_subject(cn_universal))),
            [cn_control], ["go x509: parse", "pkilint"])
    control("integer-cn", pem(resign(plain, inter_key, replace_subject(cn_integer))),
            ["?"], ["openssl x509 cannot load it", "go x509: parse", "cryptography cannot load it"])
    der_true = tlv(TAG_BOOLEAN, b"\xff")

    def ber_true(tbs):
        body = split_tlv(tbs)[1]
        i = body.index(der_true)  # basicConstraints' critical flag, the first BOOLEAN
        return tlv(0x30, body[:i] + tlv(TAG_BOOLEAN, b"\x01") + body[i + len(der_true):])

    control("ber-boolean", pem(resign(plain, inter_key, ber_true)), [cn_control],
            ["go x509: parse", "cryptography cannot load it"])

    with open(os.path.join(outdir, "controls.jdn"), "w") as f:
        f.write(janet_data.dumps(controls) + "\n")


if __name__ == "__main__":
    main()
