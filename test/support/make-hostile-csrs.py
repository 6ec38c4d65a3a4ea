#!/usr/bin/env python3
"""make-hostile-csrs.py OUTDIR: the corpus of hostile requests of
test/hostile-requests.janet.

Writes PKCS#10 requests built byte by byte (test/support/hostile_der.py: Python
cryptography only supplies EC P-256 keys and signs the hand-built
certificationRequestInfo, so every request carries a valid signature over
whatever bytes it holds) and a manifest describing every case, as
OUTDIR/manifest.json and, for the Janet test, OUTDIR/manifest.jdn.

The manifest: {"profiles": {NAME: {"common-name": CN, "name-constraints":
{...} or absent}}, "cases": [CASE...]}. Profile "root" is the corpus root; every
other profile is an intermediate (path length 1) of the root. A case:

  name        unique, no tabs or newlines
  family      what it attacks
  ca          the profile that is asked
  call        "issue", "sign-csr" or "generate-intermediate"
  csr         request file (DER), for sign-csr
  key         the request's private key (PEM), for CA:TRUE requests: the test
              loads the resulting CA with ca/create and issues a probe leaf
  options     the options of the call (keys are Janet keywords)
  requested   every name the request asked for: "OID=value" for subject
              attributes (value as the requester meant it, decoded), and
              "DNS:x", "IP:x" (canonical text), "email:x", "URI:x" for
              alternative names; the certificate may carry no other name
  probe       for calls that make a CA: options of a leaf to issue from it

Standard library plus `cryptography`; run by the test, writes only OUTDIR.
"""

import ipaddress
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import janet_data  # noqa: E402
from hostile_der import (  # noqa: E402
    GN_DIRECTORY_NAME, GN_DNS_NAME, GN_IP_ADDRESS, GN_RFC822_NAME, GN_URI, INTEGER_VALUE, Key,
    OID_BASIC_CONSTRAINTS, OID_C, OID_CHALLENGE_PASSWORD, OID_CLIENT_AUTH, OID_CN,
    OID_DOMAIN_COMPONENT, OID_EKU, OID_EMAIL_ADDRESS, OID_EXTENSION_REQUEST, OID_KEY_USAGE, OID_L,
    OID_NAME_CONSTRAINTS, OID_O, OID_OCSP_SIGNING, OID_OU, OID_SAN, OID_SERIAL_NUMBER,
    OID_SERVER_AUTH, OID_ST, OID_UNKNOWN_ATTRIBUTE, OID_UNKNOWN_EKU, OID_UNKNOWN_EXTENSION,
    STRING_TYPES, TAG_BMP_STRING, TAG_BOOLEAN, TAG_CONTEXT_0_CONSTRUCTED, TAG_CONTEXT_0_PRIMITIVE,
    TAG_ENUMERATED, TAG_IA5_STRING, TAG_INTEGER, TAG_OCTET_STRING, TAG_SET, TAG_UNIVERSAL_STRING,
    TAG_UTF8_STRING, attr, atv, bit_string, boolean, eku_ext, ext_request, extension, general_names,
    gn, info, integer, name, non_minimal_length, octet_string, oid, oid_body, oid_raw, rdn, san_ext,
    seq, set_of, simple_name, split_tlv, string_value, tlv, with_length,
)

# --- the corpus -----------------------------------------------------------------

ROOT_CN = "Hostile Corpus Root"
PROFILES = {
    "root": {},
    "perm-dns": {"permitted": ["DNS:example.com"]},
    "excl-dns": {"excluded": ["DNS:evil.com"]},
    "perm-ip": {"permitted": ["IP:10.0.0.0/8", "IP:fd00::/8"]},
    "excl-ip": {"excluded": ["IP:10.66.0.0/16", "IP:fd66::/16"]},
    "perm-email": {"permitted": ["email:example.com", "email:.example.com"]},
    "excl-email": {"excluded": ["email:evil.com", "email:.evil.com"]},
    "perm-uri": {"permitted": ["URI:.example.com"]},
    "excl-uri": {"excluded": ["URI:evil.com", "URI:.evil.com"]},
}


def profile_cn(p):
    return ROOT_CN if p == "root" else "Hostile Corpus " + p


DNS_VALUES = [
    "www.example.com", "WWW.EXAMPLE.COM", "Www.Example.Com", "example.com", "a.b.c.example.com",
    "123.example.com", "www.evil.com", "WWW.EVIL.COM", "evil.com", "EVIL.com", "www.evil.com.",
    "evil.com.", "www.example.com.", "EXAMPLE.COM.", "notevil.com", "evil.com.example.com",
    "example.com.evil.com", "www.evil.co", "*", "*.example.com", "*.evil.com", "*.*.example.com",
    "a*.example.com", "*a.example.com", "*.com", "www.*.example.com", "**.example.com", "a..example.com",
    ".example.com", ".evil.com", "-x-.example.com", "-x.example.com", "x-.example.com", "a_b.example.com",
    "a.example.com/path", "a.example.com,IP:1.2.3.4", "a.example.com:443", "1.2.3.4", "10.66.1.1",
    "www.example.123", "xn--bcher-kva.example.com", "xn--bcher-kva.evil.com", "xn--.example.com",
    "xn--a.example.com", "xn--bcher-kva-.example.com", "ab--cd.example.com", "b\u00fccher.example.com",
    "www.evil.com\x00.example.com", "www.example.com\x00", "www.example.com ", " www.example.com",
    "ex ample.com", "a" * 63 + ".example.com", "a" * 64 + ".example.com",
    ".".join(["a" * 61] * 3) + ".example.com", ".".join(["a" * 62] * 3) + ".example.com",
    "localhost", "", "example", "www.ex%61mple.com", "www.example.com\n",
]

