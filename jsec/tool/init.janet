# jsec-ca init: a new root CA (and intermediate) and its store.
(import jsec/ca)
(use ./common)

(def summary "create a root CA (and optionally an intermediate) in a directory")

(def help ```
Usage: jsec-ca init [--dir D] [--store LOCATION] [--name N] [--key-type T] [--days N] [--intermediate]

Creates a root CA in D: the store D/ca.db (CA keys, serials, index,
revocations, CRL numbers) and D/root.crt, the trust anchor. With
--intermediate, also an intermediate CA signed by the root (D/intermediate.crt),
which then signs everything. With --store LOCATION, the store is there
(e.g. a PostgreSQL database, which must not hold a CA yet), and other hosts
run the other commands with the same --store.

  --name N        root common name (default "jsec-ca Root CA"); the
                  intermediate is named "N Intermediate"
  --key-type T    ec-p256 (default), ec-p384, ec-p521, rsa-2048, rsa-3072,
                  rsa-4096, ed25519
  --days N        root validity in days (default 3650)
  --intermediate  create an intermediate CA too

The keys in the store are encrypted (AES-256) when JSEC_CA_PASSWORD is set.
```)

(def options {"name" [:text "jsec-ca Root CA"] "key-type" :key-type "days" :count "intermediate" :flag})

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
  (def root (ca/generate {:common-name name :key-type (opts :key-type) :days-valid (opts :days)}))
  (def sub (when (opts :intermediate)
             (ca/generate-intermediate root {:common-name (string name " Intermediate")
                                             :key-type (opts :key-type)})))
  (ca/store-save store "root" root (password-opts))
  (when sub (ca/store-save store "intermediate" sub (password-opts)))
  (write-atomically (path dir "root.crt") (ca/get-cert root))
  (when sub (write-atomically (path dir "intermediate.crt") (ca/get-cert sub)))
  (mkdirs (path dir "certs"))
  (printf "created %s in %s%s" name (ca/store-location store) (if sub " with an intermediate CA" ""))
  (printf "trust anchor: %s" (path dir "root.crt"))
  (unless (password) (print "note: the CA keys are not encrypted (set JSEC_CA_PASSWORD to encrypt them)")))
