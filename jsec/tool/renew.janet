# jsec-ca renew: the newest certificate of a name issued again, the old one
# revoked as superseded.
(import jsec/ca)
(use ./common)

(def summary "issue a certificate again for the same names; revoke the old one")

(def help ```
Usage: jsec-ca renew NAME [--reuse-key] [--days N] [--key-type T] [--client] [--out DIR] [--dir D] [--store LOCATION]

Issues the newest valid certificate named NAME (its subject CN or first name)
again, for the same names, and writes NAME.crt, NAME.key and NAME-chain.pem to
DIR (default D/certs) as `issue` does. Once the new files are written, the old
certificate is revoked as superseded.

  --reuse-key     certify the key in DIR/NAME.key again instead of a new one
                  (needs `openssl` to make the request; DIR/NAME.crt must be
                  the certificate being renewed)
  --days N        validity in days (default 365)
  --key-type T    key type of the new key (default ec-p256; not with --reuse-key)
  --client        a client (mTLS) certificate, as with `issue --client`
  --out DIR       where the files are (default D/certs)

The extended key usage is not read back from the old certificate: give
--client again for a client certificate.
```)

(def options {"reuse-key" :flag "days" :count "key-type" :key-type "client" :flag "out" :text})

(defn- cn-of
  "The name a row's certificate is known by: its CN when the subject is a CN
  alone, else its first subjectAltName."
  [row]
  (def subject (row :subject))
  (if (and (string/has-prefix? "CN=" subject) (not (string/find ", " subject)))
    (string/slice subject 3)
    (let [san (or (first (row :san)) (fail "serial %s has neither a plain CN nor a subjectAltName" (string (row :serial))))]
      (string/slice san (inc (or (string/find ":" san) -1))))))

(defn- renews?
  "Whether the index row is a certificate named `name`: its CN, or its first SAN entry."
  [row name]
  (def want (string/ascii-lower name))
  (or (= (string/ascii-lower (display-name row)) want)
      (= (string/ascii-lower (or (first (row :san)) "")) (string/ascii-lower (san-entry name)))))

(defn- newest-named
  "The newest valid index row of CA `ca-name` named `name`."
  [store ca-name name]
  (var newest nil)
  (each-row store ca-name {:status :good :san name}
            (fn [row] (when (renews? row name) (set newest row))))
  (or newest (fail "no valid certificate named %s in this CA (see `jsec-ca list`)" name)))

(defn- escape-dn-value
  "`value` for openssl's -subj, with / + and \\ escaped."
  [value]
  (string (peg/replace-all ~(set "/+\\") |(string "\\" $) value)))

(defn- csr-for-key
  "A CSR with subject CN=`cn` signed by the key in `key-file`, made with openssl
  (the module certifies keys only through requests)."
  [key-file cn]
  (def p (try (os/spawn ["openssl" "req" "-new" "-key" key-file "-subj" (string "/CN=" (escape-dn-value cn))]
                        :p {:out :pipe :err :pipe})
           ([_] (fail "--reuse-key needs the openssl command to make the request"))))
  (def out (string (or (:read (p :out) :all) "")))
  (def err (string (or (:read (p :err) :all) "")))
  (unless (zero? (:wait p))
    (fail "openssl could not make a request from %s: %s" key-file (string/trim err)))
  out)

(defn- reissue-key
  "Certifies the key in `out`/`base`.key again for the names of index row
  `old`, whose certificate must be `out`/`base`.crt; returns [serial files]."
  [store name signer old cn base opts out]
  (def key-file (path out (string base ".key")))
  (def crt-file (path out (string base ".crt")))
  (unless (os/stat key-file) (fail "--reuse-key: no key %s to reuse" key-file))
  (unless (= (string/trim (or (try (slurp crt-file) ([_] nil)) "")) (string/trim (old :cert)))
    (fail "--reuse-key: %s is not the certificate being renewed (serial %s), so %s may not be its key"
          crt-file (string (old :serial)) key-file))
  (def before (ca/get-serial signer))
  (def cert (ca/sign signer (csr-for-key key-file cn)
                     {:days-valid (opts :days) :san (old :san) :extended-key-usage (usages opts (old :san))}))
  (def serial (serial-of store name signer before cert))
  [serial (write-leaf out base cert nil (chain-pem name signer))])

(defn run
  "Renews the certificate named `(first args)`."
  [opts args]
  (unless (= 1 (length args)) (usage-error "renew needs exactly one NAME"))
  (when (and (opts :reuse-key) (opts :key-type))
    (usage-error "--key-type and --reuse-key exclude each other: a reused key keeps its type"))
  (def wanted (first args))
  (def out (or (opts :out) (path (opts :dir) "certs")))
  (with-signer opts
    (fn [store name signer]
      (def old (newest-named store name wanted))
      (def cn (cn-of old))
      (def [serial files]
        (if (opts :reuse-key)
          (reissue-key store name signer old cn (file-base cn) opts out)
          (issue-leaf store name signer cn (old :san) opts out)))
      (ca/revoke signer (old :serial) :superseded)
      (printf "renewed %s: serial %s replaces serial %s (revoked: superseded)%s" cn serial (string (old :serial))
              (if (opts :reuse-key) ", same key" ""))
      (print-files files))))
