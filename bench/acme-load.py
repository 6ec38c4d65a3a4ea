#!/usr/bin/env python3
"""ACME load for scripts/bench-acme: THREADS clients, each with its own
account and one keep-alive connection, run whole orders (newOrder, the
authorization, POST to its http-01 challenge, poll until valid, finalize
with a fresh P-256 CSR, poll until valid, download the certificate) until
MAX_ORDERS orders are done or SECONDS pass. The server must pass every
validation without looking (jsec-ca --validation always-valid, pebble
PEBBLE_VA_ALWAYS_VALID=1). Raw JWS (ES256), raw HTTP(S).

    acme-load.py DIRECTORY_URL DOMAIN THREADS MAX_ORDERS SECONDS [CA_FILE]

Prints one line: "orders N failed F seconds S orders_per_second R".
"""
import base64, hashlib, http.client, json, ssl, sys, threading, time
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

directory_url, domain = sys.argv[1], sys.argv[2]
threads, max_orders, seconds = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ca_file = sys.argv[6] if len(sys.argv) > 6 else None
u0 = urlsplit(directory_url)
ctx = ssl.create_default_context(cafile=ca_file) if u0.scheme == "https" else None
if ctx:
    ctx.check_hostname = False  # pebble's certificate is for localhost; trust is still by ca_file


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Client:
    def __init__(self):
        self.conn = None
        self.k = ec.generate_private_key(ec.SECP256R1())
        n = self.k.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
        self.nonce = None
        self.kid = None

    def request(self, method, url, body=None):
        for attempt in range(3):
            if self.conn is None:
                if ctx:
                    self.conn = http.client.HTTPSConnection(u0.hostname, u0.port, timeout=30, context=ctx)
                else:
                    self.conn = http.client.HTTPConnection(u0.hostname, u0.port, timeout=30)
            try:
                headers = {"Content-Type": "application/jose+json"} if body is not None else {}
                self.conn.request(method, urlsplit(url).path, body=body, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("Replay-Nonce"):
                    self.nonce = r.getheader("Replay-Nonce")
                return r.status, r, raw
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def post(self, url, payload, jwk=False):
        for _ in range(5):  # badNonce is retried (RFC 8555 §6.5)
            if not self.nonce:
                self.request("HEAD", d["newNonce"])
            prot = {"alg": "ES256", "nonce": self.nonce, "url": url}
            if jwk:
                prot["jwk"] = self.jwk
            else:
                prot["kid"] = self.kid
            self.nonce = None
            p64 = b64u(json.dumps(prot).encode())
            pl64 = "" if payload is None else b64u(json.dumps(payload).encode())
            r, s = decode_dss_signature(self.k.sign((p64 + "." + pl64).encode(), ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
            st, resp, raw = self.request("POST", url, json.dumps({"protected": p64, "payload": pl64, "signature": b64u(sig)}).encode())
            body = json.loads(raw) if raw and "json" in (resp.getheader("Content-Type") or "") else raw
            if st == 400 and isinstance(body, dict) and body.get("type", "").endswith(":badNonce"):
                continue
            return st, resp, body
        raise RuntimeError("badNonce five times")

    def poll(self, url, until):
        for _ in range(400):
            st, _, body = self.post(url, None)
            if st != 200 or body.get("status") not in until:
                return body
            time.sleep(0.02)
        raise RuntimeError(f"{url} stayed {until}")

    def order(self, name):
        st, resp, o = self.post(d["newOrder"], {"identifiers": [{"type": "dns", "value": name}]})
        if st != 201:
            raise RuntimeError(f"newOrder {st} {o}")
        order_url = resp.getheader("Location")
        for a in o["authorizations"]:
            st, _, authz = self.post(a, None)
            if authz["status"] == "pending":
                ch = next(c for c in authz["challenges"] if c["type"] == "http-01")
                self.post(ch["url"], {})
                authz = self.poll(a, ("pending", "processing"))
            if authz["status"] != "valid":
                raise RuntimeError(f"authz {authz}")
        o = self.poll(order_url, ("pending",))
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
               .sign(key, hashes.SHA256()))
        st, _, o2 = self.post(o["finalize"], {"csr": b64u(csr.public_bytes(serialization.Encoding.DER))})
        if st != 200:
            raise RuntimeError(f"finalize {st} {o2}")
        o = self.poll(order_url, ("ready", "processing"))
        if o.get("status") != "valid":
            raise RuntimeError(f"order {o}")
        st, _, pem = self.post(o["certificate"], None)
        if st != 200 or b"BEGIN CERTIFICATE" not in pem:
            raise RuntimeError(f"certificate {st}")


boot = Client()
st, _, raw = boot.request("GET", directory_url)
d = json.loads(raw)
lock = threading.Lock()
done = [0]
failed = [0]
errors = []
started = [0]


def worker(i, c, t_end):
    n = 0
    while time.monotonic() < t_end:
        with lock:
            if started[0] >= max_orders:
                return
            started[0] += 1
        n += 1
        try:
            c.order(f"t{i}-{n}-{int(time.time() * 1000) % 100000000}.{domain}")
            with lock:
                done[0] += 1
        except Exception as e:  # counted and shown, never retried
            with lock:
                failed[0] += 1
                errors.append(repr(e)[:300])


clients = []
for i in range(threads):
    c = Client()
    st, resp, body = c.post(d["newAccount"], {"termsOfServiceAgreed": True}, jwk=True)
    if st not in (200, 201):
        sys.exit(f"newAccount: {st} {body}")
    c.kid = resp.getheader("Location")
    clients.append(c)
t0 = time.monotonic()
ts = [threading.Thread(target=worker, args=(i, c, t0 + seconds), daemon=True) for i, c in enumerate(clients)]
for t in ts:
    t.start()
for t in ts:
    t.join(seconds + 60)
elapsed = time.monotonic() - t0
for e in errors[:3]:
    print("error:", e, file=sys.stderr)
print(f"orders {done[0]} failed {failed[0]} seconds {elapsed:.2f} orders_per_second {done[0] / elapsed:.2f}")
