#!/usr/bin/env python3
"""ACME across several `jsec-ca acme-serve` processes on one store, and
finalizes cut short, for test/acme-fleet-pg.janet and test/acme-crash*.janet.
Raw JWS (ES256) and raw HTTP, with the key, CSR and http-01 target of
test/support/acme-hostile.py.

    acme-fleet.py fleet --base URL --ports P,P,P --http01 N --out DIR [--clients 8 --orders 4]
        Every process is given the one --base-url clients use (a load
        balancer's); each request here goes to a process drawn at random, so
        an order is made on one, answered on another, finalized (for each
        client's first order: at once on two) and downloaded through others.
        Nonces: one from process A is good at B once, and refused there (and
        at C) when replayed.
    acme-fleet.py crash --port P --base URL --http01 N --db DB [--landed 3 --attempts 100] -- SERVE...
        Starts SERVE (an acme-serve command line, the store's ACME lease
        short), readies orders, then again and again: starts the server,
        sends a finalize and SIGKILLs the server a random moment later,
        and reads the order from the store: still "processing" means the
        kill landed between the order marked processing and its certificate
        attached. Until DB shows --landed such kills, some before the
        certificate was recorded in the CA's index and some after (FAIL when
        not within --attempts). Then restarts it and completes every order by polling
        or by finalizing again.
    acme-fleet.py slow --ports A,B --base URL --http01 N --db DB --lease S [--attempts 100] -- SERVE...
        Two processes (SERVE with {port} replaced): a finalize sent to A,
        A stopped (SIGSTOP) while the order is processing, B takes the order
        over after the lease, then A goes on (SIGCONT) and finishes its
        signing: its attaching write must lose. Until one takeover signed
        under a fresh serial beside a live A (FAIL when none in --attempts).
        A stop that catches A holding the SQLite write lock, or inside a
        PostgreSQL transaction, is let go at once and not counted: every
        process waits for such a one (up to its busy timeout), which is not
        the case here.

DB is sqlite:PATH or pg:DIR (a cluster of scripts/pg-test-cluster). Prints
"PASS name" / "FAIL name: detail" per check, "ORDER name serial-hex order-url
[pem-file]" per completed order, "STAT key value" lines, and "DONE n" last.
"""
import argparse, importlib.util, json, os, random, signal, socket, sqlite3, subprocess, sys, threading, time
from urllib.parse import urlsplit

from cryptography import x509

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("acme_hostile", os.path.join(here, "acme-hostile.py"))
H = importlib.util.module_from_spec(spec)
spec.loader.exec_module(H)
b64u, Key, csr = H.b64u, H.Key, H.csr
ERR = H.ERR
lock = threading.Lock()


def check(ok, name, detail=""):
    """H.check, one whole line at a time among the client threads."""
    with lock:
        return H.check(ok, name, detail)


def out(line):
    with lock:
        print(line, flush=True)


class Fleet:
    """The processes behind one base URL: each request to one of `ports`."""

    def __init__(self, base, ports):
        self.base, self.ports = base.rstrip("/"), list(ports)
        st, _, d = self.request("GET", self.base + "/directory", port=self.ports[0])
        assert st == 200, f"directory: {st} {d}"
        self.dir = d

    def request(self, method, url, body=None, port=None, timeout=60):
        assert url.startswith(self.base), f"{url} is not under {self.base}"
        return H.exchange("127.0.0.1", port or random.choice(self.ports), method, urlsplit(url).path, body,
                          timeout=timeout)

    def nonce(self, port=None):
        return self.request("HEAD", self.dir["newNonce"], port=port)[1]["replay-nonce"]

    def jws(self, key, url, payload, kid=None, nonce=None, port=None):
        protected = {"alg": "ES256", "nonce": nonce or self.nonce(port), "url": url}
        if kid:
            protected["kid"] = kid
        else:
            protected["jwk"] = key.jwk
        p64 = b64u(json.dumps(protected).encode())
        pl64 = "" if payload is None else b64u(json.dumps(payload).encode())
        sig = key.sign((p64 + "." + pl64).encode())
        return json.dumps({"protected": p64, "payload": pl64, "signature": b64u(sig)}).encode()


