# jsec-ca issue: a certificate and its key for names given on the command line.
(use ./common)

(def summary "issue a certificate and key for DNS names, IPs or emails")

(def help ```
Usage: jsec-ca issue NAME... [--client] [--days N] [--key-type T] [--out DIR] [--dir D] [--store LOCATION]

Issues one certificate covering every NAME (DNS names, IPv4/IPv6 addresses and
email addresses are told apart automatically; the first NAME is the subject
CN), and writes NAME.crt, NAME.key and NAME-chain.pem (certificate plus
intermediate) to DIR (default D/certs).

  --client        a client (mTLS) certificate: clientAuth instead of serverAuth
  --days N        validity in days (default 365)
  --key-type T    key type of the new key (default ec-p256)
  --out DIR       where to write the files (default D/certs)
```)

(def options {"client" :flag "days" :count "key-type" :key-type "out" :text})

(defn run
  "Issues a certificate for the NAMEs `names`."
  [opts names]
  (when (empty? names) (usage-error "issue needs at least one NAME"))
  (with-signer opts
    (fn [store name signer]
      (def [serial files] (issue-leaf store name signer (first names) (map san-entry names) opts
                                      (or (opts :out) (path (opts :dir) "certs"))))
      (printf "issued serial %s for %s" serial (string/join names ", "))
      (print-files files))))
