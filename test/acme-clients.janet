# test-timeout: 1200
# ACME end to end (issue 24): lego and certbot against `jsec-ca acme-serve`
# behind a TLS proxy (socat, with a certificate from the CA itself) on
# loopback: register, http-01, dns-01 with a wildcard (a DNS server of the
# test's own, test/support/acme-dns.py), tls-alpn-01 (lego's), renew, revoke; ARI: after `jsec-ca
# revoke`, `certbot renew` replaces the certificate far from expiry. Every
# certificate is judged by openssl verify -x509_strict, Go's crypto/x509 and
# pkilint, and its serial is live in the OCSP responder (good, then revoked).
(import ./support/check :as t)
(import ./support/go-judge :as go)

(defn skip [why]
  (print "SKIP: acme-clients: " why)
  (os/exit (if (= "true" (os/getenv "CI")) 1 0)))

(each tool ["lego" "certbot" "socat" "openssl" "curl"]
  (unless (zero? (first (try (t/run "sh" "-c" (string "command -v " tool)) ([_] [1]))))
    (skip (string tool " is not installed (scripts/setup installs it)"))))
(unless (zero? (first (t/run "python3" "-c" "import dnslib")))
  (skip "python3 dnslib is not installed (scripts/setup installs it)"))

(def root (os/cwd))
(def janet (t/janet-exe))
(def jsec-ca (string root "/bin/jsec-ca"))
(def env {"JANET_PATH" (t/module-root)})
(def dir (t/tmpdir "acme"))
(def ca-dir (string dir "/ca"))
(def records (string dir "/dns-records"))
(spit records "")
(def base-port (+ 20000 (math/rng-int (math/rng (os/cryptorand 8)) 12000)))
(def tls-port base-port)
(def acme-port (+ base-port 1))
(def http01-port (+ base-port 2))
(def dns-port (+ base-port 3))
(def ocsp-port (+ base-port 4))
(def alpn-port (+ base-port 5))
(def directory (string "https://localhost:" tls-port "/directory"))

(defn tool [& args]
  (t/run-in env nil janet jsec-ca ;args))

(def procs @[])
(defn start [name env & argv]
  (def log (string dir "/" name ".log"))
  (def f (file/open log :w))
  (def p (os/spawn argv :pe (merge (os/environ) env {:out f :err f})))
  (array/push procs p)
  p)
(defn stop-all []
  (each p procs (protect (os/proc-kill p true))))

(defn wait-port [port what]
  (var up false)
  (for i 0 100
    (when (protect (:close (net/connect "127.0.0.1" port)))
      (set up true) (break))
    (ev/sleep 0.1))
  (unless up (stop-all) (error (string what " did not start on port " port))))

