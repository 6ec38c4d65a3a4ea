# jsec-ca crl: a fresh CRL written to a file.
(import jsec/ca)
(use ./common)

(def summary "write a fresh CRL")

(def help ```
Usage: jsec-ca crl [--out FILE] [--days N] [--dir D] [--store LOCATION]

Writes a signed CRL listing every revocation (default D/crl.pem). Each CRL
carries the next CRL number.

  --out FILE      where to write the CRL (PEM)
  --days N        next update this many days from now (default 30)
```)

(def options {"out" :text "days" :count})

(defn run
  "Writes a CRL."
  [opts args]
  (no-arguments "crl" args)
  (def out (or (opts :out) (path (opts :dir) "crl.pem")))
  (with-signer opts
    (fn [store name signer]
      (def before (ca/get-crl-number signer))
      # The CRL number is committed to the store before the CRL is returned;
      # :days-valid nil (not given): the module's default.
      (def crl (ca/crl signer {:days-valid (opts :days)}))
      (def after (ca/get-crl-number signer))
      (write-atomically out crl)
      (printf "wrote CRL%s with %d revocation(s) to %s"
              # Another process may have numbered a CRL in between.
              (if (= after (+ before 1)) (string " number " (string before)) "")
              (length (ca/get-revoked signer)) out))))
