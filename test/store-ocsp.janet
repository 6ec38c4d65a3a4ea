# Live status from the store (issue 13): an OCSP responder process serving a
# stored CA (read-only) answers `revoked` for a serial another process
# revoked, on the very next request, with no restart and no polling, and
# `unknown` for serials the CA never issued. The responder reuses its answer
# to a request without a nonce for a moment (jsec/ocsp-responder.janet,
# cache-seconds): the revocation must show through that too, at once.
# Judged by `openssl ocsp -url`.
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
(def other-pem (t/write dir "other.pem" ((:issue root {:common-name "other.example"}) :cert)))

(def {:port port :proc proc} (responder/start dir "store" ["--store" db "--ca" "root"]))
(defer (os/proc-kill proc true)
  (defn ask [& what]
    (def [_ out] (t/openssl "ocsp" "-url" (string "http://127.0.0.1:" port) "-timeout" "10"
                            "-issuer" root-pem ;what "-CAfile" root-pem))
    out)
  (let [out (ask "-cert" leaf-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": good" out)) (string "good before the revocation: " out)))
  # without a nonce: the same answer, byte for byte, while it is reused
  (defn ask-raw [cert out-file]
    (t/openssl "ocsp" "-url" (string "http://127.0.0.1:" port) "-timeout" "10" "-no_nonce" "-issuer" root-pem
               "-cert" cert "-CAfile" root-pem "-respout" (path out-file)))
  (let [[_ first-out] (ask-raw other-pem "r1.der")
        [_ second-out] (ask-raw other-pem "r2.der")]
    (t/ok (and (string/find "Response verify OK" first-out) (string/find ": good" first-out))
          (string "good without a nonce: " first-out))
    (t/ok (string/find ": good" second-out) (string "good again: " second-out))
    (t/same (slurp (path "r1.der")) (slurp (path "r2.der")) "an answer without a nonce is reused within cache-seconds"))
  # another process revokes, through its own connection to the store
  (def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil (t/janet-exe) "-e"
                            (string `(import jsec/ca) (ca/revoke (ca/store-load (ca/open-store "` db `") "root") 1 :key-compromise)`)))
  (t/ok (zero? code) (string "another process revokes serial 1: " out))
  (let [out (ask "-cert" leaf-pem)]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out) (string/find "keyCompromise" out))
          (string "revoked on the very next request: " out)))
  # the reused answer does not hide a revocation: status is read at every request
  (def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil (t/janet-exe) "-e"
                            (string `(import jsec/ca) (ca/revoke (ca/store-load (ca/open-store "` db `") "root") 2 :superseded)`)))
  (t/ok (zero? code) (string "another process revokes serial 2: " out))
  (let [[_ out] (ask-raw other-pem "r3.der")]
    (t/ok (and (string/find "Response verify OK" out) (string/find ": revoked" out) (string/find "superseded" out))
          (string "without a nonce too, revoked on the very next request: " out)))
  # a serial this CA never issued
  (let [out (ask "-serial" "999")]
    (t/ok (string/find ": unknown" out) (string "a serial the stored CA never issued is unknown: " out))))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-ocsp")
