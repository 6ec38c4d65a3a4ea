# jsec-ca expiring: the valid certificates that expire soon.
(use ./common)

(def summary "list the certificates that expire within N days")

(def help ```
Usage: jsec-ca expiring [--days N] [--dir D] [--store LOCATION]

Lists the valid (unrevoked) certificates whose notAfter falls within the next
N days (default 30), by serial: serial, expiry and subject. Renew them with
`jsec-ca renew NAME`.

  --days N        how far ahead to look, in days (default 30)
```)

(def options {"days" [:count 30]})

(defn run
  "Lists the certificates that expire within --days days."
  [opts args]
  (no-arguments "expiring" args)
  (def days (opts :days))
  (def store (open-store opts true))
  (def name (signer-name store opts))
  (def now (os/time))
  (var n 0)
  (printf "%-8s %-10s %s" "SERIAL" "EXPIRES" "NAME")
  (each-row store name {:status :good :expires-after now :expires-before (+ now (* days 86400))}
            (fn [row]
              (++ n)
              (printf "%-8s %-10s %s" (string (row :serial)) (iso-date (row :not-after)) (display-name row))))
  (printf "%d certificate(s) expire within %d day(s)" n days))
