# jsec-ca migrate: a CA directory made by the release that kept its state in
# state.jdn (test/support/jsec-ca-state-jdn is that release's bin/jsec-ca,
# unchanged) moves into D/ca.db without losing a serial (pending ones
# included), a revocation (reason and date) or a CRL number; judged by
# openssl crl, openssl ocsp and openssl verify.
(import ./support/check :as t)
(import ./support/cli)
(import jsec/ca)

(def work (t/tmpdir "cli-migrate"))
(def password "correct horse")
(def new (cli/context work {"JSEC_CA_PASSWORD" password}))
(def old (cli/context work {"JSEC_CA_PASSWORD" password} "test/support/jsec-ca-state-jdn"))

(defn- file [& parts] (cli/file new ;parts))

(defn crl-text [path] (last (t/openssl "crl" "-noout" "-text" "-in" path)))

(defn revocation-date
  "The Revocation Date openssl shows for hex `serial` in a CRL's text."
  [text serial]
  (first (peg/match ~(* (thru (* "Serial Number: " ,serial)) (thru "Revocation Date: ") (capture (to "\n"))) text)))

(defn old-state [dir] (parse (slurp (file dir "state.jdn"))))

# --- a CA made by the old release ----------------------------------------------------
(cli/exits old 0 "old init" "init" "--dir" "ca" "--intermediate")
(def a (cli/issued-serial (cli/exits old 0 "old issue a" "issue" "a.example" "--dir" "ca")))
(def b (cli/issued-serial (cli/exits old 0 "old issue b" "issue" "b.example" "--dir" "ca")))
(def c (cli/issued-serial (cli/exits old 0 "old issue c" "issue" "c.example" "--dir" "ca")))
(cli/exits old 0 "old revoke a" "revoke" a "--reason" "key-compromise" "--dir" "ca")
(cli/exits old 0 "old revoke b" "revoke" b "--reason" "superseded" "--dir" "ca")
(cli/exits old 0 "old crl 1" "crl" "--dir" "ca" "--out" "old-crl1.pem")
(cli/exits old 0 "old crl 2" "crl" "--dir" "ca" "--out" "old-crl2.pem")
(let [[_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" (file "old-crl2.pem"))]
  (t/ok (string/find "crlNumber=0x02" out) (string "the old release numbered its CRLs 1, 2: " out)))
# What the old release leaves when it is killed between reserving a serial and
# recording the certificate: the serial in the index as pending, the counter past it.
(def pending
  (let [state (table ;(kvs (old-state "ca")))
        n (state :next-serial)]
    (put state :issued (merge (state :issued) {n {:cn "killed.example" :pending true}}))
    (put state :next-serial (string (+ 1 (scan-number n))))
    (spit (file "ca/state.jdn") (string/format "%j\n" state))
    n))
(def old-next (scan-number ((old-state "ca") :next-serial)))
(def old-crl (crl-text (file "old-crl2.pem")))

# --- before migrating ------------------------------------------------------------------
(t/ok (string/find "jsec-ca migrate" (cli/exits new 1 "issue on an old directory" "issue" "x.example" "--dir" "ca"))
      "the new tool on a state.jdn directory says to migrate")
(t/ok (string/find "jsec-ca migrate" (cli/exits new 1 "init on an old directory" "init" "--dir" "ca"))
      "init on a state.jdn directory says to migrate")
(let [[code out] (cli/run-env new {"JSEC_CA_PASSWORD" ""} "migrate" "--dir" "ca")]
  (t/ok (and (= code 1) (string/find "JSEC_CA_PASSWORD" out)) (string "migrate without the keys' password fails clearly: " out))
  (t/ok (not (os/stat (file "ca/ca.db"))) "a failed migrate writes no store")
  (t/ok (os/stat (file "ca/state.jdn")) "a failed migrate keeps state.jdn"))
(cli/exits new 2 "migrate with an argument" "migrate" "ca")
(cli/exits new 1 "migrate a directory without a CA" "migrate" "--dir" "empty")

# --- migrate -----------------------------------------------------------------------
(cli/exits new 0 "migrate" "migrate" "--dir" "ca")
(t/ok (os/stat (file "ca/ca.db")) "migrate writes D/ca.db")
(t/ok (and (os/stat (file "ca/state.jdn.migrated")) (not (os/stat (file "ca/state.jdn"))))
      "the old state is kept as state.jdn.migrated")
(cli/exits new 1 "migrate twice" "migrate" "--dir" "ca")
(let [store (ca/open-store (file "ca/ca.db") {:read-only true})]
  (t/same (ca/store-cas store) @["root" "intermediate"] "the store holds the old root and intermediate")
  (t/same (ca/get-cert (ca/store-load store "root" {:password password})) (string (slurp (file "ca/root.crt")))
          "the root in the store is the old root")
  (t/same (ca/get-cert (ca/store-load store "intermediate" {:password password})) (string (slurp (file "ca/intermediate.crt")))
          "the intermediate in the store is the old intermediate")
  (ca/store-close store))

# Serials continue after the pending one; none is reused.
(def d (cli/issued-serial (cli/exits new 0 "issue after migrate" "issue" "d.example" "--dir" "ca")))
(t/same (scan-number d) old-next "the first serial after migrate is the old next serial")
(t/ok (not (index-of d [a b c pending])) (string "no serial of the old release is reused: " d))
(let [[code out] (t/openssl "verify" "-CAfile" (file "ca/root.crt") "-untrusted" (file "ca/intermediate.crt")
                            (file "ca/certs/d.example.crt"))]
  (t/ok (zero? code) (string "a certificate issued after migrate verifies against the old root: " out)))

# The CRL number continues; revocations keep reason and date.
(cli/exits new 0 "crl after migrate" "crl" "--dir" "ca")
(let [[_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" (file "ca/crl.pem"))]
  (t/ok (string/find "crlNumber=0x03" out) (string "the CRL number continues after migrate: " out)))
(let [[_ out] (t/openssl "crl" "-verify" "-noout" "-CAfile" (file "ca/intermediate.crt") "-in" (file "ca/crl.pem"))]
  (t/ok (string/find "verify OK" out) (string "the CRL after migrate verifies: " out)))
(def new-crl (crl-text (file "ca/crl.pem")))
(each [serial reason] [[a "Key Compromise"] [b "Superseded"]]
  (def h (cli/hex serial))
  (t/ok (revocation-date old-crl h) (string "the old CRL lists serial " h))
  (t/same (revocation-date new-crl h) (revocation-date old-crl h) (string "serial " h " keeps its revocation date"))
  (t/ok (string/find reason (string/slice new-crl (or (string/find (string "Serial Number: " h) new-crl) 0)))
        (string "serial " h " keeps its reason " reason)))
(t/ok (not (revocation-date new-crl (cli/hex c))) "an unrevoked old certificate is not on the CRL")

# OCSP from the migrated store: old certificates keep their status; revoking one works.
(def [server port banner] (cli/start-ocsp new "ca"))
(when (t/ok (string/find "answering OCSP" banner) (string "ocsp-serve starts on the migrated CA: " banner))
  (defn ocsp [name] (cli/ocsp port (file "ca/intermediate.crt") (file "ca/root.crt") (file "ca/certs" (string name ".crt"))))
  (let [[ok status out] (ocsp "a.example")]
    (t/ok (and ok (= status "revoked") (string/find "Reason: keyCompromise" out))
          (string "an old revocation answers revoked: " out)))
  (let [[ok status out] (ocsp "c.example")]
    (t/ok (and ok (= status "good")) (string "an old certificate answers good: " out)))
  (let [[ok status out] (ocsp "d.example")]
    (t/ok (and ok (= status "good")) (string "a new certificate answers good: " out)))
  (cli/exits new 0 "revoke an old certificate after migrate" "revoke" c "--reason" "cessation-of-operation" "--dir" "ca")
  (let [[ok status out] (ocsp "c.example")]
    (t/ok (and ok (= status "revoked")) (string "the revoked old certificate answers revoked: " out))))
(os/proc-kill server true)
(let [listing (cli/exits new 0 "list after migrate" "list" "--dir" "ca")]
  (t/ok (string/find "d.example" listing) "list shows what was issued after migrate")
  (t/ok (and (string/find "a.example" listing) (string/find "c.example" listing))
        (string "list shows the certificates issued before the migration too: " listing)))

# --- a root-only CA without a password, migrated with one -----------------------------
(def plain (cli/context work {"JSEC_CA_PASSWORD" ""} "test/support/jsec-ca-state-jdn"))
(cli/exits plain 0 "old init root only" "init" "--dir" "solo")
(def s1 (cli/issued-serial (cli/exits plain 0 "old issue" "issue" "s1.example" "--dir" "solo")))
(cli/exits plain 0 "old revoke" "revoke" s1 "--dir" "solo")
(cli/exits plain 0 "old crl" "crl" "--dir" "solo")
(cli/exits new 0 "migrate root only, encrypting" "migrate" "--dir" "solo")
(let [bytes (string ;(seq [f :in (os/dir (file "solo")) :when (string/has-prefix? "ca.db" f)] (slurp (file "solo" f))))]
  (t/ok (and (string/find "BEGIN ENCRYPTED PRIVATE KEY" bytes) (not (string/find "BEGIN PRIVATE KEY" bytes)))
        "migrate with JSEC_CA_PASSWORD encrypts keys that were in clear"))
(def s2 (cli/issued-serial (cli/exits new 0 "issue on the migrated root" "issue" "s2.example" "--dir" "solo")))
(t/same (scan-number s2) (+ 1 (scan-number s1)) "the root's serials continue")
(cli/exits new 0 "crl on the migrated root" "crl" "--dir" "solo")
(let [[_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" (file "solo/crl.pem"))]
  (t/ok (string/find "crlNumber=0x02" out) (string "the root's CRL number continues: " out)))
(let [[ok out] (t/openssl "verify" "-crl_check" "-CAfile" (file "solo/root.crt") "-CRLfile" (file "solo/crl.pem")
                          (file "solo/certs/s1.example.crt"))]
  (t/ok (and (not (zero? ok)) (string/find "revoked" out)) (string "the old revocation is on the new CRL: " out)))

# --- a corrupt state.jdn --------------------------------------------------------------
(os/mkdir (file "broken"))
(spit (file "broken/state.jdn") "{:next-serial")
(cli/exits new 1 "migrate a corrupt state.jdn" "migrate" "--dir" "broken")
(t/ok (not (os/stat (file "broken/ca.db"))) "a corrupt state.jdn leaves no store behind")

(os/execute ["rm" "-rf" work] :p)
(t/done "cli-migrate")
