# Replies lost on the way back from PostgreSQL (issue 15): the statement
# reached the server and took effect, but the connection died before the
# answer came (test/support/pg-drop-proxy.py sits between the CA and the
# server and cuts the connection right after passing the chosen message).
# - The reply to a COMMIT (revoking, numbering a CRL): the call is a
#   [CA:RESOURCE] error saying the outcome is unknown, never a success and
#   never a silent repeat; what the server committed is there (the
#   revocation answers revoked; the CRL number is used, so the next CRL's
#   number is higher than any before); the next call, on the same CA value,
#   works.
# - The reply to each statement of an issuance (reserving the serial,
#   recording the certificate): each such issuance either hands out a
#   certificate or fails with a [CA:...] error; every certificate handed out
#   is in the index with its DER, no serial twice, and no row half-written.
(import ./support/check :as t)
(import ./support/pg)
(import jsec/ca)

(pg/require "store-pg-lost-reply")

(def dir (t/tmpdir "store-pg-lost-reply"))
(def control (string dir "/proxy"))
(os/mkdir control)

(defn- rm [f] (when (os/stat f) (os/rm f)))
(defn arm [trigger]
  (rm (string control "/fired"))
  (spit (string control "/arm") trigger))
(defn fired? [] (truthy? (os/stat (string control "/fired"))))

(defn crl-number [pem]
  (def f (t/write dir "crl.pem" pem))
  (def [_ out] (t/openssl "crl" "-noout" "-crlnumber" "-in" f))
  (scan-number (string "0x" (string/trim (string/replace "crlNumber=0x" "" (string/trim out))))))

(defn serial-of
  "The serial of a PEM certificate, as openssl reads it, in decimal."
  [pem]
  (def [_ out] (t/openssl "x509" "-noout" "-serial" "-in" (t/write dir "cert.pem" pem)))
  (string (int/s64 (string "0x" (string/trim (string/replace "serial=" "" (string/trim out)))))))

(with [c (pg/start dir) pg/stop]
  (def direct (c :primary))
  (def proxy (os/spawn ["python3" "test/support/pg-drop-proxy.py" (c :port) control] :p {:out :pipe}))
  (defer (os/proc-kill proxy true)
    (def proxy-port (string/trim (string (ev/with-deadline 10 (:read (proxy :out) 64)))))
    (def via (string/replace (string ":" (c :port) "/") (string ":" proxy-port "/") direct))
    (t/ok (not= via direct) (string "the CA talks to the server through the proxy: " proxy-port))

    (ca/store-save (ca/open-store direct) "root" (ca/generate {:common-name "Lost Reply Root"}))
    (def root (ca/store-load (ca/open-store via) "root"))
    (def first-cert (:issue root {:common-name "warm.example"}))
    (t/ok first-cert "issuing through the proxy works")
    (defn judge [] (ca/store-load (ca/open-store direct {:read-only true}) "root"))

    # --- the reply to a COMMIT ------------------------------------------------------------
    (arm "commit")
    (def [revoked-ok revoked-msg] (protect (ca/revoke root 1 :key-compromise)))
    (t/ok (fired?) "the proxy lost the reply to the revocation's COMMIT")
    (t/ok (and (not revoked-ok) (t/refusal? revoked-msg "[CA:RESOURCE]")
               (string/find "unknown" revoked-msg))
          (string "a lost COMMIT reply is an error saying the outcome is unknown: " revoked-msg))
    (t/ok (not (string/find (c :password) (string revoked-msg))) "the message does not show the password")
    (t/same ((ca/get-status (judge) 1) :status) :revoked "the server committed the revocation")
    (t/same ((ca/get-status root 1) :status) :revoked "the same CA value, on its next call, sees it")
    (ca/revoke root 1 :key-compromise)
    (t/same (length (filter |(= (int/to-number ($ :serial)) 1) (ca/get-revoked (judge)))) 1
            "revoking again after the unknown outcome keeps one revocation")

    (def before (crl-number (ca/crl root)))
    (arm "commit")
    (def [crl-ok crl-msg] (protect (ca/crl root)))
    (t/ok (fired?) "the proxy lost the reply to the CRL number's COMMIT")
    (t/ok (and (not crl-ok) (t/refusal? crl-msg "[CA:RESOURCE]") (string/find "unknown" crl-msg))
          (string "a CRL whose number's COMMIT reply was lost is not handed out: " crl-msg))
    (def after (crl-number (ca/crl root)))
    (t/ok (> after (+ before 1)) (string/format "the next CRL number (%d) is past the one lost in flight (%d)" after (+ before 1)))

    # --- the replies to the statements of an issuance -------------------------------------------
    (def handed @{(serial-of (first-cert :cert)) (first-cert :cert)})
    (var fired 0)
    (for k 1 7
      (arm (string "execute " k))
      (def [ok issued] (protect (:issue root {:common-name (string "lost" k ".example")})))
      (when (fired?) (++ fired))
      (if ok
        (let [s (serial-of (issued :cert))]
          (t/ok (nil? (handed s)) (string "serial " s " is handed out once"))
          (put handed s (issued :cert)))
        (t/ok (t/refusal? issued) (string "a lost reply during an issuance is a clear error, not a caught panic: " issued))))
    (rm (string control "/arm"))
    (t/ok (>= fired 3) (string "replies were lost at several points of an issuance: " fired))
    (def [ok after-all] (protect (:issue root {:common-name "after.example"})))
    (t/ok ok "the next issuance works on the same CA value")
    (put handed (serial-of (after-all :cert)) (after-all :cert))
    (def index (ca/store-find (ca/open-store direct) "root" {:limit 1000}))
    (def recorded (tabseq [row :in index] (string (row :serial)) (row :cert)))
    (eachp [s cert] handed
      (t/same (string/trim (or (recorded s) "")) (string/trim cert) (string "handed-out serial " s " is in the index with its certificate")))
    # (the root's own random serial is kept as used, without a DER, past 2^63)
    (t/same (pg/sql c "SELECT count(*) FROM jsec_ca.issued WHERE serial < 9223372036854775807 AND pending <> (der IS NULL)")
            "0" "no row is half-written: each is pending (reserved, never handed out) or recorded with its DER")))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-pg-lost-reply")