IP_VALUES = [
    "10.1.2.3", "10.66.1.1", "192.0.2.1", "0.0.0.0", "255.255.255.255", "::ffff:10.66.1.1",
    "::ffff:10.1.2.3", "::ffff:192.0.2.1", "::10.66.1.1", "64:ff9b::10.66.1.1", "fd00::1", "fd66::1",
    "FD66::1", "fd66:0:0:0:0:0:0:1", "::1", "::", "2001:db8::1", "010.1.2.3", "10.1.2", "10.1.2.3.4",
    "10.1.2.3/8", "0x0a.1.2.3", "fd66::1%eth0", "[fd66::1]", "10.66.1.1 ", "",
]
# alternative names with raw IP octets of odd lengths (copied SANs only)
IP_RAW = {"empty": b"", "3-octets": bytes([10, 66, 1]), "5-octets": bytes([10, 66, 1, 1, 0]),
          "8-octets-v4-with-mask": bytes([10, 66, 1, 1, 255, 255, 0, 0]),
          "17-octets": ipaddress.ip_address("fd66::1").packed + b"\x00",
          "32-octets-v6-with-mask": ipaddress.ip_address("fd66::1").packed + b"\xff" * 16}

EMAIL_VALUES = [
    "alice@example.com", "Alice@Example.COM", "alice@sub.example.com", "alice@evil.com", "alice@EVIL.COM",
    "alice@sub.evil.com", "alice@evil.com.", "alice@example.com.evil.com", "alice@evil.com.example.com",
    "alice@notevil.com", "alice@example.com@evil.com", "\"alice@evil.com\"@example.com",
    "\"a b\"@example.com", "alice", "@example.com", "alice@", "alice@[10.66.1.1]",
    "alice@xn--bcher-kva.example.com", "alice@b\u00fccher.example.com", "j\u00fcrgen@example.com",
    "alice@a..example.com", "alice@-x-.example.com", "alice @example.com", "alice@example.com\x00.evil.com",
    "alice@.example.com", "alice%evil.com@example.com", "alice@example.com,email:bob@evil.com",
]

URI_VALUES = [
    "https://www.example.com/", "https://www.example.com:8443/p?q=1#f", "https://u@evil.com/",
    "https://user:pass@www.example.com/", "https://www.example.com@evil.com/", "https://evil.com?x",
    "https://evil.com?.example.com", "https://evil.com#.example.com", "https://evil.com/.example.com",
    "https://evil.com:443/", "https://WWW.EVIL.COM/", "https://www.evil.com/", "https://evil.com./",
    "https://www.example.com.evil.com/", "https://evil.com.www.example.com/", "https://example.com/",
    "https://[fd66::1]/", "https://10.66.1.1/", "urn:example:evil.com", "mailto:alice@evil.com",
    "file:///etc/passwd", "https://", "https:///path", "//www.example.com/", "www.example.com",
    "https://ex%61mple.com/", "https://www.ex%61mple.com/", "https://evil.com\\@www.example.com/",
    "https://www.example.com\\@evil.com/", "https://www.exam ple.com/", "https://b\u00fccher.example.com/",
    "https://xn--bcher-kva.example.com/", "HTTPS://WWW.EXAMPLE.COM/", "https://a..example.com/",
    "https://www.example.com:99999/", "https://www.example.com:/", "https://www.example.com\x00.evil.com/",
    "https://www.example.com/,URI:https://evil.com/",
]

SAN_KINDS = {"DNS": (DNS_VALUES, GN_DNS_NAME, ["perm-dns", "excl-dns"]),
             "IP": (IP_VALUES, GN_IP_ADDRESS, ["perm-ip", "excl-ip"]),
             "email": (EMAIL_VALUES, GN_RFC822_NAME, ["perm-email", "excl-email"]),
             "URI": (URI_VALUES, GN_URI, ["perm-uri", "excl-uri"])}


