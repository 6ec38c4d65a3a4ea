#!/usr/bin/env python3
"""A peer of the benchmark (issues 7 and 12): Python `cryptography` doing what
`bench/run.janet` asks of jsec/ca, with the same inputs and outputs.

    python3 bench/peer.py [--rounds N] [--csr PATH] [--ocsp-request PATH] [--ocsp-request-160 PATH]
                          [op[=I[xR]] ...]
    python3 bench/peer.py --serve [--ocsp-request PATH] [--ocsp-request-160 PATH]

Operations (default: all):
  issue-ec-p256, issue-ec-p384, issue-ec-p521, issue-rsa-2048, issue-rsa-3072,
  issue-ed25519
      what (:issue ca {...}) does: a new key of that type, a certificate for
      it signed by a P-256 CA (ECDSA-SHA256): subject CN=bench.example, SAN
      DNS:bench.example, basicConstraints CA:FALSE critical, keyUsage critical
      digitalSignature (plus keyEncipherment for RSA, as jsec/ca does), EKU
      serverAuth, SKI, AKI, 365 days; returns the certificate PEM and the key
      as unencrypted PKCS#8 PEM.
  sign-csr
      what (:sign-csr ca csr-pem) does: parse the PEM CSR, check its
      signature, certify its subject and key (CA:FALSE, keyUsage
      digitalSignature, SKI, AKI, 365 days); returns the certificate PEM.
  ocsp-parse, ocsp-parse-160
      what (ca/parse-ocsp-request der) does: parse the DER request, read the
      first CertID (hash algorithm, name hash, key hash, serial) and the
      nonce; ocsp-parse-160 for a request whose serial has 160 bits
      (--ocsp-request-160, else one made here).
  ocsp-response
      what (:create-ocsp-response ca info :good) does: a signed basic OCSP
      response for that CertID (by hash), status good, this/next update,
      echoing the nonce; returns the DER.
  crl-N
      what (:generate-crl ca) does for a CA holding N revoked serials (1..N,
      one revocation date, no reason): a CRL (last/next update, CRL number,
      AKI) signed by the P-256 CA, as PEM. The entries are built once,
      outside the timing, as the CA holds them, and handed to the builder's
      constructor: the documented way, add_revoked_certificate once per
      entry, copies the list each time (quadratic: about 28 s for 100,000).

`op=I` runs I iterations per round, `op=IxR` also sets the rounds of that
operation. Prints `peer <name> <seconds-per-op>`, the median over the rounds,
and `peer-p25` / `peer-p75` lines with the quartiles of the rounds.

`--serve` instead answers lines `<ocsp-parse or ocsp-parse-160> <calls>` on
stdin with the seconds those parses took (after `peer-serving`): the paired
child of bench/run.janet takes turns with it.
"""

import datetime
import statistics
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_OPS = [
    ("issue-ec-p256", 200),
    ("issue-ec-p384", 60),
    ("issue-ec-p521", 40),
    ("issue-rsa-2048", 1),
    ("issue-rsa-3072", 1),
    ("issue-ed25519", 200),
    ("sign-csr", 200),
    ("ocsp-parse", 2000),
    ("ocsp-parse-160", 2000),
    ("ocsp-response", 400),
    ("crl-100000", 1),
]

KEYGEN = {
    "issue-ec-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "issue-ec-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "issue-ec-p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "issue-rsa-2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "issue-rsa-3072": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
    "issue-ed25519": lambda: ed25519.Ed25519PrivateKey.generate(),
}


