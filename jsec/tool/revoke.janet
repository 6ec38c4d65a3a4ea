# jsec-ca revoke: a revocation recorded in the store.
(import jsec/ca)
(use ./common)

(def summary "revoke a certificate by serial")

(def help ```
Usage: jsec-ca revoke SERIAL [--reason R] [--dir D] [--store LOCATION]

Records the revocation of SERIAL (decimal, or hex as 0x...), which this CA
issued. OCSP (`jsec-ca ocsp-serve`) answers revoked at once; run `jsec-ca crl`
to publish a CRL.

  --reason R      unspecified (default), key-compromise, ca-compromise,
                  affiliation-changed, superseded, cessation-of-operation,
                  certificate-hold, remove-from-crl, privilege-withdrawn,
                  aa-compromise
```)

(def options {"reason" [:text "unspecified"]})

(defn- parse-serial
  "SERIAL from the command line (decimal or 0x hex) as an int/s64, or, past
  63 bits (random serials, as ACME issues), as the \"0x...\" string the module takes."
  [text]
  (def n (try (int/s64 text) ([_] nil)))
  (cond
    (and n (pos? n)) n
    (peg/match ~(* (+ "0x" "0X") (between 1 40 :h) -1) text) (string/ascii-lower text)
    (usage-error "SERIAL must be a positive number (decimal or 0x hex), got %q" text)))

(defn run
  "Revokes the serial `(first args)`."
  [opts args]
  (unless (= 1 (length args)) (usage-error "revoke needs exactly one SERIAL"))
  (def serial (parse-serial (first args)))
  (def reason (keyword (opts :reason)))
  (with-signer opts
    (fn [store name signer]
      (when (= :unknown ((ca/get-status signer serial) :status))
        (fail "serial %s was not issued by this CA (see `jsec-ca list`)" (string serial)))
      (ca/revoke signer serial reason)
      (printf "revoked serial %s (%s); run `jsec-ca crl` to publish it" (string serial) reason))))
