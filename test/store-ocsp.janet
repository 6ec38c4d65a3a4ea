# Live status from the store (issue 13): an OCSP responder process serving a
# stored CA (read-only) answers `revoked` for a serial another process
# revoked, on the very next request, with no restart and no polling, and
# `unknown` for serials the CA never issued. Judged by `openssl ocsp -url`.
(import ./support/check :as t)
(import ./support/responder)
(import jsec/ca)

(def dir (t/tmpdir "store-ocsp"))
(defn path [name] (string dir "/" name))
(def db (path "ca.db"))
(def store (ca/open-store db))
(def root (ca/generate {:common-name "Live OCSP Root"}))
(ca/store-save store "root" root)
(def root-pem (t/write dir "root.pem" (ca/get-cert root)))
(def leaf-pem (t/write dir "leaf.pem" ((:issue root {:common-name "live.example"}) :cert)))

(def {:port port :proc proc} (responder/start dir "store" ["--store" db "--ca" "root"]))
(defer (os/proc-kill proc true)
  (defn ask [& what]
    (def [_ out] (t/openssl "ocsp" "-url" (string "http://127.0.0.1:" port) "-timeout" "10"
                            "-issuer" root-pem ;what "-CAfile" root-pem))
    out)
  (let [out (ask "-cert" leaf-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out)) (string "good before the revocation: " out)))
  # another process revokes, through its own connection to the store
  (def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil (t/janet-exe) "-e"
                            (string `(import jsec/ca) (ca/revoke (ca/store-load (ca/open-store "` db `") "root") 1 :key-compromise)`)))
  (t/ok (zero? code) (string "another process revokes serial 1: " out))
  (let [out (ask "-cert" leaf-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out) (string/find "keyCompromise" out))
          (string "revoked on the very next request: " out)))
  # a serial this CA never issued
  (let [out (ask "-serial" "999")]
    (t/ok (string/find ": unknown" out) (string "a serial the stored CA never issued is unknown: " out))))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-ocsp")