class CA:
    """A P-256 root, as (ca/generate {:common-name "Bench CA"}) makes it (or of
    the key `key`, signing with `hash`: None for ML-DSA)."""

    def __init__(self, key=None, hash=hashes.SHA256()):
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        self.hash = hash
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(self.key, self.hash)
        )
        self.aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        self.serial = 1

    def next_serial(self):
        s = self.serial
        self.serial += 1
        return s

    def _end_entity(self, subject, public_key, rsa_key, extra=()):
        now = datetime.datetime.now(datetime.timezone.utc)
        b = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(self.next_serial())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False), critical=True
            )
        )
        for ext, critical in extra:
            b = b.add_extension(ext, critical=critical)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        b = b.add_extension(self.aki, critical=False)
        return b.sign(self.key, self.hash)

    def issue(self, keygen, rsa_key):
        key = keygen()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.example")])
        extra = [
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.SubjectAlternativeName([x509.DNSName("bench.example")]), False),
        ]
        cert = self._end_entity(subject, key.public_key(), rsa_key, extra)
        return {
            "cert": cert.public_bytes(serialization.Encoding.PEM),
            "key": key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        }

    def sign_csr(self, csr_pem):
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        cert = self._end_entity(csr.subject, csr.public_key(), False)
        return cert.public_bytes(serialization.Encoding.PEM)

    def crl(self, revoked, number):
        now = datetime.datetime.now(datetime.timezone.utc)
        b = x509.CertificateRevocationListBuilder(
            issuer_name=self.name,
            last_update=now,
            next_update=now + datetime.timedelta(days=30),
            revoked_certificates=revoked,
        )
        b = b.add_extension(self.aki, critical=False).add_extension(x509.CRLNumber(number), critical=False)
        return b.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def ocsp_response(self, info):
        now = datetime.datetime.now(datetime.timezone.utc)
        b = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=info["issuer-name-hash"],
            issuer_key_hash=info["issuer-key-hash"],
            serial_number=info["serial"],
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + datetime.timedelta(days=1),
            revocation_time=None,
            revocation_reason=None,
        )
        b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, self.cert)
        if info["nonce"] is not None:
            b = b.add_extension(x509.OCSPNonce(info["nonce"]), critical=False)
        return b.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def parse_ocsp_request(der):
    req = ocsp.load_der_ocsp_request(der)
    try:
        nonce = req.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        nonce = None
    return {
        "hash-algorithm": req.hash_algorithm,
        "issuer-name-hash": req.issuer_name_hash,
        "issuer-key-hash": req.issuer_key_hash,
        "serial": req.serial_number,
        "nonce": nonce,
    }


def make_csr():
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.example")]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def make_ocsp_request(ca, serial=None):
    """A request for a leaf of `ca`, or (by hash) for `serial` under `ca`."""
    if serial is None:
        leaf = ca.issue(KEYGEN["issue-ec-p256"], False)["cert"]
        b = ocsp.OCSPRequestBuilder().add_certificate(x509.load_pem_x509_certificate(leaf), ca.cert, hashes.SHA1())
    else:
        name_hash = hashes.Hash(hashes.SHA1())
        name_hash.update(ca.cert.subject.public_bytes())
        key_hash = hashes.Hash(hashes.SHA1())
        key_hash.update(ca.cert.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        b = ocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash.finalize(), key_hash.finalize(), serial, hashes.SHA1())
    b = b.add_extension(x509.OCSPNonce(b"\x5a" * 16), critical=False)
    return b.build().public_bytes(serialization.Encoding.DER)


