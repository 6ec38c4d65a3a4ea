#!/usr/bin/env python3
"""Hostile ACME clients against `jsec-ca acme-serve` (plain HTTP, loopback),
for test/acme-hostile.janet. Raw JWS built here by hand (ES256), raw HTTP.

    acme-hostile.py hostile BASE HTTP01_PORT VALIDATION_TIMEOUT
    acme-hostile.py issue   BASE HTTP01_PORT OUT_PEM

Prints one line per check, "PASS name" or "FAIL name: detail", and "DONE n"
at the end; the Janet test turns each into a check. Runs its own http-01
target on 127.0.0.1:HTTP01_PORT, which serves per token: the right key
authorization, a wrong one, a redirect elsewhere, or nothing at all (holds
the connection); and its own tls-alpn-01 target on HTTP01_PORT + 1, which
answers per server name with the right challenge certificate, one holding
another digest, one without the acmeIdentifier extension, or no ALPN. Every
wait is bounded in count and time.
"""
import base64, datetime, hashlib, hmac, http.client, http.server, json, os, socket, socketserver, ssl, sys
import tempfile, threading, time
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

ERR = "urn:ietf:params:acme:error:"
results = []


def check(ok, name, detail=""):
    results.append(bool(ok))
    print(("PASS " + name) if ok else ("FAIL " + name + ": " + detail), flush=True)
    return ok


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Key:
    def __init__(self):
        self.k = ec.generate_private_key(ec.SECP256R1())
        n = self.k.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64u(n.x.to_bytes(32, "big")), "y": b64u(n.y.to_bytes(32, "big"))}
        self.thumbprint = b64u(hashlib.sha256(json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()).digest())

    def sign(self, data):
        r, s = decode_dss_signature(self.k.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def exchange(host, port, method, path, body=None, ctype="application/jose+json", timeout=30):
    """One HTTP request on a connection of its own: (status, lower-cased headers
    plus "_content-type", the body parsed as JSON when it says so, else bytes)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Content-Type": ctype} if body is not None else {}
        try:
            c.request(method, path, body=body, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it read everything
        r = c.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        c.close()
    try:
        parsed = json.loads(raw) if raw and "json" in hdrs.get("content-type", "") else raw
    except ValueError:
        parsed = raw
    hdrs["_content-type"] = hdrs.get("content-type", "")
    return r.status, hdrs, parsed


class Server:
    def __init__(self, base):
        self.base = base
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        st, _, d = self.request("GET", base + "/directory")
        assert st == 200, f"directory: {st}"
        self.dir = d

    def request(self, method, url, body=None, ctype="application/jose+json"):
        u = urlsplit(url)
        assert (u.hostname, u.port) == (self.host, self.port), f"{url} is not on the server"
        return exchange(self.host, self.port, method, u.path, body, ctype)

    def nonce(self):
        st, h, _ = self.request("HEAD", self.dir["newNonce"])
        return h["replay-nonce"]

    def jws(self, key, url, payload, kid=None, jwk=True, alg="ES256", nonce=None, mac_key=None):
        protected = {"alg": alg, "nonce": nonce or self.nonce(), "url": url}
        if kid:
            protected["kid"] = kid
        if jwk:
            protected["jwk"] = key.jwk
        p64 = b64u(json.dumps(protected).encode())
        pl64 = "" if payload is None else b64u(json.dumps(payload).encode())
        signing_input = (p64 + "." + pl64).encode()
        if alg == "none":
            sig = b""
        elif alg == "HS256":
            sig = hmac.new(mac_key, signing_input, hashlib.sha256).digest()
        else:
            sig = key.sign(signing_input)
        return json.dumps({"protected": p64, "payload": pl64, "signature": b64u(sig)}).encode()


class Account:
    def __init__(self, srv, key=None):
        self.srv, self.key = srv, key or Key()
        st, h, body = srv.request("POST", srv.dir["newAccount"],
                                  srv.jws(self.key, srv.dir["newAccount"], {"termsOfServiceAgreed": True}))
        assert st in (200, 201), f"newAccount: {st} {body}"
        self.kid = h["location"]

    def post(self, url, payload, **kw):
        return self.srv.request("POST", url, self.srv.jws(self.key, url, payload, kid=self.kid, jwk=False, **kw))

    def order(self, names):
        return self.post(self.srv.dir["newOrder"], {"identifiers": [{"type": "dns", "value": n} for n in names]})


def problem(name, resp, status, kind):
    st, h, body = resp
    ok = (st == status and isinstance(body, dict) and body.get("type") == ERR + kind
          and h["_content-type"].startswith("application/problem+json"))
    return check(ok, name, f"wanted HTTP {status} {kind}, got HTTP {st} {h['_content-type']} {body!r}"[:600])


# --- the http-01 validation target ------------------------------------------

behaviour = {}  # token -> ("ok", ka) | ("wrong",) | ("redirect", url) | ("hang", seconds)


class Target(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        token = self.path.rsplit("/", 1)[-1]
        b = behaviour.get(token, ("missing",))
        if b[0] == "hang":
            time.sleep(b[1])  # bounded: the server gave up long before
            return
        if b[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", b[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if b[0] == "missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (b[1] if b[0] == "ok" else token + ".not-the-account-thumbprint").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start_target(port):
    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
    s = S(("127.0.0.1", port), Target)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s


# --- the tls-alpn-01 validation target (RFC 8737) -------------------------------

alpn_behaviour = {}  # server name -> (key authorization to hash or None, offer ALPN?)
ACME_IDENTIFIER = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.31")


def tls_context(name, key_authorization, alpn):
    """A server context whose certificate names `name` and, unless
    `key_authorization` is None, holds its SHA-256 in a critical acmeIdentifier."""
    k = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False))
    if key_authorization is not None:
        digest = hashlib.sha256(key_authorization.encode()).digest()
        b = b.add_extension(x509.UnrecognizedExtension(ACME_IDENTIFIER, b"\x04\x20" + digest), critical=True)
    cert = b.sign(k, hashes.SHA256())
    d = tempfile.mkdtemp(prefix="acme-alpn-")
    with open(os.path.join(d, "c.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "c.pem"))
    if alpn:
        ctx.set_alpn_protocols(["acme-tls/1"])
    return ctx


def start_alpn_target(port):
    default = tls_context("default.invalid", None, True)
    contexts = {}

    def pick(sock, name, _):
        if name in alpn_behaviour:
            if name not in contexts:
                contexts[name] = tls_context(name, *alpn_behaviour[name])
            sock.context = contexts[name]
    default.sni_callback = pick
    listener = socket.create_server(("127.0.0.1", port), reuse_port=False)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.settimeout(5)
            try:
                with default.wrap_socket(conn, server_side=True) as t:
                    t.recv(1)  # the client's last flight, or its close
            except (OSError, ssl.SSLError):
                pass
    threading.Thread(target=serve, daemon=True).start()
    return listener


def http01(acct, order_body):
    """The http-01 challenge of the order's first authorization: (authz url, challenge)."""
    authz_url = order_body["authorizations"][0]
    st, _, authz = acct.post(authz_url, None)
    assert st == 200, f"authz: {st} {authz}"
    return authz_url, next(c for c in authz["challenges"] if c["type"] == "http-01")


def poll(acct, url, until, seconds):
    """POST-as-GET `url` until its status is not in `until` or `seconds` pass (at most 200 tries)."""
    deadline = time.monotonic() + seconds
    for _ in range(200):
        st, _, body = acct.post(url, None)
        if st != 200 or body.get("status") not in until or time.monotonic() > deadline:
            return body
        time.sleep(0.25)
    return body


def csr(names, key=None):
    k = key or ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateSigningRequestBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
         .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False))
    return b64u(b.sign(k, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def ready_order(acct, name):
    """A new order for `name` made ready by answering http-01 rightly: (order url, order)."""
    st, h, order = acct.order([name])
    assert st == 201, f"newOrder {name}: {st} {order}"
    authz_url, ch = http01(acct, order)
    behaviour[ch["token"]] = ("ok", ch["token"] + "." + acct.key.thumbprint)
    acct.post(ch["url"], {})
    authz = poll(acct, authz_url, ("pending",), 20)
    assert authz.get("status") == "valid", f"authz for {name}: {authz}"
    return h["location"], poll(acct, h["location"], ("pending",), 10)


def hostile(srv, validation_timeout):
    acct = Account(srv)
    d = srv.dir

    # A replayed nonce: the same JWS twice; the second is refused.
    body = srv.jws(acct.key, d["newAccount"], {"termsOfServiceAgreed": True})
    st, _, _ = srv.request("POST", d["newAccount"], body)
    check(st == 200, "an existing account's key is found (200) with a fresh nonce", f"got {st}")
    problem("replayed nonce: badNonce 400", srv.request("POST", d["newAccount"], body), 400, "badNonce")
    problem("invented nonce: badNonce 400",
            srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newOrder"], {"identifiers": []}, kid=acct.kid,
                                                        jwk=False, nonce="AAAAAAAAAAAAAAAAAAAAAA")), 400, "badNonce")

    # The JWS "url" is another resource's URL than the one posted to.
    order_payload = {"identifiers": [{"type": "dns", "value": "url.example.test"}]}
    problem("JWS url is newAccount's, posted to newOrder: unauthorized 403",
            srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newAccount"], order_payload, kid=acct.kid, jwk=False)),
            403, "unauthorized")

    # Algorithms: none and HS256.
    r = srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newOrder"], order_payload, kid=acct.kid, jwk=False, alg="none"))
    problem("alg none: badSignatureAlgorithm 400", r, 400, "badSignatureAlgorithm")
    check(isinstance(r[2], dict) and "ES256" in (r[2].get("algorithms") or []),
          "badSignatureAlgorithm lists the algorithms accepted", repr(r[2]))
    problem("alg HS256 (keyed with the public x): badSignatureAlgorithm 400",
            srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newOrder"], order_payload, kid=acct.kid, jwk=False,
                                                        alg="HS256", mac_key=acct.key.jwk["x"].encode())),
            400, "badSignatureAlgorithm")

    # jwk and kid together.
    problem("jwk and kid together: malformed 400",
            srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newOrder"], order_payload, kid=acct.kid, jwk=True)),
            400, "malformed")

    # An unknown account.
    problem("unknown account kid: accountDoesNotExist 400",
            srv.request("POST", d["newOrder"], srv.jws(acct.key, d["newOrder"], order_payload,
                                                        kid=srv.base + "/acme/acct/NoSuchAccount0000000000", jwk=False)),
            400, "accountDoesNotExist")
    stranger = Key()
    problem("kid of an account, signed by a stranger's key: malformed 400 (the signature does not verify)",
            srv.request("POST", d["newOrder"], srv.jws(stranger, d["newOrder"], order_payload, kid=acct.kid, jwk=False)),
            400, "malformed")

    # An oversized body (over 64 KiB): refused before any parsing.
    big = json.dumps({"protected": "x" * 70000, "payload": "", "signature": ""}).encode()
    problem("a 70 kB body: malformed 413", srv.request("POST", d["newOrder"], big), 413, "malformed")

    # Names outside the policy.
    for name in ["evil.example.org", "example.test.evil.org", "xn--bad-.example.test"]:
        problem(f"order for {name}: rejectedIdentifier 400", acct.order([name]), 400, "rejectedIdentifier")

    # Finalize: a CSR with other names, one with the account's own key.
    order_url, order = ready_order(acct, "csr.example.test")
    check(order.get("status") == "ready", "an order answered rightly is ready", repr(order))
    problem("finalize with a CSR for other names: badCSR 400",
            acct.post(order["finalize"], {"csr": csr(["other.example.test"])}), 400, "badCSR")
    problem("finalize with a CSR for the names and one more: badCSR 400",
            acct.post(order["finalize"], {"csr": csr(["csr.example.test", "more.example.test"])}), 400, "badCSR")
    problem("finalize with a CSR signed by the account key: badCSR 400",
            acct.post(order["finalize"], {"csr": csr(["csr.example.test"], acct.key.k)}), 400, "badCSR")
    problem("finalize with a CSR that is not DER: badCSR 400",
            acct.post(order["finalize"], {"csr": b64u(b"not a CSR")}), 400, "badCSR")
    _, _, order = acct.post(order_url, None)
    check(order.get("status") == "ready" and "certificate" not in order,
          "after the refused CSRs the order is still ready, without a certificate", repr(order))

    # Validations that fail: a wrong key authorization, a redirect, silence.
    cases = [("wrong", ("wrong",), "incorrectResponse"),
             ("redirect", ("redirect", "http://127.0.0.1:9/elsewhere"), "connection"),
             ("silent", ("hang", validation_timeout + 5), "connection")]
    started = {}
    for label, b, _ in cases:
        st, h, order = acct.order([label + ".example.test"])
        assert st == 201, f"order {label}: {st} {order}"
        authz_url, ch = http01(acct, order)
        behaviour[ch["token"]] = b
        started[label] = (h["location"], authz_url, time.monotonic())
        st, _, c = acct.post(ch["url"], {})
        check(st == 200 and c.get("status") in ("processing", "pending"), f"{label}: the challenge is accepted for validation",
              f"{st} {c}")
    for label, _, kind in cases:
        order_url, authz_url, t0 = started[label]
        authz = poll(acct, authz_url, ("pending",), validation_timeout + 15)
        seconds = time.monotonic() - t0
        chs = [c for c in authz.get("challenges", []) if c["type"] == "http-01"]
        err = chs[0].get("error", {}) if chs else {}
        check(authz.get("status") == "invalid" and err.get("type") == ERR + kind,
              f"{label} http-01 target: the authorization is invalid with {kind}", repr(authz)[:600])
        if label == "silent":
            check(validation_timeout - 0.5 <= seconds <= validation_timeout + 8,
                  f"a silent target is given up after the validation timeout ({validation_timeout} s)", f"{seconds:.1f} s")
        _, _, order = acct.post(order_url, None)
        check(order.get("status") == "invalid", f"{label}: the order is invalid", repr(order)[:400])
        problem(f"{label}: finalize of the invalid order: orderNotReady 403",
                acct.post(order["finalize"], {"csr": csr([label + ".example.test"])}), 403, "orderNotReady")

    # tls-alpn-01: the right challenge certificate (the control), another
    # digest, no acmeIdentifier, no ALPN chosen.
    cases = [("alpn-right", True, True, "valid", None),
             ("alpn-digest", "token.another-thumbprint", True, "invalid", "incorrectResponse"),
             ("alpn-noext", None, True, "invalid", "incorrectResponse"),
             ("alpn-noalpn", True, False, "invalid", "tls")]
    for label, ka, alpn, status, kind in cases:
        name = label + ".example.test"
        st, h, order = acct.order([name])
        assert st == 201, f"order {label}: {st} {order}"
        authz_url = order["authorizations"][0]
        _, _, authz = acct.post(authz_url, None)
        ch = next((c for c in authz["challenges"] if c["type"] == "tls-alpn-01"), None)
        if not check(ch is not None, f"{label}: a DNS name is offered tls-alpn-01", repr(authz)[:400]):
            continue
        alpn_behaviour[name] = (ch["token"] + "." + acct.key.thumbprint if ka is True else ka, alpn)
        acct.post(ch["url"], {})
        authz = poll(acct, authz_url, ("pending",), validation_timeout + 15)
        c = next(c for c in authz.get("challenges", []) if c["type"] == "tls-alpn-01")
        err = c.get("error", {}) or {}
        check(authz.get("status") == status and (kind is None or err.get("type") == ERR + kind),
              f"{label}: tls-alpn-01 leaves the authorization {status}" + (f" with {kind}" if kind else ""),
              repr(authz)[:600])


def issue(srv, out):
    acct = Account(srv)
    order_url, order = ready_order(acct, "good.example.test")
    check(order.get("status") == "ready", "the normal order is ready", repr(order))
    st, _, order = acct.post(order["finalize"], {"csr": csr(["good.example.test"])})
    check(st == 200, "finalize answers 200", f"{st} {order}")
    order = poll(acct, order_url, ("processing",), 20)
    check(order.get("status") == "valid" and "certificate" in order, "the order is valid with a certificate", repr(order))
    st, h, pem = acct.post(order["certificate"], None)
    check(st == 200 and h["_content-type"].startswith("application/pem-certificate-chain"),
          "the certificate downloads as a PEM chain", f"{st} {h['_content-type']}")
    with open(out, "wb") as f:
        f.write(pem)


def main():
    mode, base, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    target = start_target(port)
    alpn_target = start_alpn_target(port + 1)
    srv = Server(base)
    try:
        if mode == "hostile":
            hostile(srv, float(sys.argv[4]))
        else:
            issue(srv, sys.argv[4])
    finally:
        target.shutdown()
        alpn_target.close()
    print(f"DONE {len(results)}", flush=True)


if __name__ == "__main__":
    main()
