# jsec-ca init: a new root CA (and intermediate) and its store.
(import jsec/ca)
(use ./common)

(def summary "create a root CA (and optionally an intermediate) in a directory")

(def help ```
Usage: jsec-ca init [--dir D] [--store LOCATION] [--name N] [--key-type T] [--days N] [--intermediate]
                    [--key URI] [--intermediate-key URI]

Creates a root CA in D: the store D/ca.db (CA keys, serials, index,
revocations, CRL numbers) and D/root.crt, the trust anchor. With
--intermediate, also an intermediate CA signed by the root (D/intermediate.crt),
which then signs everything. With --store LOCATION, the store is there
(e.g. a PostgreSQL database, which must not hold a CA yet), and other hosts
run the other commands with the same --store.

  --name N        root common name (default "jsec-ca Root CA"); the
                  intermediate is named "N Intermediate"
  --key-type T    ec-p256 (default), ec-p384, ec-p521, rsa-2048, rsa-3072,
                  rsa-4096, ed25519, ml-dsa-44, ml-dsa-65, ml-dsa-87
  --days N        root validity in days (default 3650)
  --intermediate  create an intermediate CA too
  --key URI       generate the root's key pair inside a PKCS#11 token (an HSM,
                  SoftHSM2) instead of in the store: an RFC 7512 URI naming a
                  new key, e.g. pkcs11:token=ca;object=root?module-path=
                  /usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin
                  The key never leaves the token; the store keeps its URI (no
                  PIN), and every later command signs in the token, reading
                  the PIN from pin-source (or JSEC_CA_PASSWORD)
  --intermediate-key URI   the same for the intermediate's key

The keys in the store are encrypted (AES-256) when JSEC_CA_PASSWORD is set.
```)

(def options {"name" [:text "jsec-ca Root CA"] "key-type" :key-type "days" :count "intermediate" :flag
              "key" :text "intermediate-key" :text})

(defn run
  "Creates the CA of `opts` (parsed as `options` say)."
  [opts args]
  (no-arguments "init" args)
  (def dir (opts :dir))
  (def name (opts :name))
  (mkdirs dir)
  (when (os/stat (state-file dir))
    (fail "%s holds a CA of an older jsec-ca (state.jdn): run `jsec-ca migrate --dir %s`" dir dir))
  (def store (create-store opts))
  # :key-type and :days-valid nil (not given): the module's defaults.
  (when (and (opts :intermediate-key) (not (opts :intermediate)))
    (usage-error "--intermediate-key needs --intermediate"))
  (def root (ca/generate {:common-name name :key-type (opts :key-type) :days-valid (opts :days) :key (opts :key)}))
  (def sub (when (opts :intermediate)
             (ca/generate-intermediate root {:common-name (string name " Intermediate")
                                             :key-type (opts :key-type) :key (opts :intermediate-key)})))
  (ca/store-save store "root" root (password-opts))
  (when sub (ca/store-save store "intermediate" sub (password-opts)))
  (write-atomically (path dir "root.crt") (ca/get-cert root))
  (when sub (write-atomically (path dir "intermediate.crt") (ca/get-cert sub)))
  (mkdirs (path dir "certs"))
  (printf "created %s in %s%s" name (ca/store-location store) (if sub " with an intermediate CA" ""))
  (printf "trust anchor: %s" (path dir "root.crt"))
  (when (opts :key) (print "the root's key is in a PKCS#11 token; the store holds its URI"))
  (when (opts :intermediate-key) (print "the intermediate's key is in a PKCS#11 token; the store holds its URI"))
  (unless (or (password) (and (opts :key) (or (opts :intermediate-key) (not sub))))
    (print "note: the CA keys are not encrypted (set JSEC_CA_PASSWORD to encrypt them)")))
