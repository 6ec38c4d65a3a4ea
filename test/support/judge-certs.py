#!/usr/bin/env python3
"""judge-certs.py JOBS: Python cryptography and pkilint as judges of many
certificates in one process.

JOBS has one job per line, tab-separated: NAME, CERT (PEM file), ROOTS and
INTERMEDIATES (comma-separated PEM files; no roots: no chain check). For each
job one line of Janet data (test/support/janet_data.py) is printed:

  {:name NAME
   :load "ok" | error       x509.load_pem_x509_certificate, then every field
                            and every extension's value read and printed
   :pkilint "ok" | findings lint_pkix_cert's validators via pkilint's API: any
                            ERROR or FATAL finding, or a document it cannot
                            decode, is a failure
   :verify "ok" | "skipped" | "not judged: why" | error
                            cryptography's X.509 verifier (client verifier,
                            webpki CA policy; the leaf's extensions are not
                            held to the web PKI profile, name constraints are)
   :excused [...]           findings set aside as limits of a judge, each
                            named (see JUDGE LIMITS below)
   :names [...]             subject attributes as "OID=value", alternative
                            names as "DNS:x" (lower case), "IP:x", "email:x",
                            "URI:x", other kinds as "other:..."
   :issuer TEXT :serial HEX the issuer as compared by RFC 5280 7.1 (case
                            folded, spaces collapsed) and the serial}
"""

import datetime
import os
import re
import sys
import warnings

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import janet_data  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.x509.verification import (  # noqa: E402
    Criticality, ExtensionPolicy, PolicyBuilder, Store)
from pkilint import loader  # noqa: E402
from pkilint.pkix import certificate, extension, name  # noqa: E402
from pkilint.validation import ValidationFindingSeverity  # noqa: E402
import validators  # noqa: E402  (pkilint's own syntax checks)

PKILINT = certificate.create_pkix_certificate_validator_container(
    certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
    [
        certificate.create_issuer_validator_container([]),
        certificate.create_validity_validator_container(),
        certificate.create_subject_validator_container([]),
        certificate.create_extensions_validator_container([]),
        certificate.create_spki_validator_container([]),
    ],
)
FAILING = (ValidationFindingSeverity.FATAL, ValidationFindingSeverity.ERROR)

# End-entity policy: the web PKI defaults, except that a leaf need not carry a
# subjectAltName nor a particular extendedKeyUsage (a CA may issue such
# leaves); a CA certificate judged as the end of its chain is held only to the
# chain rules.
EE_POLICY = (ExtensionPolicy.webpki_defaults_ee()
             .may_be_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
             .may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None))


# JUDGE LIMITS: findings that say more about a judge than about the
# certificate, set aside narrowly and reported as excused.
# - pkilint's RFC 5280 linter checks dNSNames as plain host names, so a
#   wildcard "*.example.com" (RFC 6125 6.4.3, CA/B Forum BR 7.1.4.2.1; the
#   CA allows "*." followed by a valid name of two labels or more) is an ERROR
#   there; and cryptography's name-constraint check cannot parse one
#   ("malformed SAN *.example.com").
# - pkilint also refuses single-label host names ("localhost", "intranet").
#   RFC 5280 4.2.1.6 does not (a dNSName is a host name in preferred name
#   syntax, and "localhost" is one); a private CA certifies such hosts, as
#   mkcert does. Excused only for one valid LDH label.
# - cryptography's verifier knows only DNS and IP name constraints: a chain
#   through a CA with email or URI constraints fails "unsupported name
#   constraint" whatever the leaf holds (OpenSSL and Go judge those chains).


def valid_wildcard(dns):
    return dns.startswith("*.") and dns.count(".") >= 2 and validators.domain(dns[2:]) is True


def single_label(dns):
    return "." not in dns and validators.domain(dns + ".example") is True


def has_unsupported_constraints(certs):
    for c in certs:
        try:
            nc = c.extensions.get_extension_for_class(x509.NameConstraints).value
        except x509.ExtensionNotFound:
            continue
        for gn in (nc.permitted_subtrees or []) + (nc.excluded_subtrees or []):
            if not isinstance(gn, (x509.DNSName, x509.IPAddress)):
                return True
    return False


def one_line(e):
    return " ".join(("%s: %s" % (type(e).__name__, e)).split())