(defer (stop-all)
  (t/ok (zero? (first (tool "init" "--dir" ca-dir))) "jsec-ca init")
  (def root-pem (string ca-dir "/root.crt"))
  (def [c o] (tool "issue" "localhost" "--dir" ca-dir "--out" (string dir "/tls")))
  (t/ok (zero? c) (string "TLS certificate for the proxy: " o))
  (start "socat" {} "socat" (string "OPENSSL-LISTEN:" tls-port ",bind=127.0.0.1,reuseaddr,fork,nodelay,verify=0,cert="
                                    dir "/tls/localhost.crt,key=" dir "/tls/localhost.key")
         (string "TCP:127.0.0.1:" acme-port ",nodelay"))
  (start "acme-serve" env janet jsec-ca "acme-serve" "--dir" ca-dir "--port" (string acme-port)
         "--base-url" (string "https://localhost:" tls-port) "--allowed-domains" "example.test"
         "--validation-address" "127.0.0.1" "--http-01-port" (string http01-port)
         "--tls-alpn-01-port" (string alpn-port)
         "--dns-server" (string "127.0.0.1:" dns-port) "--max-seconds" "600")
  (start "dns" {} "python3" (string root "/test/support/acme-dns.py") (string dns-port) records)
  (start "ocsp" env janet jsec-ca "ocsp-serve" "--dir" ca-dir "--port" (string ocsp-port))
  (each [p w] [[acme-port "acme-serve"] [tls-port "socat"] [ocsp-port "ocsp-serve"]] (wait-port p w))
  (ev/sleep 0.5)
  (def log (slurp (string dir "/acme-serve.log")))
  (t/ok (string/find (string "ACME directory: " directory) log) (string "acme-serve prints its directory URL: " log))

  (def judged @[])
  (defn judge [name cert-file names]
    "openssl -x509_strict, pkilint, the SANs, the OCSP responder's answer; Go later, in one run."
    (def [c out] (t/run "openssl" "verify" "-x509_strict" "-CAfile" root-pem cert-file))
    (t/ok (zero? c) (string name ": openssl verify -x509_strict: " out))
    (def [clean report] (t/pkilint-clean? "lint_pkix_cert" cert-file))
    # pkilint's PKIX linter knows no wildcards (RFC 6125 and the CA/B Forum
    # define them): that one finding, on a "*." name we ordered, is expected;
    # any other ERROR still fails.
    (def errors (filter |(string/has-prefix? "ERROR" $) (string/split "\n" report)))
    (def wildcard-only (all |(peg/match ~(* "ERROR pkix.invalid_domain_name_syntax " (thru `: "*.`)) $) errors))
    (t/ok (or clean (and (not (empty? errors)) wildcard-only)) (string name ": pkilint: " report))
    (def [_ text] (t/run "openssl" "x509" "-in" cert-file "-noout" "-ext" "subjectAltName"))
    (each n names (t/ok (string/find (string "DNS:" n) text) (string name ": SAN " n " in " text)))
    (def copy (string dir "/judged-" (length judged) ".pem"))
    (spit copy (slurp cert-file))
    (array/push judged [name copy [root-pem] []]))
  (defn ocsp-status [cert-file]
    (def [_ out] (t/run "openssl" "ocsp" "-issuer" root-pem "-cert" cert-file "-CAfile" root-pem
                        "-url" (string "http://127.0.0.1:" ocsp-port "/")))
    (cond (string/find ": good" out) :good (string/find ": revoked" out) :revoked out))
  (defn serial-of [cert-file]
    (string/trim (string/slice (last (t/run "openssl" "x509" "-in" cert-file "-noout" "-serial")) 7)))

  # --- lego -------------------------------------------------------------------
  (def lego-env {"LEGO_CA_CERTIFICATES" root-pem "ACME_DNS_RECORDS" records
                 "EXEC_PATH" (string root "/test/support/acme-dns-hook.sh")
                 "EXEC_PROPAGATION_TIMEOUT" "10" "EXEC_POLLING_INTERVAL" "1"})
  (defn lego [& args]
    (t/run-in lego-env nil "lego" "--server" directory "--accept-tos" "--email" "lego@example.test"
              "--path" (string dir "/lego") ;args))
  (def t0 (os/clock :monotonic))
  (def [c out] (lego "--domains" "lego.example.test" "--http" "--http.port" (string "127.0.0.1:" http01-port) "run" "--no-bundle"))
  (def lego-seconds (- (os/clock :monotonic) t0))
  (t/ok (zero? c) (string "lego http-01: " out))
  (def lego-cert (string dir "/lego/certificates/lego.example.test.crt"))
  (judge "lego http-01" lego-cert ["lego.example.test"])
  (t/same (ocsp-status lego-cert) :good "lego http-01 certificate is good in OCSP")

  (def [c out] (lego "--domains" "*.wild.example.test" "--domains" "wild.example.test" "--dns" "exec"
                     "--dns.disable-cp" "--dns.resolvers" (string "127.0.0.1:" dns-port) "run" "--no-bundle"))
  (t/ok (zero? c) (string "lego dns-01 with a wildcard: " out))
  (def wild-cert (string dir "/lego/certificates/_.wild.example.test.crt"))
  (judge "lego dns-01 wildcard" wild-cert ["*.wild.example.test" "wild.example.test"])

  # tls-alpn-01: lego answers only that challenge (--tls), with its own
  # challenge certificate on alpn-port.
  (def [c out] (lego "--domains" "alpn.example.test" "--tls" "--tls.port" (string "127.0.0.1:" alpn-port)
                     "run" "--no-bundle"))
  (t/ok (zero? c) (string "lego tls-alpn-01: " out))
  (t/ok (string/find "tls-alpn-01" out) (string "lego solved tls-alpn-01: " out))
  (judge "lego tls-alpn-01" (string dir "/lego/certificates/alpn.example.test.crt") ["alpn.example.test"])

  (def before (serial-of lego-cert))
  # --no-random-sleep: without a terminal, lego renew first sleeps a random
  # 0-8 minutes (as certbot does; --no-random-sleep-on-renew below).
  (def [c out] (lego "--domains" "lego.example.test" "--http" "--http.port" (string "127.0.0.1:" http01-port)
                     "renew" "--days" "100" "--no-bundle" "--no-random-sleep"))
  (t/ok (zero? c) (string "lego renew: " out))
  (t/ok (not= before (serial-of lego-cert)) "lego renew: a new certificate")
  (judge "lego renewed" lego-cert ["lego.example.test"])
  (def kept (string dir "/lego-revoked.crt"))
  (spit kept (slurp lego-cert))
  (def [c out] (lego "--domains" "lego.example.test" "revoke"))
  (t/ok (zero? c) (string "lego revoke: " out))
  (t/same (ocsp-status kept) :revoked "lego revoke: OCSP says revoked")

  # --- certbot ----------------------------------------------------------------
  (def cb (string dir "/certbot"))
  (def cb-env {"REQUESTS_CA_BUNDLE" root-pem "ACME_DNS_RECORDS" records})
  (defn certbot [& args]
    (t/run-in cb-env nil "certbot" ;args "--non-interactive" "--config-dir" (string cb "/config")
              "--work-dir" (string cb "/work") "--logs-dir" (string cb "/logs")))
  (def t0 (os/clock :monotonic))
  (def [c out] (certbot "certonly" "--standalone" "--agree-tos" "-m" "cb@example.test" "--server" directory
                        "--http-01-port" (string http01-port) "--http-01-address" "127.0.0.1"
                        "-d" "certbot.example.test"))
  (def certbot-seconds (- (os/clock :monotonic) t0))
  (t/ok (zero? c) (string "certbot http-01: " out))
  (def cb-cert (string cb "/config/live/certbot.example.test/cert.pem"))
  (judge "certbot http-01" cb-cert ["certbot.example.test"])
  (t/same (ocsp-status cb-cert) :good "certbot certificate is good in OCSP")

  (def hook (string root "/test/support/acme-dns-hook.sh certbot"))
  (def [c out] (certbot "certonly" "--manual" "--preferred-challenges" "dns" "--manual-auth-hook" hook
                        "--server" directory "-d" "*.cbwild.example.test" "--cert-name" "cbwild"))
  (t/ok (zero? c) (string "certbot dns-01 wildcard: " out))
  (judge "certbot dns-01 wildcard" (string cb "/config/live/cbwild/cert.pem") ["*.cbwild.example.test"])

  # ARI: revoke with the tool, and certbot renews although far from expiry.
  (def serial (serial-of cb-cert))
  (def [c out] (tool "revoke" (string "0x" serial) "--dir" ca-dir))
  (t/ok (zero? c) (string "jsec-ca revoke 0x" serial ": " out))
  (t/same (ocsp-status cb-cert) :revoked "jsec-ca revoke: OCSP says revoked")
  (def [c out] (certbot "renew" "--cert-name" "certbot.example.test" "--no-random-sleep-on-renew"))
  (t/ok (and (zero? c) (string/find "renewals succeeded" out)) (string "ARI: certbot renew after revocation: " out))
  (t/ok (not= serial (serial-of cb-cert)) "ARI: certbot replaced the revoked certificate")
  (judge "certbot ARI renewal" cb-cert ["certbot.example.test"])
  (def [c out] (certbot "renew" "--cert-name" "cbwild" "--no-random-sleep-on-renew"))
  (t/ok (string/find "not yet due" out) (string "ARI: a good certificate is not renewed early: " out))

  (def [c out] (certbot "revoke" "--cert-name" "certbot.example.test" "--no-delete-after-revoke"))
  (t/ok (zero? c) (string "certbot revoke: " out))
  (t/same (ocsp-status cb-cert) :revoked "certbot revoke: OCSP says revoked")

  # Go's crypto/x509, once over every certificate judged.
  (def verdicts (go/judge judged dir))
  (each [name] judged (t/same (verdicts name) "ok" (string name ": Go crypto/x509")))

  (printf "acme-clients: lego %.2f s, certbot %.2f s for one certificate (http-01, loopback)" lego-seconds certbot-seconds))

(t/done "acme-clients")
