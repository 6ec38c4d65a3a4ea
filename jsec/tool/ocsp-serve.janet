# jsec-ca ocsp-serve: an OCSP responder (jsec/ocsp-responder) live from the store.
(import jsec/ca)
(use ./common)
(import ../ocsp-responder :as responder)

(def summary "answer OCSP requests over HTTP, live from the store")

(def help ```
Usage: jsec-ca ocsp-serve --port P [--host H] [--dir D] [--store LOCATION]

Answers OCSP requests (RFC 6960, HTTP POST and GET) for the certificates of
this CA, on H:P (default 127.0.0.1). Answers come from the store as it is at
each request: a `jsec-ca revoke` in another shell (or on another host sharing
the --store) is seen by the next one. It only reads the store: a PostgreSQL
hot standby serves as well as the primary.
```)

(def options {"port" :count "host" [:text "127.0.0.1"]})

(defn run
  "Serves OCSP until the process is stopped."
  [opts args]
  (no-arguments "ocsp-serve" args)
  (def port (or (opts :port) (usage-error "ocsp-serve needs --port P")))
  (def host (opts :host))
  # Read-only: signing OCSP answers writes nothing; status is read live.
  (def store (open-store opts true))
  (def signer (load-ca store (signer-name store opts)))
  (responder/serve signer host port)
  (printf "answering OCSP on http://%s:%d/ (live from %s)" host port (ca/store-location store))
  (flush)
  (forever (ev/sleep 3600)))
