# test-timeout: 400
# Several hosts, one CA (issue 24): three `jsec-ca acme-serve` processes on
# one PostgreSQL store, all with the one --base-url clients use, and eight
# clients whose every request goes to a process drawn at random
# (test/support/acme-fleet.py): an order made on one process is answered
# (real http-01, against a target the clients run), finalized (each client's
# first order at once through two processes), polled and downloaded through
# others. Every order completes exactly once: valid, with one certificate, the
# same through every process; serials unique; the CA's index holds exactly as
# many certificates as orders, each the order's; each verifies with openssl
# verify -x509_strict. Nonces are shared: one from process A is good at B
# once, and a replay of it is refused (badNonce) at B, C and A. Eight
# processes opening the ACME tables of a fresh database at once all succeed.
(import ./support/check :as t)
(import ./support/pg)
(import ./support/acme-fleet :as fleet)

(pg/require "acme-fleet-pg")
(fleet/require-tools "acme-fleet-pg")

(def root (os/cwd))
(def janet (t/janet-exe))
(def jsec-ca (string root "/bin/jsec-ca"))
(def env {"JANET_PATH" (t/module-root)})
(def work (t/tmpdir "acme-fleet-pg"))
(def clients 8)
(def orders 6)
(def base "http://acme.fleet.test")
(def [p1 p2 p3 http01] (fleet/free-ports 4))

(def procs @[])
(defn stop-all [] (each p procs (protect (os/proc-kill p true))))

(with [c (pg/start work) pg/stop]
  (def db-password (c :password))
  # the password from PGPASSWORD, not in the URL the processes are given
  (def url (string/replace (string ":" db-password "@") "@" (c :primary)))
  (def run-env (merge env {"PGPASSWORD" db-password}))
  (defer (stop-all)
    (def [code out] (t/run-in run-env nil janet jsec-ca "init" "--store" url "--dir" (string work "/ca")))
    (t/ok (zero? code) (string "jsec-ca init --store: " out))
    (each p [p1 p2 p3]
      (def log (file/open (string work "/acme-serve-" p ".log") :w))
      (array/push procs
        (os/spawn [janet jsec-ca "acme-serve" "--store" url "--port" (string p) "--base-url" base
                   "--allowed-domains" "fleet.test" "--validation-address" "127.0.0.1"
                   "--http-01-port" (string http01) "--max-seconds" "600"]
                  :pe (merge (os/environ) run-env {:out log :err log}))))
    (each p [p1 p2 p3] (t/ok (fleet/wait-port p) (string "acme-serve listens on " p)))

    (def out-dir (string work "/certs"))
    (os/mkdir out-dir)
    (def t0 (os/clock :monotonic))
    (def r (fleet/drive env 300 "fleet" "--base" base "--ports" (string/join (map string [p1 p2 p3]) ",")
                        "--http01" (string http01) "--out" out-dir
                        "--clients" (string clients) "--orders" (string orders)))
    (def seconds (- (os/clock :monotonic) t0))

    # --- the CA's index: one certificate per order, no other ----------------------
    (def n (* clients orders))
    (def rows (fleet/index (string "postgresql://jsec:" db-password "@" (string/slice url (length "postgresql://jsec@"))) "root"))
    (t/same (length (r :orders)) n (string "all " n " orders reported a certificate"))
    (t/same (length rows) n (string "the CA's index holds exactly " n " certificates, one per order"))
    (t/same (sort (map |(fleet/hex ($ :serial)) rows)) (sort (map |(fleet/hex ($ 1)) (r :orders)))
            "the index's serials are the orders' serials")
    (fleet/judge-orders rows (r :orders) true)
    (def ca-pem (string work "/ca/root.crt"))
    (each [name _ _ pem] (r :orders)
      (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" ca-pem "-untrusted" pem pem))
      (t/ok (zero? code) (string name ": openssl verify -x509_strict: " out)))
    (each p [p1 p2 p3]
      (def log (slurp (string work "/acme-serve-" p ".log")))
      (t/ok (not (string/find "error" (string/ascii-lower log))) (string "acme-serve on " p " logged no errors: " log))
      (t/ok (not (string/find db-password log)) (string "acme-serve on " p " never shows the database password")))
    # --- processes opening a fresh store at once all create or find the tables --------
    (pg/sql c "CREATE DATABASE fresh OWNER jsec")
    (def fresh (string "postgresql://jsec@127.0.0.1:" (c :port) "/fresh"))
    (def openers
      (seq [i :range [0 8]]
        (os/spawn [janet "-e" (string/format "(import jsec/ca) (ca/acme-open %j {:base-url \"http://x.test\"}) (print \"opened\")" fresh)]
                  :pe (merge (os/environ) run-env {:out :pipe :err :pipe}))))
    (each p openers
      (def out (string (:read (p :out) :all) (:read (p :err) :all)))
      (t/ok (and (zero? (:wait p)) (string/find "opened" out))
            (string "one of eight processes opening the ACME tables of a fresh database at once: " out)))
    (t/same (pg/sql c "SELECT count(*) FROM pg_tables WHERE schemaname = 'jsec_ca' AND tablename LIKE 'acme_%'" :primary "fresh")
            "2" "the fresh database has its two ACME tables")

    (printf "acme-fleet-pg: %d orders by %d clients over 3 processes in %.1f s (%s s in the clients)"
            n clients seconds (get-in r [:stats "fleet-seconds"] "?"))))

(os/execute ["rm" "-rf" work] :p)
(t/done "acme-fleet-pg")