def canonical_ip(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def san_name(kind, value):
    """The requested name as the judges compare it."""
    if kind == "DNS":
        return "DNS:" + value.lower()
    if kind == "IP":
        return "IP:" + canonical_ip(value)
    return kind + ":" + value


def copied_name(kind, value):
    """The name a CSR built by copy_csr requests (an IP address as its octets)."""
    if kind == "IP":
        return "IP:" + str(ipaddress.ip_address(ip_octets(value)))
    return san_name(kind, value)


def subject_name(oid_dotted, text, kind="utf8"):
    value = str(INTEGER_VALUE) if kind == "integer" else text
    return oid_dotted + "=" + value


class Corpus:
    def __init__(self, outdir):
        self.outdir = outdir
        self.cases = []

    def _file(self, suffix, data):
        path = os.path.join(self.outdir, "case-%d.%s" % (len(self.cases), suffix))
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def add(self, family, label, ca, call, options=None, csr=None, requested=(), key=None, probe=None):
        label = "".join(c if c.isascii() and (c.isalnum() or c in "._@:*/+-=") else "_" for c in label)[:70]
        case = {"name": "%03d-%s-%s-%s" % (len(self.cases), family, ca, label), "family": family, "ca": ca,
                "call": call, "options": options or {}, "requested": list(requested)}
        if csr is not None:
            case["csr"] = self._file("csr", csr)
        if key is not None:
            case["key"] = self._file("key", key.pem())
        if probe is not None:
            case["probe"] = probe
        self.cases.append(case)

    def csr(self, family, label, ca, der, requested, options=None, key=None, probe=None):
        self.add(family, label, ca, "sign-csr", options, der, requested, key, probe)


def plain_csr(subject=None, attributes=(), **kw):
    """A CSR with a fresh key over `subject` (default CN "Hostile Case")."""
    key = Key()
    subject = subject if subject is not None else simple_name((OID_CN, "Hostile Case"))
    return key.sign(info(key, subject, attributes, **kw))


PLAIN_CN = OID_CN + "=Hostile Case"


def add_subject_strings(c):
    """Every string type (and two non-strings) for every subject attribute."""
    values = [(OID_CN, "CN", "Hostile Subject"), (OID_O, "O", "Hostile Org"), (OID_OU, "OU", "Hostile Unit"),
              (OID_C, "C", "DE"), (OID_ST, "ST", "Bavaria"), (OID_L, "L", "Munich"),
              (OID_SERIAL_NUMBER, "serialNumber", "12345"), (OID_EMAIL_ADDRESS, "emailAddress", "hostile@example.com"),
              (OID_DOMAIN_COMPONENT, "DC", "example"), (OID_UNKNOWN_ATTRIBUTE, "unknown-oid", "Hostile Value")]
    for oid_dotted, short, text in values:
        for kind in STRING_TYPES:
            pairs = [(OID_CN, "Hostile Case"), (oid_dotted, text, kind)]
            if oid_dotted == OID_CN:
                pairs = [(oid_dotted, text, kind)]
            elif oid_dotted == OID_DOMAIN_COMPONENT:  # DCs spell a domain name, most significant first
                pairs = [(OID_CN, "Hostile Case"), (oid_dotted, "com", kind), (oid_dotted, text, kind)]
            requested = [subject_name(*p) for p in pairs]
            if oid_dotted == OID_EMAIL_ADDRESS:
                requested.append("email:" + text)
            c.csr("subject-type", short + "-" + kind, "root", plain_csr(simple_name(*pairs)), requested)
    # the excluded name as a CN, in every encoding
    for kind in STRING_TYPES:
        c.csr("cn-excluded", "www.evil.com-" + kind, "excl-dns",
              plain_csr(simple_name((OID_CN, "www.evil.com", kind))), [subject_name(OID_CN, "www.evil.com", kind)])
    # trailing and embedded NULs, and other text the CA must not sign as is
    odd = [("www.evil.com\x00", "excl-dns"), ("www.example.com\x00.evil.com", "perm-dns"),
           ("www.evil.com\x00", "root"), ("Hostile\x00Case", "root"), ("Hostile\nCase", "root"),
           ("Hostile\x1b[31mCase", "root"), ("Hostile\u202eCase", "root"), ("", "root"), (" ", "root"),
           ("a" * 64, "root"), ("a" * 65, "root"), ("Gr\u00fc\u00dfe", "root"), ("\U0001F600 emoji", "root"),
           (" www.evil.com", "excl-dns"), ("www.evil.com ", "excl-dns"), ("WWW.EVIL.COM", "excl-dns")]
    for text, ca in odd:
        for kind in ["utf8", "bmp", "universal", "printable", "ia5", "teletex"]:
            c.csr("cn-odd", repr(text) + "-" + kind, ca, plain_csr(simple_name((OID_CN, text, kind))),
                  [subject_name(OID_CN, text, kind)])
    # encodings that no decoder should accept
    broken = {"utf8-invalid": tlv(TAG_UTF8_STRING, b"Hostile \xc3\x28"),
              "utf8-overlong-dot": tlv(TAG_UTF8_STRING, b"www\xc0\xaeevil.com"),
              "utf8-surrogate": tlv(TAG_UTF8_STRING, b"Hostile \xed\xa0\x80"),
              "bmp-odd-length": tlv(TAG_BMP_STRING, "Hostile".encode("utf-16-be") + b"\x00"),
              "bmp-lone-surrogate": tlv(TAG_BMP_STRING, "Hostile".encode("utf-16-be") + b"\xd8\x00"),
              "universal-not-multiple-of-4": tlv(TAG_UNIVERSAL_STRING, "Hostile".encode("utf-32-be") + b"\x00"),
              "universal-above-unicode": tlv(TAG_UNIVERSAL_STRING, b"\x00\x11\x00\x00"),
              "empty-utf8": tlv(TAG_UTF8_STRING, b""),
              "null-value": tlv(0x05, b""),
              "sequence-value": seq(tlv(TAG_UTF8_STRING, b"Hostile")),
              "high-tag-number": tlv(0x1F, b"\x1fHostile")}
    for label, value in broken.items():
        c.csr("subject-broken", label, "root", plain_csr(name(rdn(atv(oid(OID_CN), value)))), [OID_CN + "=?"])


def add_rdns(c):
    """Multi-valued RDNs in both orders, repeated CNs, empty names."""
    pairs = {"cn-o": [(OID_CN, "Hostile Multi"), (OID_O, "Hostile Org")],
             "cn-evil-o": [(OID_CN, "www.evil.com"), (OID_O, "Example")],
             "cn-email-evil": [(OID_CN, "Hostile Multi"), (OID_EMAIL_ADDRESS, "alice@evil.com", "ia5")],
             "cn-cn": [(OID_CN, "Hostile Multi"), (OID_CN, "www.evil.com")],
             "cn-o-ou": [(OID_CN, "Hostile Multi"), (OID_O, "Hostile Org"), (OID_OU, "Hostile Unit")]}
    ca_for = {"cn-o": "root", "cn-evil-o": "excl-dns", "cn-email-evil": "excl-email", "cn-cn": "excl-dns",
              "cn-o-ou": "root"}
    for label, ps in pairs.items():
        atvs = [attr(*p) for p in ps]
        requested = [subject_name(*p) for p in ps]
        requested += ["email:" + p[1] for p in ps if p[0] == OID_EMAIL_ADDRESS]
        ordered = sorted(atvs)
        c.csr("rdn-multi", label + "-sorted", ca_for[label], plain_csr(name(rdn(*ordered))), requested)
        c.csr("rdn-multi", label + "-unsorted", ca_for[label],
              plain_csr(name(rdn(*reversed(ordered), sort=False))), requested)
        c.csr("rdn-separate", label + "-in-order", ca_for[label], plain_csr(name(*(rdn(a) for a in atvs))), requested)
        c.csr("rdn-separate", label + "-reversed", ca_for[label],
              plain_csr(name(*(rdn(a) for a in reversed(atvs)))), requested)
    cn = attr(OID_CN, "Hostile Multi")
    c.csr("rdn-multi", "duplicate-atv", "root", plain_csr(name(rdn(cn, cn))), [OID_CN + "=Hostile Multi"])
    c.csr("rdn-empty", "empty-rdn", "root", plain_csr(name(rdn(cn), tlv(TAG_SET, b""))), [OID_CN + "=Hostile Multi"])
    c.csr("rdn-empty", "empty-subject", "root", plain_csr(name()), [])
    c.csr("rdn-empty", "empty-subject-with-san", "root",
          plain_csr(name(), [ext_request(san_ext(gn(GN_DNS_NAME, "www.example.com"), critical=boolean(True)))]),
          ["DNS:www.example.com"], {"copy-extensions": True})


# non-minimal, truncated and otherwise broken OID encodings (hex bodies)
OID_FORMS = {
    "cn-non-minimal": "55048003",
    "cn-non-minimal-first": "80550403",
    "cn-truncated": "550483",
    "cn-empty": "",
    "cn-extra-arc": "550403" + "00",
    "cn-huge-arc": "5504" + "82808080808080808000",
}
EKU_FORMS = {
    "ocsp-signing": ("2b06010505070309", True),
    "ocsp-signing-non-minimal-last": ("2b0601050507038009", False),
    "ocsp-signing-non-minimal-middle": ("2b0601050507800309", False),
    "ocsp-signing-non-minimal-first": ("2b8006010505070309", False),
    "ocsp-signing-truncated": ("2b06010505070389", False),
    "any-eku": ("551d2500", True),
    "any-eku-non-minimal": ("551d258000", False),
    "server-auth-non-minimal": ("2b0601050507038001", False),
    "truncated": ("2b060105050783", False),
    "empty": ("", False),
    "huge-arc": ("2b060105050703" + "8180808080808080808001", False),
}


def add_oids(c):
    for label, body in OID_FORMS.items():
        c.csr("oid-attribute", label, "root",
              plain_csr(name(rdn(atv(oid_raw(body), string_value("utf8", "Hostile OID"))))), ["?=Hostile OID"])
    c.csr("oid-attribute", "cn-as-octet-string-tag", "root",
          plain_csr(name(rdn(atv(tlv(TAG_OCTET_STRING, oid_body(OID_CN)), string_value("utf8", "Hostile OID"))))),
          ["?=Hostile OID"])
    for label, (body, valid) in EKU_FORMS.items():
        der = plain_csr(attributes=[ext_request(eku_ext(oid(OID_SERVER_AUTH), oid_raw(body)))])
        c.csr("oid-eku", label, "root", der, [PLAIN_CN], {"copy-extensions": True})
        if body:
            c.csr("oid-eku", label + "-replaced", "root", der, [PLAIN_CN],
                  {"copy-extensions": True, "extended-key-usage": "serverAuth"})
    controls = {"server-client": [oid(OID_SERVER_AUTH), oid(OID_CLIENT_AUTH)],
                "unknown-eku": [oid(OID_UNKNOWN_EKU)],
                "duplicate-server-auth": [oid(OID_SERVER_AUTH), oid(OID_SERVER_AUTH)],
                "empty-sequence": []}
    for label, oids_der in controls.items():
        c.csr("eku", label, "root", plain_csr(attributes=[ext_request(eku_ext(*oids_der))]), [PLAIN_CN],
              {"copy-extensions": True})
    c.csr("eku", "set-not-sequence", "root",
          plain_csr(attributes=[ext_request(extension(oid(OID_EKU), set_of(oid(OID_SERVER_AUTH))))]), [PLAIN_CN],
          {"copy-extensions": True})
    # OIDs elsewhere in the request
    evil_san = san_ext(gn(GN_DNS_NAME, "www.evil.com"))
    c.csr("oid-extension", "san-oid-non-minimal", "excl-dns",
          plain_csr(attributes=[ext_request(extension(oid_raw("551d8011"), general_names(gn(GN_DNS_NAME, "www.evil.com"))))]),
          [PLAIN_CN], {"copy-extensions": True})
    c.csr("oid-extension", "eku-oid-non-minimal-ocsp", "root",
          plain_csr(attributes=[ext_request(extension(oid_raw("551d8025"), seq(oid(OID_OCSP_SIGNING))))]),
          [PLAIN_CN], {"copy-extensions": True})
    c.csr("oid-extension", "ext-request-oid-non-minimal", "excl-dns",
          plain_csr(attributes=[seq(oid_raw("2a864886f70d0109800e"), set_of(seq(evil_san)))]),
          [PLAIN_CN], {"copy-extensions": True})
    key = Key()
    c.csr("oid-spki", "ec-public-key-non-minimal", "root",
          key.sign(info(key, simple_name((OID_CN, "Hostile Case")), spki=key.spki(alg=oid_raw("2a8648ce3d800201")))),
          [PLAIN_CN])
    key = Key()
    c.csr("oid-spki", "curve-non-minimal", "root",
          key.sign(info(key, simple_name((OID_CN, "Hostile Case")), spki=key.spki(curve=oid_raw("2a8648ce3d03800107")))),
          [PLAIN_CN])
    key = Key()
    c.csr("oid-signature", "ecdsa-sha256-non-minimal", "root",
          key.sign(info(key, simple_name((OID_CN, "Hostile Case"))), sig_alg=oid_raw("2a8648ce3d04800302")),
          [PLAIN_CN])
    # extensions the requester may not choose
    requested_ext = {
        "basic-constraints-ca": extension(oid(OID_BASIC_CONSTRAINTS), seq(boolean(True)), boolean(True)),
        "key-usage-cert-sign": extension(oid(OID_KEY_USAGE), bit_string(b"\x06", 1), boolean(True)),
        "name-constraints": extension(oid(OID_NAME_CONSTRAINTS),
                                      seq(tlv(TAG_CONTEXT_0_CONSTRUCTED, seq(gn(GN_DNS_NAME, "evil.com")))),
                                      boolean(True)),
        "unknown-critical": extension(oid(OID_UNKNOWN_EXTENSION), tlv(TAG_UTF8_STRING, b"x"), boolean(True)),
        "unknown": extension(oid(OID_UNKNOWN_EXTENSION), tlv(TAG_UTF8_STRING, b"x")),
    }
    for label, ext in requested_ext.items():
        c.csr("extension-requested", label, "root", plain_csr(attributes=[ext_request(ext)]), [PLAIN_CN],
              {"copy-extensions": True})


def add_booleans(c):
    forms = {"ber-true-01": tlv(TAG_BOOLEAN, b"\x01"), "ber-true-7f": tlv(TAG_BOOLEAN, b"\x7f"),
             "der-true": boolean(True), "explicit-false": boolean(False),
             "two-octets": tlv(TAG_BOOLEAN, b"\x00\xff"), "zero-octets": tlv(TAG_BOOLEAN, b""),
             "integer-tag": integer(1)}
    for label, crit in forms.items():
        c.csr("boolean-san", label, "root",
              plain_csr(attributes=[ext_request(san_ext(gn(GN_DNS_NAME, "www.example.com"), critical=crit))]),
              [PLAIN_CN, "DNS:www.example.com"], {"copy-extensions": True})
        c.csr("boolean-eku", label, "root",
              plain_csr(attributes=[ext_request(eku_ext(oid(OID_SERVER_AUTH), critical=crit))]),
              [PLAIN_CN], {"copy-extensions": True})
    c.csr("boolean-basic-constraints", "ber-true-01", "root",
          plain_csr(attributes=[ext_request(extension(oid(OID_BASIC_CONSTRAINTS), seq(tlv(TAG_BOOLEAN, b"\x01"))))]),
          [PLAIN_CN], {"copy-extensions": True})


def add_lengths(c):
    """Lengths that are not DER, lengths that lie, bytes after the end."""
    cn_text = b"Hostile Case"
    n = len(cn_text)

    def cn_with_length(length):
        return name(rdn(atv(oid(OID_CN), tlv(TAG_UTF8_STRING, cn_text, length))))

    plain_subject = simple_name((OID_CN, "Hostile Case"))
    cases = {
        "cn-length-81": cn_with_length(b"\x81" + bytes([n])),
        "cn-length-8200": cn_with_length(b"\x82\x00" + bytes([n])),
        "cn-length-85": cn_with_length(b"\x85\x00\x00\x00\x00" + bytes([n])),
        "subject-length-non-minimal": with_length(plain_subject, non_minimal_length),
        "subject-indefinite": b"\x30\x80" + split_tlv(plain_subject)[1] + b"\x00\x00",
        "cn-length-overrun": cn_with_length(bytes([n + 3])),
        "cn-length-short": cn_with_length(bytes([n - 3])),
        "cn-constructed-utf8": name(rdn(atv(oid(OID_CN), tlv(0x2C, tlv(TAG_UTF8_STRING, cn_text))))),
    }
    for label, subject in cases.items():
        c.csr("length-subject", label, "root", plain_csr(subject), [PLAIN_CN])
    key = Key()
    c.csr("length-info", "info-length-non-minimal", "root",
          key.sign(with_length(info(key, plain_subject), non_minimal_length)), [PLAIN_CN])
    key = Key()
    c.csr("length-info", "info-indefinite", "root",
          key.sign(b"\x30\x80" + split_tlv(info(key, plain_subject))[1] + b"\x00\x00"), [PLAIN_CN])
    key = Key()
    c.csr("length-info", "info-trailing-bytes", "root", key.sign(info(key, plain_subject, trailer=b"\x05\x00")), [PLAIN_CN])
    key = Key()
    c.csr("length-info", "info-then-garbage", "root", key.sign(info(key, plain_subject) + b"\x00"), [PLAIN_CN])
    c.csr("length-outer", "outer-length-non-minimal", "root", with_length(plain_csr(), non_minimal_length), [PLAIN_CN])
    c.csr("length-outer", "trailing-garbage", "root", plain_csr() + b"\x00\x00", [PLAIN_CN])
    c.csr("length-outer", "trailing-second-csr", "root", plain_csr() + plain_csr(), [PLAIN_CN])
    key = Key()
    c.csr("length-outer", "signature-unused-bits", "root",
          key.sign(info(key, plain_subject), unused_bits=1), [PLAIN_CN])
    # inside the requested extensions
    names = general_names(gn(GN_DNS_NAME, "www.example.com"))
    ext_cases = {
        "san-octet-length-non-minimal": seq(oid(OID_SAN), tlv(TAG_OCTET_STRING, names, non_minimal_length(len(names)))),
        "san-dns-length-81": extension(oid(OID_SAN), seq(tlv(GN_DNS_NAME, b"www.example.com", b"\x81\x0f"))),
        "san-trailing-in-octets": extension(oid(OID_SAN), names + b"\x00\x00"),
        "san-trailing-in-extension": seq(oid(OID_SAN), octet_string(names), b"\x05\x00"),
        "san-generalnames-indefinite": extension(oid(OID_SAN), b"\x30\x80" + names[2:] + b"\x00\x00"),
        "san-empty-generalnames": extension(oid(OID_SAN), seq()),
        "san-dns-constructed": extension(oid(OID_SAN), seq(tlv(0xA2, tlv(TAG_IA5_STRING, b"www.evil.com")))),
    }
    for label, ext in ext_cases.items():
        requested = [PLAIN_CN, "DNS:www.example.com"]
        c.csr("length-extension", label, "root", plain_csr(attributes=[ext_request(ext)]), requested,
              {"copy-extensions": True})
    # the attributes field
    attr_cases = {
        "attributes-missing": {"attributes_field": b""},
        "attributes-primitive-tag": {"attributes_field": tlv(TAG_CONTEXT_0_PRIMITIVE, b"")},
        "challenge-password": {"attributes": [seq(oid(OID_CHALLENGE_PASSWORD), set_of(tlv(TAG_UTF8_STRING, b"secret")))]},
        "two-extension-requests": {"attributes": [ext_request(san_ext(gn(GN_DNS_NAME, "www.example.com"))),
                                                  ext_request(san_ext(gn(GN_DNS_NAME, "www.evil.com")))]},
        "two-san-extensions": {"attributes": [ext_request(san_ext(gn(GN_DNS_NAME, "www.example.com")),
                                                          san_ext(gn(GN_DNS_NAME, "www.evil.com")))]},
        "extension-request-two-values": {"attributes": [seq(oid(OID_EXTENSION_REQUEST), set_of(
            seq(san_ext(gn(GN_DNS_NAME, "www.example.com"))), seq(san_ext(gn(GN_DNS_NAME, "www.evil.com")))))]},
        "extension-request-empty-set": {"attributes": [seq(oid(OID_EXTENSION_REQUEST), tlv(TAG_SET, b""))]},
        "extension-request-empty-sequence": {"attributes": [seq(oid(OID_EXTENSION_REQUEST), set_of(seq()))]},
        "attributes-unsorted": {"attributes": [
            seq(oid(OID_EXTENSION_REQUEST), set_of(seq(san_ext(gn(GN_DNS_NAME, "www.example.com"))))),
            seq(oid(OID_CHALLENGE_PASSWORD), set_of(tlv(TAG_UTF8_STRING, b"secret")))], "sort_attributes": False},
    }
    for label, kw in attr_cases.items():
        c.csr("attributes", label, "excl-dns", plain_csr(**kw), [PLAIN_CN, "DNS:www.example.com"],
              {"copy-extensions": True})


def add_versions(c):
    forms = {"v1-zero": integer(0), "v2": integer(1), "v3": integer(2), "seven": integer(7), "minus-one": integer(-1),
             "255": integer(255), "256": integer(256), "zero-non-minimal": tlv(TAG_INTEGER, b"\x00\x00"),
             "enumerated-zero": tlv(TAG_ENUMERATED, b"\x00"), "empty-integer": tlv(TAG_INTEGER, b"")}
    for label, version in forms.items():
        key = Key()
        c.csr("version", label, "root", key.sign(info(key, simple_name((OID_CN, "Hostile Case")), version=version)),
              [PLAIN_CN])
    key = Key()
    subject = simple_name((OID_CN, "Hostile Case"))
    c.csr("version", "missing", "root", key.sign(seq(subject, key.spki(), tlv(TAG_CONTEXT_0_CONSTRUCTED, b""))),
          [PLAIN_CN])


def ip_octets(value):
    try:
        return ipaddress.ip_address(value).packed
    except ValueError:
        return None


def add_sans(c):
    """Every SAN kind under permitted and excluded constraints of its own
    kind, through :issue, :sign-csr :san, and copied from the request."""
    for kind, (values, tag, profiles) in SAN_KINDS.items():
        for value in values:
            entry = kind + ":" + value
            requested = san_name(kind, value)
            for ca in profiles:
                c.add("san-issue", entry, ca, "issue", {"common-name": "Hostile SAN Case", "san": [entry]},
                      requested=[OID_CN + "=Hostile SAN Case", requested])
                if copy_csr(kind, tag, value):
                    c.csr("san-copy", entry, ca, copy_csr(kind, tag, value), [PLAIN_CN, copied_name(kind, value)],
                          {"copy-extensions": True})
            c.csr("san-option", entry, profiles[0], plain_csr(), [PLAIN_CN, requested], {"san": [entry]})
            if copy_csr(kind, tag, value):
                c.csr("san-not-copied", entry, profiles[1], copy_csr(kind, tag, value), [PLAIN_CN])
    for label, octets in IP_RAW.items():
        for ca in ["perm-ip", "excl-ip"]:
            c.csr("san-copy", "IP-raw-" + label, ca,
                  plain_csr(attributes=[ext_request(san_ext(tlv(GN_IP_ADDRESS, octets)))]),
                  [PLAIN_CN, "IP:?"], {"copy-extensions": True})
    # a name of one kind under constraints of every other kind
    one = {"DNS": "DNS:www.evil.com", "IP": "IP:10.66.1.1", "email": "email:alice@evil.com",
           "URI": "URI:https://www.evil.com/"}
    for kind, entry in one.items():
        for ca in PROFILES:
            if ca != "root" and ca not in SAN_KINDS[kind][2]:
                c.add("san-cross-kind", entry, ca, "issue", {"common-name": "Hostile SAN Case", "san": [entry]},
                      requested=[OID_CN + "=Hostile SAN Case", san_name(kind, entry.split(":", 1)[1])])
    # a directoryName alternative name carrying an excluded host name
    c.csr("san-copy", "dirName-cn-evil", "excl-dns",
          plain_csr(attributes=[ext_request(san_ext(tlv(GN_DIRECTORY_NAME, simple_name((OID_CN, "www.evil.com")))))]),
          [PLAIN_CN], {"copy-extensions": True})
    # every kind at once, a control
    everything = ["DNS:www.example.com", "IP:10.1.2.3", "email:alice@example.com", "URI:https://www.example.com/"]
    c.add("san-issue", "all-kinds", "root", "issue", {"common-name": "Hostile SAN Case", "san": everything},
          requested=[OID_CN + "=Hostile SAN Case"] + [san_name(*e.split(":", 1)) for e in everything])


_copy_cache = {}


def copy_csr(kind, tag, value):
    """A CSR requesting one alternative name (cached: one per name)."""
    if (kind, value) not in _copy_cache:
        if kind == "IP":
            octets = ip_octets(value)
            der = None if octets is None else plain_csr(attributes=[ext_request(san_ext(tlv(tag, octets)))])
        else:
            der = plain_csr(attributes=[ext_request(san_ext(gn(tag, value)))])
        _copy_cache[(kind, value)] = der
    return _copy_cache[(kind, value)]


def add_subject_names(c):
    """Host names as a CN and addresses as an emailAddress, under constraints."""
    for value in DNS_VALUES:
        for ca in ["perm-dns", "excl-dns"]:
            c.csr("cn-host", value, ca, plain_csr(simple_name((OID_CN, value))), [OID_CN + "=" + value])
            c.add("cn-host-issue", value, ca, "issue", {"common-name": value}, requested=[OID_CN + "=" + value])
    for value in EMAIL_VALUES:
        for ca in ["perm-email", "excl-email"]:
            c.csr("subject-email", value, ca,
                  plain_csr(simple_name((OID_CN, "Hostile Case"), (OID_EMAIL_ADDRESS, value, "ia5"))),
                  [PLAIN_CN, OID_EMAIL_ADDRESS + "=" + value, "email:" + value])


def probe_for(entry, where):
    """A leaf the new CA should be able to issue: a name inside a permitted
    entry, or one outside an excluded entry."""
    kind, _, value = entry.partition(":")
    if where == "excluded":
        outside = {"DNS": "DNS:probe.example.net", "email": "email:probe@example.net",
                   "URI": "URI:https://probe.example.net/",
                   "IP": "IP:2001:db8::1" if ":" in value else "IP:192.0.2.1"}
        san = outside.get(kind)
    elif kind == "DNS":
        san = "DNS:probe." + value.lstrip(".").lower()
    elif kind == "email":
        san = "email:" + (value if "@" in value.lstrip("@") else
                          "probe@sub" + value if value.startswith(".") else "probe@" + value.lstrip("@"))
    elif kind == "URI":
        san = "URI:https://" + ("probe" + value if value.startswith(".") else value) + "/"
    elif kind == "IP":
        try:
            san = "IP:" + str(next(iter(ipaddress.ip_network(value, strict=False).hosts())))
        except (ValueError, StopIteration):
            san = "IP:10.1.2.3"
    else:
        san = None
    return {"common-name": "Hostile Probe Leaf", "san": [san] if san else []}


PROBE_PLAIN = {"common-name": "Hostile Probe Leaf"}

CONSTRAINT_ENTRIES = [
    "DNS:.example.com", "DNS:example.com", "DNS:EXAMPLE.com", "DNS:example.com.", "DNS:*.example.com",
    "DNS:a..example.com", "DNS:-x-.example.com", "DNS:", "DNS:xn--bcher-kva.example.com",
    "DNS:xn--a.example.com", "DNS:1.2.3.4", "DNS:exa mple.com", "DNS:example.com/x", "DNS:b\u00fccher.example.com",
    "DNS:example.com\x00.evil.com", "IP:10.0.0.0/8", "IP:10.0.0.1/8", "IP:10.0.0.0/33", "IP:10.0.0.0",
    "IP:::ffff:10.0.0.0/104", "IP:fd00::/8", "IP:fd00::/129", "IP:10.0.0.0/255.0.0.0", "IP:10.0.0.0/08",
    "email:@example.com", "email:example.com", "email:.example.com", "email:probe@example.com",
    "email:a@.example.com", "email:", "email:EXAMPLE.COM", "URI:.example.com", "URI:example.com",
    "URI:https://example.com/", "URI:*.example.com", "URI:", "URI:probe.example.com:443", "dirName:CN=x",
]


def add_intermediates(c):
    """generate-intermediate with hostile names and constraints, and CA:TRUE CSRs."""
    # (every CA a case makes has a name of its own, unless the case is about
    # names: two CAs of one name would issue the same issuer and serial)
    for where in ["permitted", "excluded"]:
        for i, entry in enumerate(CONSTRAINT_ENTRIES):
            cn = "Hostile Child %d %s" % (i, where)
            c.add("intermediate-constraint", where + "-" + entry, "root", "generate-intermediate",
                  {"common-name": cn, "name-constraints": {where: [entry]}},
                  requested=[OID_CN + "=" + cn], probe=probe_for(entry, where))
    # constraints wider than the parent's
    for entry, probe in [("DNS:evil.com", "DNS:probe.evil.com"), ("DNS:com", "DNS:probe.evil.com")]:
        c.add("intermediate-widen", entry, "perm-dns", "generate-intermediate",
              {"common-name": "Hostile Child widen " + entry, "name-constraints": {"permitted": [entry]}},
              requested=[OID_CN + "=Hostile Child widen " + entry],
              probe={"common-name": "Hostile Probe Leaf", "san": [probe]})
    # names: equal to the parent's or an ancestor's, host names under constraints, odd text
    names = [("root", ROOT_CN), ("root", ROOT_CN.upper()), ("root", ROOT_CN + " "), ("root", " " + ROOT_CN),
             ("root", ROOT_CN.replace(" ", "  ")),
             ("perm-dns", profile_cn("perm-dns")), ("perm-dns", ROOT_CN), ("perm-dns", profile_cn("perm-dns").lower()),
             ("excl-dns", profile_cn("excl-dns")), ("excl-dns", ROOT_CN),
             ("excl-dns", "www.evil.com"), ("excl-dns", "WWW2.EVIL.COM"), ("excl-dns", "www3.evil.com."),
             ("excl-dns", "www4.evil.com\x00"), ("perm-dns", "www.example.com"), ("perm-dns", "www5.evil.com"),
             ("root", "Hostile\x00CA"), ("root", "Hostile\nCA"), ("root", ""), ("root", "a" * 64), ("root", "a" * 65),
             ("root", "Zwischen-CA \u00dc"), ("root", "Hostile\u202eCA")]
    for ca, cn in names:
        c.add("intermediate-name", repr(cn), ca, "generate-intermediate", {"common-name": cn},
              requested=[OID_CN + "=" + cn], probe=PROBE_PLAIN)
    # siblings: a second CA of a name the parent has already certified
    for cn in ["Hostile Sibling CA", "Hostile Sibling CA", "HOSTILE SIBLING CA"]:
        c.add("intermediate-sibling", repr(cn), "root", "generate-intermediate", {"common-name": cn},
              requested=[OID_CN + "=" + cn], probe=PROBE_PLAIN)
    # CA:TRUE requests, subject equal to the signer's or an ancestor's
    ca_csrs = [("root", simple_name((OID_CN, ROOT_CN)), [OID_CN + "=" + ROOT_CN], "CA:TRUE,pathlen:0"),
               ("root", simple_name((OID_CN, ROOT_CN, "printable")), [OID_CN + "=" + ROOT_CN], "CA:TRUE,pathlen:0"),
               ("root", simple_name((OID_CN, ROOT_CN.upper())), [OID_CN + "=" + ROOT_CN.upper()], "CA:TRUE,pathlen:0"),
               ("perm-dns", simple_name((OID_CN, profile_cn("perm-dns"))), [OID_CN + "=" + profile_cn("perm-dns")],
                "CA:TRUE,pathlen:0"),
               ("perm-dns", simple_name((OID_CN, ROOT_CN)), [OID_CN + "=" + ROOT_CN], "CA:TRUE,pathlen:0"),
               ("perm-dns", simple_name((OID_CN, "Hostile Sub CA 1")), [OID_CN + "=Hostile Sub CA 1"],
                "CA:TRUE,pathlen:0"),
               ("root", simple_name((OID_CN, "Hostile Sub CA 2")), [OID_CN + "=Hostile Sub CA 2"], "CA:TRUE,pathlen:1")]
    for ca, subject, requested, bc in ca_csrs:
        key = Key()
        c.csr("ca-csr", requested[0].split("=", 1)[1] + "-" + bc, ca, key.sign(info(key, subject)), requested,
              {"basic-constraints": bc}, key=key, probe=PROBE_PLAIN)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-hostile-csrs.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    c = Corpus(outdir)
    add_subject_strings(c)
    add_rdns(c)
    add_oids(c)
    add_booleans(c)
    add_lengths(c)
    add_versions(c)
    add_sans(c)
    add_subject_names(c)
    add_intermediates(c)
    profiles = {}
    for p, nc in PROFILES.items():
        profiles[p] = {"common-name": profile_cn(p)}
        if nc:
            profiles[p]["name-constraints"] = nc
    manifest = {"profiles": profiles, "cases": c.cases}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(outdir, "manifest.jdn"), "w") as f:
        f.write(janet_data.dumps(manifest) + "\n")
    print(len(c.cases))


if __name__ == "__main__":
    main()