def load_pem_file(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificates(f.read())


def read_everything(cert):
    """Touches every field a relying party would read; raises on a bad one."""
    cert.version, cert.serial_number, cert.not_valid_before_utc, cert.not_valid_after_utc
    cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    cert.public_key(), cert.signature_hash_algorithm, cert.signature_algorithm_oid
    for ext in cert.extensions:
        str(ext.value)
        ext.value.public_bytes() if hasattr(ext.value, "public_bytes") else None


def name_text(gn):
    if isinstance(gn, x509.DNSName):
        return "DNS:" + gn.value.lower()
    if isinstance(gn, x509.IPAddress):
        return "IP:" + str(gn.value)
    if isinstance(gn, x509.RFC822Name):
        return "email:" + gn.value
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI:" + gn.value
    return "other:" + repr(gn)


def names(cert):
    out = []
    for a in cert.subject:
        value = a.value if isinstance(a.value, str) else a.value.hex()
        out.append(a.oid.dotted_string + "=" + value)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        out += [name_text(gn) for gn in san]
    except x509.ExtensionNotFound:
        pass
    return out


def compared_name(n):
    """A Name as RFC 5280 7.1 compares it: case folded, internal spaces collapsed."""
    return ",".join(" ".join(str(a.value).casefold().split()) + "@" + a.oid.dotted_string
                    for rdn in n.rdns for a in rdn)


def pkilint(pem_text, label, excused):
    try:
        doc = loader.RFC5280CertificateDocumentLoader().load_pem_document(pem_text, label)
        results = PKILINT.validate(doc.root)
    except Exception as e:
        return "cannot decode: " + one_line(e)
    bad = []
    for r in results:
        for fd in r.finding_descriptions:
            if fd.finding.severity not in FAILING:
                continue
            text = "%s %s %s" % (fd.finding.severity.name, fd.finding.code, fd.message or "")
            m = re.fullmatch(r'Invalid domain name syntax: "(.*)"', fd.message or "", re.S)
            if fd.finding.code == "pkix.invalid_domain_name_syntax" and m and valid_wildcard(m.group(1)):
                excused.append({"kind": "pkilint on a wildcard", "finding": text})
            elif fd.finding.code == "pkix.invalid_domain_name_syntax" and m and single_label(m.group(1)):
                excused.append({"kind": "pkilint on a single-label host name", "finding": text})
            else:
                bad.append(text)
    return "ok" if not bad else " ".join("; ".join(bad).split())


def verify(cert, roots, intermediates, excused):
    if not roots:
        return "skipped"
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = False
    ee = ExtensionPolicy.permit_all() if is_ca else EE_POLICY
    builder = (PolicyBuilder().store(Store(roots)).time(datetime.datetime.now(datetime.timezone.utc))
               .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee))
    try:
        builder.build_client_verifier().verify(cert, intermediates)
        return "ok"
    except Exception as e:
        error = one_line(e)
    m = re.search(r"malformed SAN (\S+)", error)
    if m and valid_wildcard(m.group(1)):
        excused.append({"kind": "cryptography's name constraints on a wildcard", "finding": error})
        return "not judged: " + error
    if "unsupported name constraint" in error and has_unsupported_constraints(roots + intermediates):
        excused.append({"kind": "cryptography without email/URI name constraints", "finding": error})
        return "not judged: " + error
    return error


def judge(job_name, cert_path, root_paths, inter_paths):
    verdict = {"name": job_name, "load": "ok", "pkilint": "skipped", "verify": "skipped", "names": [],
               "issuer": "", "serial": "", "excused": []}
    try:
        with open(cert_path, "rb") as f:
            pem = f.read()
        cert = x509.load_pem_x509_certificate(pem)
        read_everything(cert)
        verdict["names"] = names(cert)
        verdict["issuer"] = compared_name(cert.issuer)
        verdict["serial"] = "%x" % cert.serial_number
    except Exception as e:
        verdict["load"] = one_line(e)
        return verdict
    verdict["pkilint"] = pkilint(pem.decode("ascii", "replace"), cert_path, verdict["excused"])
    roots = [c for p in root_paths for c in load_pem_file(p)]
    inters = [c for p in inter_paths for c in load_pem_file(p)]
    verdict["verify"] = verify(cert, roots, inters, verdict["excused"])
    return verdict


def main():
    # cryptography warns about some values it still loads (a CN over 64
    # characters); pkilint is the judge of those.
    warnings.simplefilter("ignore")
    if len(sys.argv) != 2:
        sys.exit("usage: judge-certs.py JOBS")
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t") + ["", ""]
            job_name, cert_path, roots, inters = fields[:4]
            split = lambda s: [p for p in s.split(",") if p]
            print(janet_data.dumps(judge(job_name, cert_path, split(roots), split(inters))), flush=False)


if __name__ == "__main__":
    main()
