# bin/jsec-ca on a PostgreSQL store (issue 15): `--store URL` on every
# command, so that several hosts (here: CA directories of their own, each
# process on its own) run `issue`, `revoke`, `renew` and `crl` against one
# database and `ocsp-serve` from a hot standby. Judged by openssl (verify,
# ocsp -url, crl) and by the index; the database password comes from
# PGPASSWORD and never shows in any output. Also: `migrate --store` moves an
# old state.jdn directory into the database, and `issue` through the standby
# is a clear error.
(import ./support/check :as t)
(import ./support/cli)
(import ./support/pg)

(pg/require "cli-pg")

(def work (t/tmpdir "cli-pg"))

(with [c (pg/start work {:standby true}) pg/stop]
  (def db-password (c :password))
  (defn bare [url] (string/replace (string ":" db-password "@") "@" url))
  (def primary (bare (c :primary)))
  (def standby (bare (c :standby)))
  (def ctx (cli/context work {"JSEC_CA_PASSWORD" "fleet secret" "PGPASSWORD" db-password}))
  (defn- file [& parts] (cli/file ctx ;parts))
  (def outputs @[])
  (defn exits [want what & args]
    (def out (cli/exits ctx want what ;args))
    (array/push outputs out)
    out)

  # --- one CA in the database, made on host a ---------------------------------------
  (let [out (exits 0 "init --store" "init" "--store" primary "--dir" "host-a" "--intermediate")]
    (t/ok (string/find (string "postgresql://jsec@127.0.0.1:" (c :port) "/jsec") out)
          (string "init names the store by its URL: " out)))
  (t/ok (not (os/stat (file "host-a/ca.db"))) "with --store there is no D/ca.db")
  (t/ok (string/find "already holds a CA" (exits 1 "init twice" "init" "--store" primary "--dir" "host-z"))
        "init on a database that holds a CA fails")
  (def root (file "host-a/root.crt"))
  (def sub (file "host-a/intermediate.crt"))

  # --- several hosts issue at once ------------------------------------------------------
  (def names ["a1.example" "b1.example" "a2.example" "b2.example"])
  (def procs (seq [[i n] :pairs names]
               (cli/spawn ctx "issue" n "--store" primary "--dir" (if (even? i) "host-a" "host-b"))))
  (def serials @[])
  (each [p n] (map tuple procs names)
    (def [code out] (cli/finish p))
    (array/push outputs out)
    (t/ok (zero? code) (string "issue " n " from its host: " out))
    (array/push serials (cli/issued-serial out)))
  (t/same (length (distinct serials)) 4 (string "four issuances at once, four serials: " (string/format "%j" serials)))
  (each [i n] (pairs names)
    (def crt (file (if (even? i) "host-a" "host-b") "certs" (string n ".crt")))
    (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" root "-untrusted" sub crt))
    (t/ok (zero? code) (string n " verifies: " out)))
  (def listed (exits 0 "list from a third host" "list" "--store" primary "--dir" "host-c"))
  (each n names (t/ok (string/find n listed) (string "list shows " n ": " listed)))

  # --- OCSP from the standby, revocation from another host ---------------------------------------
  (t/ok (pg/replayed c 30) "the standby replays the CA")
  (def [server port banner] (cli/start-ocsp ctx "host-c" "--store" standby))
  (defer (os/proc-kill server true)
    (t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts on the standby: " banner))
    (def b1 (file "host-b/certs/b1.example.crt"))
    (let [[ok status out] (cli/ocsp port sub root b1)]
      (t/ok (and ok (= status "good")) (string "good before the revocation: " out)))
    (exits 0 "revoke on host a" "revoke" (serials 1) "--reason" "key-compromise" "--store" primary "--dir" "host-a")
    (t/ok (pg/replayed c 30) "the standby replays the revocation")
    (let [[ok status out] (cli/ocsp port sub root b1)]
      (t/ok (and ok (= status "revoked") (string/find "keyCompromise" out))
            (string "the responder on the standby answers revoked at the next request: " out)))

    # renew on host b a certificate host a issued
    (exits 0 "renew on host b" "renew" "a1.example" "--store" primary "--dir" "host-b")
    (t/ok (pg/replayed c 30) "the standby replays the renewal")
    (let [[ok status out] (cli/ocsp port sub root (file "host-a/certs/a1.example.crt"))]
      (t/ok (and ok (= status "revoked") (string/find "superseded" out))
            (string "the renewed certificate is revoked as superseded: " out)))
    (let [[ok status out] (cli/ocsp port sub root (file "host-b/certs/a1.example.crt"))]
      (t/ok (and ok (= status "good")) (string "its successor is good: " out))))

  # --- export on a host without the CA's files: the chain from the store --------------------
  (exits 0 "export on host b" "export" "b2.example" "--p12" "--password" "p12pass" "--store" primary "--dir" "host-b")
  (let [[code out] (t/openssl "pkcs12" "-info" "-in" (file "host-b/certs/b2.example.p12") "-passin" "pass:p12pass" "-nodes")]
    (t/ok (zero? code) (string "openssl pkcs12 -info reads the export: " out))
    (t/same (length (string/find-all "BEGIN CERTIFICATE" out)) 3
            "the export holds the certificate, the intermediate and the root, from the store"))
  (t/ok (string/find "no CA certificate" (exits 1 "export without --store on a host without the CA's files"
                                               "export" "b2.example" "--p12" "--password" "p12pass" "--dir" "host-b"))
        "export without a chain fails instead of writing a file without it")

  # --- CRLs from two hosts share one numbering ---------------------------------------------
  (exits 0 "crl on host a" "crl" "--store" primary "--dir" "host-a" "--out" (file "crl-a.pem"))
  (exits 0 "crl on host b" "crl" "--store" primary "--dir" "host-b" "--out" (file "crl-b.pem"))
  (defn crl-number [f]
    (def [_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" f))
    (scan-number (string/trim (string/replace "crlNumber=" "" (string/trim out)))))
  (t/ok (> (crl-number (file "crl-b.pem")) (crl-number (file "crl-a.pem"))) "the second host's CRL has a higher number")
  (let [[code out] (t/openssl "crl" "-noout" "-text" "-CAfile" sub "-in" (file "crl-b.pem"))]
    (t/ok (and (zero? code) (string/find "Key Compromise" out) (string/find "Superseded" out))
          (string "the CRL lists both revocations: " out)))
  (let [out (exits 0 "expiring" "expiring" "--days" "400" "--store" primary "--dir" "host-c")]
    (t/ok (string/find "3 certificate(s) expire" out) (string "expiring counts the valid certificates: " out)))

  # --- the standby is read-only; the URL's password never shows -----------------------------
  (t/ok (string/find "read-only" (exits 1 "issue through the standby" "issue" "x.example" "--store" standby "--dir" "host-c"))
        "issuing through the standby fails clearly")
  (let [[code out] (cli/run-env ctx {"PGPASSWORD" ""} "list" "--store" primary "--dir" "host-c")]
    (array/push outputs out)
    (t/ok (and (= code 1) (string/find "password" out)) (string "no database password: a clear failure: " out)))
  (let [[code out] (cli/run-env ctx {"JSEC_CA_STORE" primary} "list" "--dir" "host-c")]
    (array/push outputs out)
    (t/ok (and (zero? code) (string/find "a2.example" out)) (string "JSEC_CA_STORE names the store too: " out)))
  (each out outputs
    (t/ok (not (string/find db-password out)) (string "no output shows the database password: " out)))

  # --- migrate a state.jdn directory into a database -----------------------------------------
  (pg/sql c "CREATE DATABASE migrated OWNER jsec")
  (def old (cli/context work {"JSEC_CA_PASSWORD" "fleet secret"} "test/support/jsec-ca-state-jdn"))
  (cli/exits old 0 "old init" "init" "--dir" "old")
  (def o1 (cli/issued-serial (cli/exits old 0 "old issue" "issue" "old1.example" "--dir" "old")))
  (cli/exits old 0 "old revoke" "revoke" o1 "--reason" "superseded" "--dir" "old")
  (def into (string "postgresql://jsec@127.0.0.1:" (c :port) "/migrated"))
  (exits 0 "migrate --store" "migrate" "--store" into "--dir" "old")
  (t/ok (not (os/stat (file "old/ca.db"))) "migrate --store writes no D/ca.db")
  (let [out (exits 0 "list the migrated CA" "list" "--store" into "--dir" "elsewhere")]
    (t/ok (string/find "revoked:superseded" out) (string "the migrated revocation is in the database: " out)))
  (def o2 (cli/issued-serial (exits 0 "issue after migrate" "issue" "old2.example" "--store" into "--dir" "old")))
  (t/ok (> (scan-number o2) (scan-number o1)) "serials go on after the migrated ones"))

(os/execute ["rm" "-rf" work] :p)
(t/done "cli-pg")
