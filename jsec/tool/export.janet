# jsec-ca export: a certificate, its key and chain as PKCS#12.
(import jsec/ca)
(use ./common)

(def summary "write a certificate, its key and chain as PKCS#12 (.p12)")

(def help ```
Usage: jsec-ca export NAME --p12 [--password P] [--legacy] [--out FILE] [--dir D] [--store LOCATION]

Writes the certificate D/certs/NAME.crt, its key D/certs/NAME.key and the
chain (intermediate and root) as a PKCS#12 file (default D/certs/NAME.p12),
the form browsers, Java keystores and Windows import. The chain comes from
D/intermediate.crt and D/root.crt, or, with --store, from the store.

  --p12           PKCS#12 output (the only format)
  --password P    the file's password (default: $JSEC_P12_PASSWORD); one of the
                  two is required; --password "" makes a file anyone can open
  --legacy        PBE-SHA1-3DES with a SHA-1 MAC for old Java (before 8u301)
                  and Windows (before 10 1709 / Server 2019); default AES-256
                  with PBKDF2 and a SHA-256 MAC
  --out FILE      where to write it
```)

(def options {"p12" :flag "password" :text "legacy" :flag "out" :text})

(defn- chain-of
  "The CA certificates for the chain: from the store with --store, else the
  files in D."
  [opts]
  (def dir (opts :dir))
  (def chain (if (store-location opts)
               (let [store (open-store opts true)]
                 (seq [name :in ["intermediate" "root"] :when (index-of name (ca/store-cas store))]
                   (ca/get-cert (load-ca store name))))
               (seq [f :in [(path dir "intermediate.crt") (path dir "root.crt")] :when (os/stat f)]
                 (read-file f))))
  (when (empty? chain)
    (fail "no CA certificate for the chain: neither %s nor %s exists (give --store where the CA lives)"
          (path dir "intermediate.crt") (path dir "root.crt")))
  chain)

(defn run
  "Exports the certificate named `(first args)`."
  [opts args]
  (unless (= 1 (length args)) (usage-error "export needs exactly one NAME"))
  (unless (opts :p12) (usage-error "export needs --p12 (PKCS#12 is the format it writes)"))
  (def pass (or (opts :password) (os/getenv "JSEC_P12_PASSWORD")
                (usage-error "export needs --password P (or JSEC_P12_PASSWORD) for the PKCS#12 file")))
  (def dir (opts :dir))
  (def name (first args))
  (def base (file-base name))
  (def crt (path dir "certs" (string base ".crt")))
  (def key (path dir "certs" (string base ".key")))
  (unless (os/stat crt) (fail "no certificate %s (issue it first: `jsec-ca issue %s`)" crt name))
  (unless (os/stat key) (fail "no key %s: export needs the key beside the certificate" key))
  (def chain (chain-of opts))
  (def out (or (opts :out) (path dir "certs" (string base ".p12"))))
  (def p12 (ca/pkcs12 (read-file crt) (read-file key)
                      {:password pass :chain chain :name name :legacy (truthy? (opts :legacy))}))
  (def [parent] (split-path out))
  (mkdirs parent)
  (write-atomically out p12 8r600)
  (printf "wrote %s (PKCS#12%s: key, certificate and %d CA certificate(s))" out
          (if (opts :legacy) ", legacy 3DES" "") (length chain)))
