# jsec-ca acme-serve: the ACME server of a CA in a store (jsec/acme-server).
(import jsec/ca)
(import jsec/acme-server)

(use ./common)

(def summary "serve ACME (RFC 8555, renewal info RFC 9773) for the CA, behind a TLS proxy")

(def help
  ```
Usage: jsec-ca acme-serve --allowed-domains D[,D...] [--allowed-ips CIDR[,CIDR...]]
         [--dir D | --store LOCATION] [--ca NAME] [--host H] [--port P] [--base-url URL]
         [--days N] [--extended-key-usage EKU[,EKU...]] [--key-usage KU[,KU...]]
         [--http-01-port N] [--tls-alpn-01-port N] [--validation-address ADDR]
         [--dns-server HOST:PORT]
         [--validation-timeout SECONDS] [--orders-per-hour N]
         [--eab-kid KID --eab-key B64URL] [--finalize-lease SECONDS] [--max-seconds N]

Serves ACME (RFC 8555, renewal info RFC 9773) for the CA in the store: the
intermediate when there is one, else the root (or --ca NAME). Plain HTTP on
H:P (default 127.0.0.1:14000); clients need HTTPS, so run it behind a TLS proxy
and give the URL clients use as --base-url (default http://H:P). The ACME state
lives in the same store, so several acme-serve processes can serve one CA: on
one host with the SQLite file, on several with a PostgreSQL store (--store
postgresql://...; give them all the one --base-url clients use, in front).
Certificates last --days (90) with --extended-key-usage (default serverAuth;
names as `jsec-ca issue` takes them, e.g. serverAuth,clientAuth, or dotted
OIDs) and --key-usage (default: by key type; e.g. digitalSignature).
Validation: http-01 connects to --validation-address (default: the identifier)
on --http-01-port (default 80), tls-alpn-01 (RFC 8737) there on
--tls-alpn-01-port (default 443); dns-01 asks --dns-server (required for dns-01);
each gives up after --validation-timeout seconds (10).
A finalize that a process began and did not finish (killed, or stalled) is
taken over by any acme-serve of the store after --finalize-lease seconds (60).
--validation always-valid is for benchmarks only: every challenge passes
without any look-up, so anyone gets a certificate for any allowed name.
Prints "ACME directory: URL" when ready.
```)

(def options
  {"ca" :text "host" :text "port" :text "base-url" :text "days" :text "http-01-port" :text "tls-alpn-01-port" :text
   "validation-address" :text "dns-server" :text "orders-per-hour" :text "allowed-domains" :text
   "allowed-ips" :text "eab-kid" :text "eab-key" :text "max-seconds" :text
   "extended-key-usage" :text "key-usage" :text "validation-timeout" :text "validation" :text
   "finalize-lease" :text})

(defn- split-list [s] (filter |(not (empty? $)) (map string/trim (string/split "," (or s "")))))

(defn- int-flag [opts k]
  (when-let [v (opts k)]
    (def n (scan-number v))
    (unless (and (int? n) (>= n 0)) (error [:usage (string "--" k " needs a whole number, got " v)]))
    n))

(defn run
  "Runs acme-serve with the options `o`; returns when --max-seconds pass (else never)."
  [o args]
  (no-arguments "acme-serve" args)
  (def host (or (o :host) "127.0.0.1"))
  (def port (or (int-flag o :port) 14000))
  # The store as every command finds it (--store, JSEC_CA_STORE, else D/ca.db);
  # the ACME state goes into the same store, SQLite or PostgreSQL.
  (def location (or (store-location o) (store-file (or (o :dir) (os/getenv "JSEC_CA_DIR") "ca"))))
  (unless (or (store-location o) (os/stat location))
    (fail "no store at %s: run `jsec-ca init` first" location))
  (def password (let [p (os/getenv "JSEC_CA_PASSWORD")] (when (not= p "") p)))
  (def store (ca/open-store location {:busy-timeout 30000}))
  (def cas (ca/store-cas store))
  (def name (or (o :ca) (cond (index-of "intermediate" cas) "intermediate"
                              (index-of "root" cas) "root"
                              (fail "no CA in %s" location))))
  (def the-ca (ca/store-load store name (if password {:password password} {})))
  (def domains (split-list (o :allowed-domains)))
  (def ips (split-list (o :allowed-ips)))
  (when (and (empty? domains) (empty? ips))
    (error [:usage "acme-serve needs --allowed-domains and/or --allowed-ips: it issues for nothing else"]))
  (def base (or (o :base-url) (string "http://" host ":" port)))
  (def acme-opts @{:base-url base :allowed-domains domains :allowed-ips ips :busy-timeout 30000})
  (when-let [d (int-flag o :days)] (put acme-opts :days-valid d))
  (when-let [n (int-flag o :orders-per-hour)] (put acme-opts :orders-per-hour n))
  (when-let [n (int-flag o :finalize-lease)] (put acme-opts :finalize-lease n))
  # The profile: refused here, with the library's reason, before anything serves.
  (each [flag k] [["extended-key-usage" :extended-key-usage] ["key-usage" :key-usage]]
    (when-let [v (o (keyword flag))]
      (def items (split-list v))
      (when (empty? items) (error [:usage (string "--" flag " needs a comma list of usages")]))
      (def [ok msg] (protect (ca/acme-open ":memory:" {:base-url base k items})))
      (unless ok (error [:usage (string "--" flag " " v ": " msg)]))
      (put acme-opts k items)))
  (def always-valid
    (case (o :validation)
      nil false
      "always-valid" true
      (error [:usage (string "--validation takes only always-valid (for benchmarks), got " (o :validation))])))
  (when always-valid
    (put acme-opts :validation-always-valid true)
    (eprint "acme-serve: WARNING: --validation always-valid: EVERY CHALLENGE PASSES WITHOUT ANY CHECK.")
    (eprint "acme-serve: WARNING: anyone can get a certificate for any allowed name. For benchmarks only."))
  (when (o :eab-kid)
    (put acme-opts :eab-keys {(o :eab-kid) (or (o :eab-key) (error [:usage "--eab-kid needs --eab-key"]))})
    (put acme-opts :eab-required true))
  (def acme (ca/acme-open location acme-opts))
  (def vopts @{})
  (when-let [p (int-flag o :http-01-port)] (put vopts :http-01-port p))
  (when-let [p (int-flag o :tls-alpn-01-port)] (put vopts :tls-alpn-01-port p))
  (when-let [a (o :validation-address)] (put vopts :validation-address a))
  (when-let [n (int-flag o :validation-timeout)]
    (when (zero? n) (error [:usage "--validation-timeout needs at least 1 second"]))
    (put vopts :validation-timeout n))
  (when always-valid (put vopts :always-valid true))
  (when-let [d (o :dns-server)]
    (def colon (last (string/find-all ":" d)))
    (unless colon (error [:usage "--dns-server is HOST:PORT"]))
    (put vopts :dns-server [(string/slice d 0 colon) (scan-number (string/slice d (+ colon 1)))]))
  (def server (acme-server/serve the-ca acme host port vopts))
  (printf "ACME directory: %s" (ca/acme-directory-url acme))
  (printf "serving ACME for CA %q of %s on http://%s:%d" name (ca/store-location store) host port)
  (flush)
  (if-let [n (int-flag o :max-seconds)]
    (do (ev/sleep n) (:close server))
    (forever (ev/sleep 3600))))
