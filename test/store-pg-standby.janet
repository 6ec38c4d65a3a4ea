# OCSP from a hot standby (issue 15): an OCSP responder process serving a
# CA from a streaming standby of the primary (read-only) answers `revoked`
# for a serial another process revoked through the primary, once the
# standby has replayed it; `unknown` for serials never issued; and it goes
# on answering while the primary is down. Issuing through the standby is a
# clear [CA:CONFIG] error naming it. Judged by `openssl ocsp -url`.
(import ./support/check :as t)
(import ./support/pg)
(import ./support/responder)
(import jsec/ca)

(pg/require "store-pg-standby")

(def dir (t/tmpdir "store-pg-standby"))

(with [c (pg/start dir {:standby true}) pg/stop]
  (def primary (c :primary))
  (def standby (c :standby))
  (t/same (pg/sql c "SELECT pg_is_in_recovery()" :standby) "t" "the second server is a standby")
  (def root (ca/generate {:common-name "Standby OCSP Root"}))
  (ca/store-save (ca/open-store primary) "root" root)
  (def root-pem (t/write dir "root.pem" (ca/get-cert root)))
  (def leaf-pem (t/write dir "leaf.pem" ((:issue root {:common-name "standby.example"}) :cert)))
  (t/ok (pg/replayed c 30) "the standby replays the saved CA")

  # issuing through the standby: refused, whether or not it was opened read-only
  (def on-standby (ca/store-load (ca/open-store standby) "root"))
  (t/raises |(:issue on-standby {:common-name "nope.example"}) "issuing through a hot standby"
            "[CA:CONFIG]" "read-only" (string/replace (string ":" (c :password) "@") "@" standby))
  (t/raises |(ca/revoke on-standby 1) "revoking through a hot standby" "[CA:CONFIG]" "read-only")
  (t/raises |(:issue (ca/store-load (ca/open-store standby {:read-only true}) "root") {:common-name "nope.example"})
            "issuing through a standby opened read-only" "[CA:CONFIG]" "opened read-only")
  (t/same ((ca/get-status on-standby 1) :status) :good "the standby answers status")

  (def {:port port :proc proc} (responder/start dir "standby" ["--store" standby "--ca" "root"]))
  (defer (os/proc-kill proc true)
    (defn ask [& what]
      (def [_ out] (t/openssl "ocsp" "-url" (string "http://127.0.0.1:" port) "-timeout" "10"
                              "-issuer" root-pem ;what "-CAfile" root-pem))
      out)
    (let [out (ask "-cert" leaf-pem)]
      (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out)) (string "good before the revocation: " out)))
    # another process revokes, through the primary
    (def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil (t/janet-exe) "-e"
                              (string `(import jsec/ca) (ca/revoke (ca/store-load (ca/open-store "` primary `") "root") 1 :key-compromise)`)))
    (t/ok (zero? code) (string "another process revokes serial 1 through the primary: " out))
    (t/ok (pg/replayed c 30) "the standby replays the revocation")
    (let [out (ask "-cert" leaf-pem)]
      (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out) (string/find "keyCompromise" out))
            (string "the responder on the standby answers revoked: " out)))
    (let [out (ask "-serial" "999")]
      (t/ok (string/find ": unknown" out) (string "a serial the stored CA never issued is unknown: " out)))
    # the primary goes away; OCSP from the standby stays up
    (pg/primary c :stop)
    (let [out (ask "-cert" leaf-pem)]
      (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out))
            (string "the standby answers while the primary is down: " out)))))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-pg-standby")