class Client:
    """One account; every request through a process drawn at random unless `port` says."""

    def __init__(self, fleet):
        self.f, self.key = fleet, Key()
        url = fleet.dir["newAccount"]
        st, h, body = fleet.request("POST", url, fleet.jws(self.key, url, {"termsOfServiceAgreed": True}))
        assert st in (200, 201), f"newAccount: {st} {body}"
        self.kid = h["location"]

    def post(self, url, payload, port=None, timeout=60):
        body = self.f.jws(self.key, url, payload, kid=self.kid, port=port)
        return self.f.request("POST", url, body, port=port, timeout=timeout)

    def ready_order(self, name, port=None):
        """A new order for `name` made ready by answering http-01 rightly: (order url, order)."""
        st, h, order = self.post(self.f.dir["newOrder"], {"identifiers": [{"type": "dns", "value": name}]}, port=port)
        assert st == 201, f"newOrder {name}: {st} {order}"
        for authz_url in order["authorizations"]:
            st, _, authz = self.post(authz_url, None, port=port)
            assert st == 200, f"authz: {st} {authz}"
            ch = next(c for c in authz["challenges"] if c["type"] == "http-01")
            H.behaviour[ch["token"]] = ("ok", ch["token"] + "." + self.key.thumbprint)
            st, _, c = self.post(ch["url"], {}, port=port)
            assert st == 200, f"challenge: {st} {c}"
        order = self.poll(h["location"], ("pending",), 30, port=port)
        assert order.get("status") == "ready", f"order {name} is not ready: {order}"
        return h["location"], order

    def poll(self, url, until, seconds, port=None):
        """POST-as-GET `url` until its status is not in `until` or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while True:
            st, _, body = self.post(url, None, port=port)
            if st != 200 or not isinstance(body, dict) or body.get("status") not in until or time.monotonic() > deadline:
                return body
            time.sleep(0.1)


def serial_of(pem):
    return format(x509.load_pem_x509_certificate(pem).serial_number, "x")


def sans_of(pem):
    c = x509.load_pem_x509_certificate(pem)
    return sorted(c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))


# --- the store, read directly -------------------------------------------------

class Store:
    def __init__(self, spec):
        self.kind, _, self.where = spec.partition(":")

    def order(self, order_id):
        """The order object's data as the store holds it (committed), or None."""
        if self.kind == "sqlite":
            c = sqlite3.connect(self.where, timeout=30)
            try:
                row = c.execute("SELECT data FROM acme_object WHERE kind = 'order' AND id = ?", (order_id,)).fetchone()
            finally:
                c.close()
            return json.loads(row[0]) if row else None
        script = os.path.join(here, "..", "..", "scripts", "pg-test-cluster")
        assert all(ch.isalnum() or ch in "-_" for ch in order_id)
        r = subprocess.run(["bash", script, "sql", self.where, "primary",
                            f"SELECT data FROM jsec_ca.acme_object WHERE kind = 'order' AND id = '{order_id}'"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout) if r.stdout.strip() else None


    def recorded(self, host):
        """How many certificates for `host` the CA's index holds (recorded, not just reserved)."""
        assert all(ch.isalnum() or ch in "-." for ch in host)
        if self.kind == "sqlite":
            c = sqlite3.connect(self.where, timeout=30)
            try:
                return c.execute("SELECT count(*) FROM issued WHERE pending = 0 AND sans = ?", ("DNS:" + host,)).fetchone()[0]
            finally:
                c.close()
        script = os.path.join(here, "..", "..", "scripts", "pg-test-cluster")
        r = subprocess.run(["bash", script, "sql", self.where, "primary",
                            f"SELECT count(*) FROM jsec_ca.issued WHERE NOT pending AND sans = 'DNS:{host}'"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return int(r.stdout.strip())

    def locked(self):
        """Whether a session holds the store's write lock (SQLite) or sits
        inside a transaction (PostgreSQL): a stopped process would make every
        other wait for it."""
        if self.kind == "sqlite":
            c = sqlite3.connect(self.where, timeout=0, isolation_level=None)
            try:
                c.execute("BEGIN IMMEDIATE")
                c.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                c.close()
        script = os.path.join(here, "..", "..", "scripts", "pg-test-cluster")
        r = subprocess.run(["bash", script, "sql", self.where, "primary",
                            "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip() != "0"


def order_id(url):
    return url.rsplit("/", 1)[-1]


# --- servers -------------------------------------------------------------------

def wait_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, argv, port, log):
        self.argv, self.port, self.log, self.p = argv, port, log, None

    def start(self):
        with open(self.log, "ab") as f:
            self.p = subprocess.Popen(self.argv, stdout=f, stderr=f, stdin=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise RuntimeError(f"acme-serve did not listen on {self.port}; see {self.log}")

    def kill(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()

    def signal(self, sig):
        self.p.send_signal(sig)


def finalize_async(client, url, payload, port):
    """Sends a finalize from a thread; returns (thread, box) where box gets [status, body] or [None, error]."""
    body = client.f.jws(client.key, url, payload, kid=client.kid, port=port)
    box = []

    def run():
        try:
            st, _, b = client.f.request("POST", url, body, port=port, timeout=120)
            box.extend([st, b])
        except Exception as e:  # the server was killed under the request
            box.extend([None, repr(e)])
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


def finalize_seconds(client, name, port):
    """How long one finalize takes (ready order to answer), for aiming the kills."""
    url, order = client.ready_order(name, port=port)
    body = client.f.jws(client.key, order["finalize"], {"csr": csr([name])}, kid=client.kid, port=port)
    t0 = time.monotonic()
    st, _, o = client.f.request("POST", order["finalize"], body, port=port)
    dt = time.monotonic() - t0
    o = client.poll(url, ("processing",), 20, port=port)
    assert o.get("status") == "valid", f"warm-up order {name}: {o}"
    return dt, url, o


# --- modes ---------------------------------------------------------------------

def fleet_mode(a):
    ports = [int(p) for p in a.ports.split(",")]
    f = Fleet(a.base, ports)
    A, B, C = ports[0], ports[1], ports[2 % len(ports)]

    # Nonces: one from A is good at B, once; replayed at B or C it is refused.
    key = Key()
    url = f.dir["newAccount"]
    body = f.jws(key, url, {"termsOfServiceAgreed": True}, nonce=f.nonce(A))
    st, h, acct = f.request("POST", url, body, port=B)
    check(st == 201, "a nonce from process A is good at process B", f"{st} {acct}")
    for p, label in [(B, "B"), (C, "C"), (A, "A")]:
        st, _, pb = f.request("POST", url, body, port=p)
        check(st == 400 and isinstance(pb, dict) and pb.get("type") == ERR + "badNonce",
              f"the same JWS replayed at process {label}: badNonce", f"{st} {pb}")
    # the nonce of B's answer, used at C
    body2 = f.jws(key, url, {"termsOfServiceAgreed": True}, nonce=h["replay-nonce"])
    st, _, acct2 = f.request("POST", url, body2, port=C)
    check(st == 200, "the Replay-Nonce of B's answer is good at C (the account found again)", f"{st} {acct2}")

    results, errors = [], []

    def client(i):
        try:
            c = Client(f)
            for j in range(a.orders):
                name = f"c{i}o{j}.fleet.test"
                url, order = c.ready_order(name)
                payload = {"csr": csr([name])}
                if j == 0:
                    # the same finalize at once through two processes
                    p1, p2 = random.sample(ports, 2)
                    t1, b1 = finalize_async(c, order["finalize"], payload, p1)
                    t2, b2 = finalize_async(c, order["finalize"], payload, p2)
                    t1.join(120)
                    t2.join(120)
                    check(b1[:1] == [200] and b2[:1] == [200],
                          f"{name}: one finalize at once through two processes: both answered 200", f"{b1} {b2}")
                else:
                    st, _, o = c.post(order["finalize"], payload)
                    check(st == 200, f"{name}: finalize answered 200", f"{st} {o}")
                o = c.poll(url, ("processing", "ready"), 60)
                if not check(o.get("status") == "valid" and "certificate" in o, f"{name}: the order is valid with a certificate", repr(o)):
                    continue
                st, h, pem = c.post(o["certificate"], None)
                ok = check(st == 200 and h.get("content-type", "").startswith("application/pem-certificate-chain"),
                           f"{name}: the certificate downloads", f"{st} {h}")
                if not ok:
                    continue
                pem_file = os.path.join(a.out, name + ".pem")
                with open(pem_file, "wb") as fh:
                    fh.write(pem)
                check(sans_of(pem) == [name], f"{name}: the certificate is for its name", repr(sans_of(pem)))
                with lock:
                    results.append((name, serial_of(pem), url, o["certificate"], c))
                out(f"ORDER {name} {serial_of(pem)} {url} {pem_file}")
        except Exception as e:
            errors.append(f"client {i}: {e!r}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    out(f"STAT fleet-seconds {time.monotonic() - t0:.1f}")
    check(not errors, "every client ran to the end", "; ".join(errors)[:2000])
    check(len(results) == a.clients * a.orders, f"all {a.clients * a.orders} orders completed",
          f"{len(results)} completed")
    serials = [r[1] for r in results]
    check(len(set(serials)) == len(serials), "every certificate has its own serial", repr(serials))
    # Asked again through every process: each order valid, still with the one certificate.
    for name, serial, url, cert_url, c in results:
        seen = set()
        for p in ports:
            st, _, o = c.post(url, None, port=p)
            seen.add((st, o.get("status") if isinstance(o, dict) else None, o.get("certificate") if isinstance(o, dict) else None))
        check(seen == {(200, "valid", cert_url)}, f"{name}: every process shows the order valid with the same certificate", repr(seen))


def crash_mode(a):
    store = Store(a.db)
    srv = Server(a.serve, a.port, a.log)
    srv.start()
    f = Fleet(a.base, [a.port])
    c = Client(f)
    times = [finalize_seconds(c, f"warm{i}.crash.test", a.port)[0] for i in range(2)]
    aim = min(times) / 2
    out(f"STAT finalize-seconds {min(times):.3f}")
    # readied up front: the server is killed under each one's finalize
    orders = []
    landed, attempts, outcomes = 0, 0, {}
    # until kills landed on both sides of the certificate's recording in the
    # CA's index (the takeover then attaches it, or signs anew)
    while attempts < a.attempts and (landed < a.landed or attempts < a.min_attempts
                                     or not outcomes.get("processing, recorded") or not outcomes.get("processing, unrecorded")):
        name = f"k{attempts}.crash.test"
        if srv.p.poll() is not None:
            srv.start()
        url, order = c.ready_order(name, port=a.port)
        t, box = finalize_async(c, order["finalize"], {"csr": csr([name])}, a.port)
        time.sleep(random.uniform(0.5 * aim, 1.5 * aim))
        srv.kill()
        t.join(10)
        attempts += 1
        data = store.order(order_id(url)) or {}
        st = data.get("status")
        if st == "processing":
            landed += 1
            st += ", recorded" if store.recorded(name) else ", unrecorded"
        outcomes[st] = outcomes.get(st, 0) + 1
        # aim at the window, and at the side of the recording not hit yet:
        # later after a kill too early, sooner after one too late
        later = {"ready": 1.2, "valid": 0.85}.get(st, 1)
        if st == "processing, unrecorded" and not outcomes.get("processing, recorded"):
            later = 1.1
        if st == "processing, recorded" and not outcomes.get("processing, unrecorded"):
            later = 0.9
        aim *= later
        orders.append((name, url, order["finalize"], data.get("serial") if data.get("status") == "processing" else None))
    out(f"STAT kills {attempts}")
    out(f"STAT landed {landed}")
    out(f"STAT outcomes {json.dumps(outcomes, sort_keys=True)}")
    check(landed >= 1, f"a kill landed between the order marked processing and its certificate attached ({landed} of {attempts}; {outcomes})")
    check(outcomes.get("processing, recorded") and outcomes.get("processing, unrecorded"),
          f"kills landed both before and after the certificate was recorded in the CA's index ({outcomes})")
    srv.start()
    # Every order completes: a processing one by polling (the next request after
    # the lease takes it over) or by finalizing again; a ready one by finalizing.
    attached, resigned = 0, 0
    for i, (name, url, fin, killed_serial) in enumerate(orders):
        o = c.poll(url, (), 1, port=a.port)
        if o.get("status") == "ready" or (o.get("status") == "processing" and i % 2 == 0):
            st, _, r = c.post(fin, {"csr": csr([name])}, port=a.port)
            check(st == 200, f"{name}: finalize again after the restart ({o.get('status')})", f"{st} {r}")
        o = c.poll(url, ("processing", "ready"), a.lease + 30, port=a.port)
        if check(o.get("status") == "valid" and "certificate" in o, f"{name}: the order completes after the restart", repr(o)):
            st, _, pem = c.post(o["certificate"], None, port=a.port)
            check(st == 200 and sans_of(pem) == [name], f"{name}: its certificate downloads", f"{st}")
            out(f"ORDER {name} {serial_of(pem)} {url}")
            if killed_serial:
                # the takeover attached what the killed process had recorded, or signed anew
                if serial_of(pem) == killed_serial.lower().removeprefix("0x").lstrip("0"):
                    attached += 1
                else:
                    resigned += 1
            # and finalizing once more changes nothing
            st, _, r = c.post(fin, {"csr": csr([name])}, port=a.port)
            check(st == 200 and r.get("certificate") == o["certificate"],
                  f"{name}: a finalize of the valid order gives the same certificate", f"{st} {r}")
    out(f"STAT takeovers attached {attached}, signed anew {resigned}")
    srv.kill()


def slow_mode(a):
    store = Store(a.db)
    pa, pb = [int(p) for p in a.ports.split(",")]
    A = Server([x.replace("{port}", str(pa)) for x in a.serve], pa, a.log + ".a")
    B = Server([x.replace("{port}", str(pb)) for x in a.serve], pb, a.log + ".b")
    A.start()
    B.start()
    try:
        f = Fleet(a.base, [pa, pb])
        c = Client(f)
        times = [finalize_seconds(c, f"warm{i}.slow.test", pa)[0] for i in range(2)]
        aim = min(times) / 2
        fresh, attempts, stalls, locks = 0, 0, 0, 0
        while attempts < a.attempts and fresh < 1:
            attempts += 1
            name = f"s{attempts}.slow.test"
            url, order = c.ready_order(name, port=pb)
            t, box = finalize_async(c, order["finalize"], {"csr": csr([name])}, pa)
            time.sleep(random.uniform(0.5 * aim, 1.5 * aim))
            A.signal(signal.SIGSTOP)
            data = store.order(order_id(url)) or {}
            # aim at the window: later after a stop too early, sooner after one too late
            aim *= {"ready": 1.25, "valid": 0.8}.get(data.get("status"), 1)
            if data.get("status") != "processing":
                out(f"STAT slow-miss {data.get('status')}")
                A.signal(signal.SIGCONT)
                t.join(60)
                o = c.poll(url, ("processing", "ready"), 30, port=pb)
                check(o.get("status") == "valid", f"{name}: (A not stopped inside the window) the order completes", repr(o))
                continue
            if store.locked():
                # stopped inside a commit: everyone would wait for it, which is
                # not the case here (a process slow while it signs)
                out("STAT slow-miss locked")
                locks += 1
                A.signal(signal.SIGCONT)
                t.join(60)
                o = c.poll(url, ("processing", "ready"), 30, port=pb)
                check(o.get("status") == "valid", f"{name}: (A stopped holding a lock) the order completes", repr(o))
                continue
            first = data.get("serial")
            time.sleep(a.lease + 0.3)
            # B takes over; bounded: A may be stopped holding a lock B waits for
            done = []
            tb = threading.Thread(target=lambda: done.append(c.poll(url, ("processing",), a.lease + 20, port=pb)), daemon=True)
            tb.start()
            tb.join(a.lease + 3)
            stalled = tb.is_alive()
            if stalled:
                d = store.order(order_id(url)) or {}
                out(f"STAT slow-stall-detail {json.dumps({k: d.get(k) for k in ('status', 'since', 'serial', 'abandoned', 'certificate')})} now={time.time():.1f} locked={store.locked()}")
            A.signal(signal.SIGCONT)
            tb.join(90)
            t.join(90)
            o = done[0] if done else {}
            if not check(o.get("status") == "valid" and "certificate" in o, f"{name}: B completes the order A stalled on", repr(o)):
                continue
            taken = o["certificate"].rsplit("/", 1)[-1].lower().lstrip("0")
            out(f"STAT slow-landed stalled={stalled} fresh={taken != first.lower().lstrip('0')}")
            if stalled:
                stalls += 1
            elif taken != first.lower().lstrip("0"):
                fresh += 1
            check(box[:1] == [200] and isinstance(box[1], dict) and box[1].get("certificate") == o["certificate"],
                  f"{name}: A's own finalize, once it goes on, answers with B's certificate", repr(box)[:600])
            # A's attach lost; the order stays as B left it, through either process
            for p in (pa, pb):
                st, _, again = c.post(url, None, port=p)
                check(again.get("certificate") == o["certificate"], f"{name}: the order keeps B's certificate (asked at {p})", repr(again))
            st, _, pem = c.post(o["certificate"], None, port=pb)
            out(f"ORDER {name} {serial_of(pem)} {url}")
            out(f"SLOW {name} {first}")
        out(f"STAT slow-attempts {attempts}")
        out(f"STAT slow-stalls {stalls}")
        out(f"STAT slow-locked {locks}")
        check(fresh >= 1, f"a takeover signed under a fresh serial while A, stopped inside its finalize, was alive ({attempts} attempts; {locks} stopped holding a lock, {stalls} stalled)")
    finally:
        for s in (A, B):
            if s.p and s.p.poll() is None:
                s.signal(signal.SIGCONT)
            s.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["fleet", "crash", "slow"])
    ap.add_argument("--base", required=True)
    ap.add_argument("--ports")
    ap.add_argument("--port", type=int)
    ap.add_argument("--http01", type=int, required=True)
    ap.add_argument("--out")
    ap.add_argument("--db")
    ap.add_argument("--log", default="/dev/null")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--orders", type=int, default=4)
    ap.add_argument("--landed", type=int, default=3)
    ap.add_argument("--attempts", type=int, default=100)
    ap.add_argument("--min-attempts", type=int, default=12)
    ap.add_argument("--lease", type=float, default=1)
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:cut])
    a.serve = argv[cut + 1:]
    target = H.start_target(a.http01)
    try:
        {"fleet": fleet_mode, "crash": crash_mode, "slow": slow_mode}[a.mode](a)
    finally:
        target.shutdown()
    print(f"DONE {len(H.results)}", flush=True)


if __name__ == "__main__":
    main()