def quartile(xs, q):
    """Quartile q (0.25, 0.75) of sorted xs, linearly interpolated (as bench_floor.rs)."""
    x = q * (len(xs) - 1)
    lo, hi = int(x), min(int(x) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (x - lo)


def measure(rounds, iters, f):
    """(median, p25, p75) of the seconds per call over the rounds, after one warm-up call."""
    f()  # warm-up
    per_round = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(iters):
            f()
        per_round.append((time.perf_counter() - t) / iters)
    per_round.sort()
    return statistics.median(per_round), quartile(per_round, 0.25), quartile(per_round, 0.75)


def serve_parses(requests):
    """`--serve`: reads lines `<ocsp-parse or ocsp-parse-160> <calls>` on stdin,
    parses that request that many times and answers `<seconds>`, until stdin
    ends. The benchmark's paired child takes turns with it on one core (the
    module's parse rows are a microsecond, and this VM's memory speed moves
    from one second to the next)."""
    print("peer-serving", flush=True)
    for line in sys.stdin:
        name, _, calls = line.strip().partition(" ")
        der = requests[name]
        parse_ocsp_request(der)  # as `measure`, a warm-up call
        t = time.perf_counter()
        for _ in range(int(calls)):
            parse_ocsp_request(der)
        print(f"{time.perf_counter() - t:.9f}", flush=True)
    return 0


def main(argv):
    rounds, csr_path, ocsp_path, ocsp160_path, ops, serve = 5, None, None, None, [], False
    it = iter(argv)
    for a in it:
        if a == "--rounds":
            rounds = int(next(it))
        elif a == "--csr":
            csr_path = next(it)
        elif a == "--ocsp-request":
            ocsp_path = next(it)
        elif a == "--ocsp-request-160":
            ocsp160_path = next(it)
        elif a == "--serve":
            serve = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            name, _, spec = a.partition("=")
            iters, op_rounds = dict(DEFAULT_OPS).get(name, 1), None
            if spec:
                i, _, r = spec.partition("x")
                iters, op_rounds = int(i), (int(r) if r else None)
            ops.append((name, iters, op_rounds))
    if not ops:
        ops = [(n, i, None) for n, i in DEFAULT_OPS]

    ca = CA()
    csr = open(csr_path, "rb").read() if csr_path else make_csr()
    ocsp_der = open(ocsp_path, "rb").read() if ocsp_path else make_ocsp_request(ca)
    ocsp160_der = (
        open(ocsp160_path, "rb").read() if ocsp160_path else make_ocsp_request(ca, 0x5A3C1F0E9D8B7A695847362514F3E2D1C0B0A090)
    )
    if serve:
        return serve_parses({"ocsp-parse": ocsp_der, "ocsp-parse-160": ocsp160_der})
    for name, iters, op_rounds in ops:
        r = max(1, op_rounds or rounds)
        iters = max(1, iters)
        if name.startswith("issue-ml-dsa-"):
            # ML-DSA (issue 23): a CA of the same parameter set, as the module's row.
            cls = {"44": mldsa.MLDSA44PrivateKey, "65": mldsa.MLDSA65PrivateKey, "87": mldsa.MLDSA87PrivateKey}[name[-2:]]
            pq_ca = CA(cls.generate(), None)
            secs = measure(r, iters, lambda: pq_ca.issue(cls.generate, False))
        elif name in KEYGEN:
            keygen, rsa_key = KEYGEN[name], name.startswith("issue-rsa")
            secs = measure(r, iters, lambda: ca.issue(keygen, rsa_key))
        elif name == "sign-csr":
            secs = measure(r, iters, lambda: ca.sign_csr(csr))
        elif name == "ocsp-parse":
            secs = measure(r, iters, lambda: parse_ocsp_request(ocsp_der))
        elif name == "ocsp-parse-160":
            assert parse_ocsp_request(ocsp160_der)["serial"].bit_length() > 128, "a wide serial"
            secs = measure(r, iters, lambda: parse_ocsp_request(ocsp160_der))
        elif name.startswith("crl-"):
            when = datetime.datetime.now(datetime.timezone.utc)
            revoked = [
                x509.RevokedCertificateBuilder().serial_number(i).revocation_date(when).build()
                for i in range(1, int(name[4:]) + 1)
            ]
            number = iter(range(1, 1 << 62))
            secs = measure(r, iters, lambda: ca.crl(revoked, next(number)))
        elif name == "ocsp-response":
            info = parse_ocsp_request(ocsp_der)
            secs = measure(r, iters, lambda: ca.ocsp_response(info))
        else:
            print(f"peer.py: unknown operation {name!r}", file=sys.stderr)
            return 2
        print(f"peer {name} {secs[0]:.9f}", flush=True)
        print(f"peer-p25 {name} {secs[1]:.9f}", flush=True)
        print(f"peer-p75 {name} {secs[2]:.9f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
