# jsec-ca list: the certificates of the CA and their status.
(import jsec/ca)
(use ./common)

(def summary "list issued certificates and their status")

(def help ```
Usage: jsec-ca list [--dir D] [--store LOCATION]

Lists the certificates this CA issued, by serial: serial, status (valid,
revoked:REASON or expired), expiry and subject. An issuance that was
interrupted keeps its serial reserved but is not listed.
```)

(def options {})

(defn- status-of [row]
  (cond
    (= :revoked (row :status)) (string "revoked:" (row :revocation-reason))
    (< (row :not-after) (os/time)) "expired"
    "valid"))

(defn- print-row [row]
  (printf "%-8s %-26s %-10s %s" (string (row :serial)) (status-of row) (iso-date (row :not-after))
          (display-name row)))

(defn run
  "Lists the certificates."
  [opts args]
  (no-arguments "list" args)
  (def store (open-store opts true))
  (def name (signer-name store opts))
  # The counters need the CA itself, and so its key: shown when it opens.
  (def signer (when-let [[ok ca] (protect (ca/store-load store name (password-opts)))] (when ok ca)))
  (if signer
    (printf "%s CA in %s; next serial %s, next CRL number %s" name (ca/store-location store)
            (string (ca/get-serial signer)) (string (ca/get-crl-number signer)))
    (printf "%s CA in %s" name (ca/store-location store)))
  (printf "%-8s %-26s %-10s %s" "SERIAL" "STATUS" "EXPIRES" "NAME")
  (each-row store name {} print-row))
