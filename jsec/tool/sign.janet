# jsec-ca sign: a certificate for a request (CSR) made by another tool.
(import jsec/ca)
(use ./common)

(def summary "sign a certificate request (CSR) made by another tool")

(def help ```
Usage: jsec-ca sign CSR-FILE [--out FILE] [--client] [--days N] [--dir D] [--store LOCATION]

Signs a PKCS#10 request (PEM or DER), e.g. from `openssl req`, keeping its
subject and requested subjectAltName. Writes the certificate to FILE
(default D/certs/SERIAL.crt) and FILE's chain next to it (-chain.pem).

  --out FILE      where to write the certificate
  --client        clientAuth instead of serverAuth
  --days N        validity in days (default 365)
```)

(def options {"out" :text "client" :flag "days" :count})

(defn run
  "Signs the request in the file `(first args)`."
  [opts args]
  (unless (= 1 (length args)) (usage-error "sign needs exactly one CSR-FILE"))
  (def csr (read-file (first args)))
  (with-signer opts
    (fn [store name signer]
      (def before (ca/get-serial signer))
      (def cert (ca/sign signer csr {:days-valid (opts :days)
                                     :copy-extensions true
                                     :extended-key-usage (usages opts [])}))
      (def serial (serial-of store name signer before cert))
      (def out (or (opts :out) (path (opts :dir) "certs" (string serial ".crt"))))
      (def [parent stem] (split-path out))
      (mkdirs parent)
      (write-atomically out cert)
      (write-atomically (path parent (string stem "-chain.pem")) (string cert (chain-pem name signer)))
      (printf "signed serial %s: %s" serial out))))
