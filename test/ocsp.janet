# OCSP (issue 4): parse requests, build responses, judged by tools nobody here
# wrote: the `openssl ocsp` HTTP client against jsec/ocsp-responder.janet,
# pkilint's lint_ocsp_response, and Python cryptography's OCSP reader.

(import jsec/ca)
(import ./support/check :as t)
(import ./support/responder)

(math/seedrandom (os/cryptorand 8))
(def dir (t/tmpdir "ocsp"))
(defn path [name] (string dir "/" name))
(defn has? [out & needles] (all |(string/find $ out) needles))

# ---------------------------------------------------------------- fixtures

(def root (ca/generate {:common-name "OCSP Test Root" :track-issued true}))
(def root-pem (t/write dir "root.pem" (ca/get-cert root)))
(def root-key (t/write dir "root.key" (ca/get-key root)))
(def good (ca/issue root {:common-name "good.example"}))            # serial 1
(def revoked (ca/issue root {:common-name "revoked.example"}))      # serial 2
(def held (ca/issue root {:common-name "held.example"}))            # serial 3
(def responder (ca/issue root {:common-name "OCSP Responder" :extended-key-usage "OCSPSigning"}))
(t/write dir "good.pem" (good :cert))
(t/write dir "revoked.pem" (revoked :cert))
(t/write dir "held.pem" (held :cert))
(t/write dir "responder.pem" (responder :cert))
(t/write dir "responder.key" (responder :key))

(def other (ca/generate {:common-name "Other Root"}))
(def other-leaf (ca/issue other {:common-name "other.example"}))
(def other-responder (ca/issue other {:common-name "Other Responder" :extended-key-usage "OCSPSigning"}))
(t/write dir "other.pem" (ca/get-cert other))
(t/write dir "other-leaf.pem" (other-leaf :cert))

(def inter (ca/generate-intermediate root {:common-name "OCSP Test Intermediate"}))
(def inter-leaf (ca/issue inter {:common-name "inter-leaf.example"}))
(t/write dir "inter.pem" (ca/get-cert inter))
(t/write dir "inter.key" (ca/get-key inter))
(t/write dir "inter-leaf.pem" (inter-leaf :cert))

(def revoked-at 1700000000) # 2023-11-14T22:13:20Z

# ---------------------------------------------------------------- responder processes

(def procs @[])


(defn stop-all []
  (each p procs (protect (os/proc-kill p true)))
  (array/clear procs))

(defn start-responder
  "Spawns jsec/ocsp-responder.janet on a random high port; waits (bounded) until it listens."
  [name & flags]
  (def {:port port :proc p} (responder/start dir name flags))
  (array/push procs p)
  port)

(defn query
  "Runs the openssl ocsp client against the responder on `port`; returns its output."
  [port & args]
  (def [code out] (t/openssl "ocsp" "-url" (string "http://127.0.0.1:" port) "-timeout" "10" ;args))
  out)

(defn http
  "Sends raw bytes to the responder, half-closes, reads the reply until EOF (bounded)."
  [port payload]
  (def s (net/connect "127.0.0.1" port))
  (defer (:close s)
    (:write s payload)
    (net/shutdown s :w)
    (def buf @"")
    (while (:read s 4096 buf 5))
    buf))

(defn http-body [reply]
  (if-let [i (string/find "\r\n\r\n" reply)] (string/slice reply (+ i 4)) ""))

(defn run-http-tests []
  (def revoke-flags ["--revoke" (string "2:key-compromise:" revoked-at) "--revoke" (string "3:certificate-hold:" revoked-at)])
  (def root-next ["--serial" (string (ca/get-serial root))])
  (def port (start-responder "root" "--cert" root-pem "--key" root-key ;root-next ;revoke-flags))
  (def dport (start-responder "delegated" "--cert" root-pem "--key" root-key ;root-next ;revoke-flags
                              "--responder-cert" (path "responder.pem") "--responder-key" (path "responder.key")))
  (def iport (start-responder "inter" "--cert" (path "inter.pem") "--key" (path "inter.key")
                              "--serial" (string (ca/get-serial inter))))
  (def verified "Response verify OK")

  # good, with a nonce (openssl's default) echoed
  (def out (query port "-issuer" root-pem "-cert" (path "good.pem") "-CAfile" root-pem
                  "-respout" (path "good-resp.der") "-resp_text"))
  (t/ok (has? out verified "good.pem: good" "OCSP Nonce") (string "good over HTTP: " out))
  (t/ok (not (string/find "WARNING" out)) (string "good over HTTP: no nonce warning: " out))

  # revoked, with reason and time
  (def out (query port "-issuer" root-pem "-cert" (path "revoked.pem") "-CAfile" root-pem
                  "-respout" (path "revoked-resp.der")))
  (t/ok (has? out verified "revoked.pem: revoked" "Reason: keyCompromise" "Revocation Time: Nov 14 22:13:20 2023 GMT")
        (string "revoked over HTTP: " out))

  # unknown: a certificate of another issuer (the responder is trusted explicitly with -VAfile)
  (def out (query port "-issuer" (path "other.pem") "-cert" (path "other-leaf.pem") "-VAfile" root-pem
                  "-respout" (path "unknown-resp.der")))
  (t/ok (has? out verified "other-leaf.pem: unknown") (string "unknown over HTTP: " out))

  # nonce off
  (def out (query port "-no_nonce" "-issuer" root-pem "-cert" (path "good.pem") "-CAfile" root-pem "-resp_text"))
  (t/ok (and (has? out verified "good.pem: good") (not (string/find "OCSP Nonce" out)) (not (string/find "WARNING" out)))
        (string "-no_nonce over HTTP: " out))

  # SHA-256, SHA-384 and SHA-512 CertIDs
  (each alg ["sha256" "sha384" "sha512"]
    (def out (query port "-issuer" root-pem (string "-" alg) "-cert" (path "good.pem") "-cert" (path "revoked.pem")
                    "-CAfile" root-pem "-resp_text"))
    (t/ok (has? out verified (string "Hash Algorithm: " alg) "good.pem: good" "revoked.pem: revoked")
          (string "-" alg " CertIDs over HTTP: " out)))

  # several certificates in one request
  (def out (query port "-issuer" root-pem "-cert" (path "good.pem") "-cert" (path "revoked.pem") "-cert" (path "held.pem")
                  "-CAfile" root-pem))
  (t/ok (has? out verified "good.pem: good" "revoked.pem: revoked" "held.pem: revoked" "Reason: certificateHold")
        (string "three certificates in one request: " out))

  # a mixed request: this CA's certificate and another issuer's
  (def out (query port "-issuer" root-pem "-cert" (path "good.pem") "-issuer" (path "other.pem")
                  "-cert" (path "other-leaf.pem") "-VAfile" root-pem))
  (t/ok (has? out verified "good.pem: good" "other-leaf.pem: unknown") (string "mixed issuers: " out))

  # a delegated responder certificate
  (def out (query dport "-issuer" root-pem "-cert" (path "good.pem") "-cert" (path "revoked.pem") "-CAfile" root-pem
                  "-respout" (path "delegated-resp.der") "-resp_text"))
  (t/ok (has? out verified "good.pem: good" "revoked.pem: revoked" "CN=OCSP Responder")
        (string "delegated responder over HTTP: " out))
  (def out (query dport "-issuer" root-pem "-sha256" "-cert" (path "good.pem") "-no_nonce" "-CAfile" root-pem))
  (t/ok (has? out verified "good.pem: good") (string "delegated responder, sha256, no nonce: " out))

  # an intermediate CA answering for its own certificates, chain to the root
  (def out (query iport "-issuer" (path "inter.pem") "-cert" (path "inter-leaf.pem") "-CAfile" root-pem))
  (t/ok (has? out verified "inter-leaf.pem: good") (string "intermediate CA over HTTP: " out))

  # pkilint on what the responder served
  (def lint-names ["good-resp.der" "revoked-resp.der" "delegated-resp.der" "unknown-resp.der"])
  (defn lint [name] (t/pkilint-clean? "lint_ocsp_response" (path name)))
  # four linters at once: each run is most of a second of Python start-up
  (def lints (ev/gather (lint (lint-names 0)) (lint (lint-names 1)) (lint (lint-names 2)) (lint (lint-names 3))))
  (each [name [clean lint-out]] (map tuple lint-names lints)
    (t/ok clean (string "pkilint " name ": " lint-out)))

  # GET /<url-encoded base64> (RFC 6960 appendix A), judged by openssl with the request's nonce
  (t/openssl "ocsp" "-issuer" root-pem "-cert" (path "revoked.pem") "-reqout" (path "get-req.der"))
  (def [_ b64] (t/openssl "base64" "-A" "-in" (path "get-req.der")))
  (def encoded (->> (string/trim b64) (string/replace-all "+" "%2B") (string/replace-all "/" "%2F")
                    (string/replace-all "=" "%3D")))
  (def reply (http port (string "GET /" encoded " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")))
  (t/ok (has? reply "HTTP/1.1 200 OK" "Content-Type: application/ocsp-response") (string "GET reply: " reply))
  (spit (path "get-resp.der") (http-body reply))
  (def [_ out] (t/openssl "ocsp" "-respin" (path "get-resp.der") "-reqin" (path "get-req.der") "-issuer" root-pem
                          "-CAfile" root-pem "-resp_text"))
  (t/ok (has? out verified "Cert Status: revoked" "keyCompromise") (string "GET response with the request's nonce: " out))
  # the same request as a raw POST
  (def der (slurp (path "get-req.der")))
  (def reply (http port (string "POST /ocsp HTTP/1.0\r\nContent-Type: application/ocsp-request\r\nContent-Length: "
                                (length der) "\r\n\r\n" der)))
  (spit (path "post-resp.der") (http-body reply))
  (def [_ out] (t/openssl "ocsp" "-respin" (path "post-resp.der") "-reqin" (path "get-req.der") "-issuer" root-pem
                          "-CAfile" root-pem "-resp_text"))
  (t/ok (has? reply "HTTP/1.0 200 OK") (string "raw POST reply: " reply))
  (t/ok (has? out verified "Cert Status: revoked") (string "raw POST response: " out))

  # garbage on the socket never kills the responder
  (def malformed (ca/ocsp-error-response :malformed-request))
  (def post-garbage (http port (string "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world")))
  (t/ok (and (has? post-garbage "200 OK") (= (http-body post-garbage) (string malformed)))
        (string "garbage POST body gets malformedRequest: " (describe post-garbage)))
  (def get-garbage (http port "GET /!!not-base64!! HTTP/1.1\r\n\r\n"))
  (t/same (http-body get-garbage) (string malformed) "garbage GET path gets malformedRequest")
  (def get-empty (http port "GET / HTTP/1.0\r\n\r\n"))
  (t/same (http-body get-empty) (string malformed) "empty GET gets malformedRequest")
  (t/ok (has? (http port "DELETE / HTTP/1.1\r\n\r\n") "405") "other methods get 405")
  (t/ok (has? (http port "not http at all\r\n\r\n") "400") "a bad request line gets 400")
  (t/ok (has? (http port "POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n") "400") "a huge Content-Length gets 400")
  (t/ok (has? (http port "POST / HTTP/1.1\r\n\r\n") "400") "a POST without Content-Length gets 400")
  (t/ok (has? (http port "POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nshort") "400") "a cut-short body gets 400")
  (http port (os/cryptorand 3000))
  (http port "")
  (http port (string "GET /" (string/repeat "A" 20000) " HTTP/1.1\r\n\r\n"))
  (http port (string/repeat "\r\n" 100))
  (def out (query port "-issuer" root-pem "-cert" (path "good.pem") "-CAfile" root-pem))
  (t/ok (has? out verified "good.pem: good") (string "the responder survives garbage: " out)))

# ---------------------------------------------------------------- Python cryptography

# Builds requests with cryptography's OCSPRequestBuilder. Arguments come in groups:
#   cert CERT ISSUER OUT HASH NONCE-HEX|-      (add_certificate, optional OCSPNonce)
#   hash NAME-HASH KEY-HASH SERIAL OUT         (add_certificate_by_hash, SHA-1)
(def py-build ```
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
algs = {'sha1': hashes.SHA1(), 'sha256': hashes.SHA256(), 'sha384': hashes.SHA384(), 'sha512': hashes.SHA512()}
a = sys.argv[1:]
while a:
    if a[0] == 'cert':
        _, c, i, out, alg, nonce = a[:6]; a = a[6:]
        cert = x509.load_pem_x509_certificate(open(c, 'rb').read())
        issuer = x509.load_pem_x509_certificate(open(i, 'rb').read())
        b = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algs[alg])
        if nonce != '-':
            b = b.add_extension(x509.OCSPNonce(bytes.fromhex(nonce)), critical=False)
    else:
        _, nh, kh, serial, out = a[:5]; a = a[5:]
        b = ocsp.OCSPRequestBuilder().add_certificate_by_hash(bytes.fromhex(nh), bytes.fromhex(kh), int(serial, 0), hashes.SHA1())
    open(out, 'wb').write(b.build().public_bytes(serialization.Encoding.DER))
```)

# Reads responses with ocsp.load_der_ocsp_response; prints FILE-INDEX:KEY=VALUE lines.
(def py-read ```
import sys
from cryptography import x509
from cryptography.x509 import ocsp
for f, name in enumerate(sys.argv[1:]):
    r = ocsp.load_der_ocsp_response(open(name, 'rb').read())
    p = lambda k, v: print('%d:%s=%s' % (f, k, v))
    p('response_status', r.response_status.name)
    if r.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        continue
    try:
        n = r.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce.hex()
    except x509.ExtensionNotFound:
        n = 'none'
    p('nonce', n)
    p('responder_key_hash', (r.responder_key_hash or b'').hex())
    p('certificates', len(r.certificates))
    for i, s in enumerate(r.responses):
        p('%d.status' % i, s.certificate_status.name)
        p('%d.serial' % i, '%x' % s.serial_number)
        p('%d.hash' % i, s.hash_algorithm.name)
        p('%d.name_hash' % i, s.issuer_name_hash.hex())
        p('%d.key_hash' % i, s.issuer_key_hash.hex())
        p('%d.this_update' % i, int(s.this_update_utc.timestamp()))
        p('%d.next_update' % i, int(s.next_update_utc.timestamp()) if s.next_update_utc else 'none')
        if s.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            p('%d.revocation_time' % i, int(s.revocation_time_utc.timestamp()))
            p('%d.reason' % i, s.revocation_reason.name if s.revocation_reason else 'none')
```)

(defn python-ok
  "Runs a Python script; returns its output (and fails the check when it fails)."
  [what script & args]
  (def [code out] (t/python script ;args))
  (t/ok (zero? code) (string what ": python failed: " out))
  out)

(defn py-read-all
  "Reads response files with Python cryptography; returns one table of fields per file."
  [& files]
  (def out (python-ok "read responses" py-read ;files))
  (def tables (seq [_ :in files] @{}))
  (each line (string/split "\n" out)
    (def colon (string/find ":" line))
    (def eq (string/find "=" line))
    (when (and colon eq (< colon eq))
      (when-let [t (get tables (scan-number (string/slice line 0 colon)))]
        (put t (string/slice line (+ colon 1) eq) (string/slice line (+ eq 1))))))
  tables)

(defn hex [b] (string/join (map |(string/format "%02x" $) b)))

(defn run-python-tests []
  (def nonce "00112233445566778899aabbccddeeff")
  (def wide "0x7fffffffffffffffffffffffffffffffffffff01")
  # this CA's issuer hashes, from a request openssl writes
  (t/openssl "ocsp" "-issuer" root-pem "-cert" (path "good.pem") "-reqout" (path "py-hashes.der"))
  (def hashes (ca/parse-ocsp-request (slurp (path "py-hashes.der"))))
  (python-ok "build requests" py-build
             "cert" (path "revoked.pem") root-pem (path "py-req.der") "sha1" nonce
             "cert" (path "good.pem") root-pem (path "py-req2.der") "sha256" "-"
             "cert" (path "good.pem") root-pem (path "py-req3.der") "sha512" nonce
             "hash" (hex (hashes :issuer-name-hash)) (hex (hashes :issuer-key-hash)) wide (path "py-req6.der"))

  # revoked, SHA-1, with a nonce
  (def info (:parse-ocsp-request root (slurp (path "py-req.der"))))
  (t/same (info :serial) (int/s64 2) "python request: serial")
  (t/same (hex (info :nonce)) nonce "python request: nonce octets (RFC 8954)")
  (t/same (info :hash-algorithm) :sha1 "python request: hash algorithm")
  (t/same (info :issuer-match) true "python request: issuer matches this CA")
  (t/same (length (info :requests)) 1 "python request: one request")
  (spit (path "py-resp1.der")
        (ca/create-ocsp-response root info :revoked
                                 {:revocation-time "2024-01-02T03:04:05Z" :revocation-reason :superseded
                                  :this-update 1800000000 :next-update "2027-02-03T04:05:06Z"}))
  # good, SHA-256, no nonce in the request
  (def info2 (ca/parse-ocsp-request (slurp (path "py-req2.der"))))
  (t/same (info2 :nonce) nil "python request without nonce: :nonce nil")
  (t/same (info2 :hash-algorithm) :sha256 "python request: sha256")
  (spit (path "py-resp2.der") (ca/create-ocsp-response root info2 :good {:this-update 1800000000}))
  # SHA-512 with a nonce, :include-nonce false
  (def info3 (ca/parse-ocsp-request (slurp (path "py-req3.der"))))
  (spit (path "py-resp3.der") (ca/create-ocsp-response root info3 :good {:include-nonce false}))
  # unknown, signed by a delegated responder
  (spit (path "py-resp4.der")
        (ca/create-ocsp-response root info :unknown {:responder {:cert (responder :cert) :key (responder :key)}}))
  # a status function answering with tables, for every entry of :requests
  (def first-req (get-in info [:requests 0]))
  (def info5 @{:requests @[(merge first-req {:serial 1}) first-req (merge first-req {:serial "0x0123456789abcdef0123456789"})]
               :nonce (info :nonce)})
  (def calls @[])
  (defn status-of [serial]
    (array/push calls serial)
    (if (= serial (int/s64 2))
      {:status :revoked :revocation-time 1600000000 :revocation-reason :ca-compromise}
      :good))
  (spit (path "py-resp5.der") (ca/create-ocsp-response root info5 status-of))
  (t/same calls @[(int/s64 1) (int/s64 2) "0x0123456789abcdef0123456789"] "status function: called once per request")
  # a serial wider than 64 bits comes back as a hex string and still matches
  (def info6 (:parse-ocsp-request root (slurp (path "py-req6.der"))))
  (t/same (info6 :serial) wide "wide serial: hex string")
  # written in place with its hash set by the module: Janet's own hash of the bytes
  (t/same (hash (info6 :serial)) (hash (string (buffer wide))) "wide serial: Janet's hash of its bytes")
  (t/same (get {wide :found} (info6 :serial)) :found "wide serial: found as a key")
  (t/same (info6 :issuer-match) true "wide serial: issuer match")
  (spit (path "py-resp6.der") (ca/create-ocsp-response root info6 :good))

  (def [f1 f2 f3 f4 f5 f6] (py-read-all ;(map |(path (string "py-resp" $ ".der")) (range 1 7))))
  (t/same (f1 "response_status") "SUCCESSFUL" "python: response status")
  (t/same (f1 "0.status") "REVOKED" "python: revoked")
  (t/same (f1 "0.serial") "2" "python: serial")
  (t/same (f1 "0.hash") "sha1" "python: CertID hash")
  (t/same (f1 "0.name_hash") (hex (info :issuer-name-hash)) "python: issuer name hash repeated")
  (t/same (f1 "0.key_hash") (hex (info :issuer-key-hash)) "python: issuer key hash repeated")
  (t/same (f1 "0.revocation_time") "1704164645" "python: revocation time")
  (t/same (f1 "0.reason") "superseded" "python: revocation reason")
  (t/same (f1 "0.this_update") "1800000000" "python: this update")
  (t/same (f1 "0.next_update") "1801627506" "python: next update")
  (t/same (f1 "nonce") nonce "python: nonce echoed")
  (t/same (f1 "certificates") "1" "python: the CA's own certificate goes along when the CA signs")
  (t/same [(f2 "0.status") (f2 "0.hash") (f2 "nonce") (f2 "0.next_update")] ["GOOD" "sha256" "none" "1800086400"]
          "python: good sha256 response, no nonce, next update one day later")
  (t/same [(f3 "0.status") (f3 "0.hash") (f3 "nonce")] ["GOOD" "sha512" "none"] "python: :include-nonce false")
  (t/same [(f4 "0.status") (f4 "certificates") (f4 "nonce")] ["UNKNOWN" "1" nonce] "python: delegated unknown response")
  (t/ok (not= (f4 "responder_key_hash") (f1 "responder_key_hash")) "python: delegated responder ID is the responder's key")
  (t/same [(f5 "0.status") (f5 "0.serial") (f5 "1.status") (f5 "1.revocation_time") (f5 "1.reason") (f5 "2.status") (f5 "2.serial")]
          ["GOOD" "1" "REVOKED" "1600000000" "ca_compromise" "GOOD" "123456789abcdef0123456789"]
          "python: three single responses from a status function")
  (t/same [(f6 "0.status") (f6 "0.serial")] ["GOOD" "7fffffffffffffffffffffffffffffffffffff01"] "python: wide serial response")

  # unsuccessful responses
  (def kinds [[:malformed-request "MALFORMED_REQUEST"] [:internal-error "INTERNAL_ERROR"] [:try-later "TRY_LATER"]
              [:sig-required "SIG_REQUIRED"] [:unauthorized "UNAUTHORIZED"]])
  (def files (seq [[kind _] :in kinds] (t/write dir (string "err-" kind ".der") (ca/ocsp-error-response kind))))
  (def read (py-read-all ;files))
  (eachp [i [kind name]] kinds
    (t/same ((read i) "response_status") name (string "python reads error response " kind))))

# ---------------------------------------------------------------- API and errors

(defn der-tlv [tag & parts]
  (def body (string ;parts))
  (def n (length body))
  (assert (< n 65536))
  (string (string/from-bytes tag)
          (cond (< n 128) (string/from-bytes n)
                (< n 256) (string/from-bytes 0x81 n)
                (string/from-bytes 0x82 (brshift n 8) (band n 0xff)))
          body))

(defn single-request
  "A Request: a SHA-1 CertID with the serial's INTEGER content given."
  [serial-content]
  (der-tlv 0x30
    (der-tlv 0x30 (der-tlv 0x30 (der-tlv 0x06 "\x2b\x0e\x03\x02\x1a") (der-tlv 0x05 ""))
             (der-tlv 0x04 (string/repeat "a" 20)) (der-tlv 0x04 (string/repeat "b" 20))
             (der-tlv 0x02 serial-content))))

(defn request-of [& requests] (der-tlv 0x30 (der-tlv 0x30 (der-tlv 0x30 ;requests))))

(defn request-with-serial [serial-content] (request-of (single-request serial-content)))

(defn run-api-tests []
  (t/openssl "ocsp" "-issuer" root-pem "-cert" (path "good.pem") "-cert" (path "revoked.pem") "-reqout" (path "req.der"))
  (def req (slurp (path "req.der")))
  (def info (ca/parse-ocsp-request req))
  (t/same (info :serial) (int/s64 1) "parse: serial of the first request")
  (t/same [(type (info :issuer-name-hash)) (length (info :issuer-name-hash)) (length (info :issuer-key-hash))]
          [:buffer 20 20] "parse: SHA-1 issuer hashes as buffers")
  (t/same (length (info :nonce)) 16 "parse: openssl's 16-byte nonce")
  (t/same (map |($ :serial) (info :requests)) @[(int/s64 1) (int/s64 2)] "parse: :requests lists every request")
  (let [[r1 r2] (info :requests)]
    (t/ok (and (= (info :issuer-name-hash) (r1 :issuer-name-hash)) (= (info :issuer-key-hash) (r1 :issuer-key-hash)))
          "parse: the top level's hash buffers are the first request's own (documented)")
    (t/ok (and (deep= (r1 :issuer-key-hash) (r2 :issuer-key-hash)) (not= (r1 :issuer-key-hash) (r2 :issuer-key-hash)))
          "parse: the second request's hashes are buffers of their own"))
  (t/same (info :issuer-match) nil "parse (function form): no :issuer-match")
  (t/same ((:parse-ocsp-request root req) :issuer-match) true "method form: :issuer-match true for this CA")
  (t/same ((:parse-ocsp-request other req) :issuer-match) false "method form: :issuer-match false for another CA")
  (t/same ((ca/parse-ocsp-request root (buffer req)) :serial) (int/s64 1) "parse accepts a buffer")
  # The result's keywords are interned once per VM and kept (rooted) by the
  # module: after collections, and in other threads' VMs (each its own, made
  # and torn down there), the tables still have the same keys and values.
  (def before (ca/parse-ocsp-request root req))
  (repeat 3 (gccollect))
  (def after (ca/parse-ocsp-request root req))
  (t/ok (deep= before after) "parse: the same table after collections")
  (t/same (sort (keys after))
          @[:hash-algorithm :hash-null :issuer-key-hash :issuer-match :issuer-name-hash :nonce :requests :serial]
          "parse: the documented keys after collections")
  (t/same (after :hash-algorithm) :sha1 "parse: the hash algorithm keyword after collections")
  (def from-threads (ev/thread-chan 4))
  (repeat 2
    (ev/do-thread
      (def a (ca/parse-ocsp-request req))
      (gccollect)
      (def b (ca/parse-ocsp-request req))
      (ev/give from-threads [(deep= a b) (sort (keys b)) (b :hash-algorithm) (b :serial) (length (b :requests))])))
  (repeat 2
    (t/same (ev/take from-threads)
            [true @[:hash-algorithm :hash-null :issuer-key-hash :issuer-name-hash :nonce :requests :serial] :sha1 (int/s64 1) 2]
            "parse in another thread's VM: the same keys and values"))
  (t/same (sort (keys (ca/parse-ocsp-request req)))
          @[:hash-algorithm :hash-null :issuer-key-hash :issuer-name-hash :nonce :requests :serial]
          "parse: the documented keys after other VMs came and went")

  # the CertID and nonce come back byte for byte, from a table or a struct
  (defn check-resp [resp what]
    (spit (path "api-resp.der") resp)
    (def [_ out] (t/openssl "ocsp" "-respin" (path "api-resp.der") "-reqin" (path "req.der") "-issuer" root-pem
                            "-CAfile" root-pem "-resp_text"))
    (t/ok (has? out "Response verify OK") (string what ": " out))
    out)
  (def out (check-resp (ca/create-ocsp-response root info |(ca/get-status root $)) "table request-info"))
  (check-resp (:create-ocsp-response root (table/to-struct info) :good) "struct request-info, method form")
  (def out (check-resp (ca/create-ocsp-response root info :good {:responder {:cert (responder :cert) :key (responder :key)}})
                       "delegated responder"))
  (t/ok (has? out "CN=OCSP Responder") "delegated responder: certificate included")
  # a status function that collects garbage while the response is built
  (def out (check-resp (ca/create-ocsp-response root info
                                                (fn [s] (gccollect) (def junk (seq [i :range [0 2000]] @{:i i}))
                                                  (gccollect) (if (= s (int/s64 2)) :revoked :good)))
                       "status function that runs the GC"))
  (t/ok (has? out "Cert Status: good" "Cert Status: revoked") "status function that runs the GC: statuses")
  # a hand-made request-info: issuer hashes default to this CA's
  (spit (path "api-resp.der") (ca/create-ocsp-response root {:serial 1} :good))
  (def [_ out] (t/openssl "ocsp" "-respin" (path "api-resp.der") "-issuer" root-pem "-cert" (path "good.pem")
                          "-CAfile" root-pem "-no_nonce"))
  (t/ok (has? out "Response verify OK" "good.pem: good") (string "request-info {:serial 1}: " out))
  # another CA's request: :unknown, and the status function is never called
  (var called false)
  (spit (path "api-resp.der") (ca/create-ocsp-response other info (fn [_] (set called true) :good)))
  (def [_ out] (t/openssl "ocsp" "-respin" (path "api-resp.der") "-resp_text" "-noverify"))
  (t/ok (and (not called) (has? out "Cert Status: unknown") (not (string/find "Cert Status: good" out)))
        (string "another issuer's requests get :unknown: " out))

  # get-status from the revocation list (restored with ca/create, and ca/revoke)
  (def restored (ca/create (ca/get-cert root) (ca/get-key root)
                           {:serial 100 :revoked [{:serial 5 :reason :key-compromise :date 1700000000}]}))
  (t/same (ca/get-status restored 5) @{:status :revoked :revocation-time 1700000000 :revocation-reason :key-compromise}
          "get-status: revoked from :revoked")
  (t/same (:get-status restored 6) @{:status :good} "get-status: good (method form)")
  (t/same (ca/get-status restored "0x05") (ca/get-status restored (int/s64 5)) "get-status: hex and int/s64 serials")
  (def [revoke-ok revoke-err] (protect (ca/revoke restored 7 :superseded)))
  (t/ok revoke-ok (string "ca/revoke on a restored CA: " revoke-err))
  (t/same (get (ca/get-status restored 7) :revocation-reason) :superseded "get-status after ca/revoke")

  # error responses
  (each [kind code] [[:malformed-request 1] [:internal-error 2] [:try-later 3] [:sig-required 5] [:unauthorized 6]]
    (def der (ca/ocsp-error-response kind))
    (t/same der (buffer/from-bytes 0x30 3 0x0a 1 code) (string "error response " kind)))
  (t/same (:ocsp-error-response root "try-later") (ca/ocsp-error-response :try-later) "error response: method form, string kind")

  # bad requests
  (t/raises |(ca/parse-ocsp-request "") "empty request" "[CA:PARSE]")
  (each cut [1 2 10 (div (length req) 2) (- (length req) 1)]
    (t/raises |(ca/parse-ocsp-request (string/slice req 0 cut)) (string "request truncated to " cut) "[CA:PARSE]"))
  (t/raises |(ca/parse-ocsp-request (string req "\0")) "trailing data" "[CA:PARSE]")
  (t/raises |(ca/parse-ocsp-request "hello, this is not DER") "non-DER" "[CA:PARSE]")
  (t/raises |(ca/parse-ocsp-request (os/cryptorand 200)) "random bytes" "[CA:")
  (t/raises |(ca/parse-ocsp-request nil) "nil" "[CA:PARAM]")
  (t/raises |(ca/parse-ocsp-request 42) "a number" "[CA:PARAM]" "der")
  (t/raises |(ca/parse-ocsp-request (string/repeat "\x30" 70000)) "oversized request" "[CA:RESOURCE]")
  (t/raises |(ca/parse-ocsp-request (ca/get-cert root)) "a certificate PEM" "[CA:PARSE]")
  (t/raises |(ca/parse-ocsp-request (request-with-serial "\0")) "serial zero" "[CA:PARSE]" "serial")
  (t/raises |(ca/parse-ocsp-request (request-with-serial "\xff")) "negative serial" "[CA:PARSE]" "serial")
  (t/raises |(ca/parse-ocsp-request (request-with-serial (string "\x01" (string/repeat "\0" 20)))) "21-octet serial"
            "[CA:PARSE]" "20 octets")
  (t/ok (= ((ca/parse-ocsp-request (request-with-serial "\x05")) :serial) (int/s64 5)) "hand-made DER parses")
  # Each single request becomes its table as it is read: a bad later one
  # still fails the whole parse, with every form of the call, and what was
  # made for the earlier ones is only garbage.
  (def bad-second (request-of (single-request "\x05") (single-request "\0")))
  (t/raises |(ca/parse-ocsp-request bad-second) "request 2 of 2 bad" "[CA:PARSE]" "OCSP request 2" "serial")
  (t/raises |(:parse-ocsp-request root bad-second) "request 2 of 2 bad, method form" "[CA:PARSE]" "OCSP request 2")
  (def three (ca/parse-ocsp-request (request-of ;(map |(single-request (string/from-bytes $)) [1 2 3]))))
  (gccollect)
  (t/same (map |($ :serial) (three :requests)) @[(int/s64 1) (int/s64 2) (int/s64 3)] "three requests in order")
  (t/same (three :serial) (int/s64 1) "three requests: the first at the top level")
  (def many (seq [i :range [0 513]] (single-request (string/from-bytes (inc (div i 256)) (% i 256)))))
  (t/same (length ((ca/parse-ocsp-request (request-of ;(slice many 0 512))) :requests)) 512 "512 requests parse")
  (t/raises |(ca/parse-ocsp-request (request-of ;many)) "513 requests" "[CA:RESOURCE]" "more than 512")
  (t/raises |(:parse-ocsp-request root) "method form without der" "[CA:PARAM]" "der")
  (t/raises |(ca/parse-ocsp-request "x" req) "two arguments, first not a CA" "[CA:PARAM]")

  # bad request-info and status
  (def create ca/create-ocsp-response)
  (t/raises |(create root @{:issuer-name-hash (info :issuer-name-hash)} :good) "missing :serial" "[CA:PARAM]" ":serial")
  (t/raises |(create root {:serial "abc"} :good) "bad :serial" "[CA:PARAM]" ":serial")
  (t/raises |(create root {:serial 0} :good) "zero :serial" "[CA:PARAM]" ":serial")
  (t/raises |(create root {:serial 1 :issuer-name-hash 5 :issuer-key-hash "x"} :good) "number hash" "[CA:PARAM]" ":issuer-name-hash")
  (t/raises |(create root {:serial 1 :issuer-name-hash "x"} :good) "one hash only" "[CA:PARAM]" ":issuer-key-hash")
  (t/raises |(create root {:serial 1 :nonce 7} :good) "number nonce" "[CA:PARAM]" ":nonce")
  (t/raises |(create root {:serial 1 :hash-algorithm :md5} :good) "unknown hash" "[CA:PARAM]" ":hash-algorithm")
  (t/raises |(create root {:serial 1 :hash-null "yes"} :good) "string :hash-null" "[CA:PARAM]" ":hash-null")
  (t/raises |(create root {:serial 1 :requests "x"} :good) "string :requests" "[CA:PARAM]" ":requests")
  (t/raises |(create root {:serial 1 :requests []} :good) "empty :requests" "[CA:PARAM]" ":requests")
  (t/raises |(create root {:serial 1 :requests [5]} :good) "number in :requests" "[CA:PARAM]" ":requests item 1")
  (t/raises |(create root {:requests [{:serial 1} {:hash-algorithm :sha1}]} :good) "missing :serial in :requests"
            "[CA:PARAM]" ":requests item 2" ":serial")
  (t/raises |(create root {:serial 1 :seriall 2} :good) "misspelt key" "[CA:PARAM]" ":seriall")
  (t/raises |(create root "info" :good) "string request-info" "[CA:PARAM]" "request-info")
  (t/raises |(create root info :bogus) "unknown status" "[CA:PARAM]" "bogus" ":good, :revoked, :unknown")
  (t/raises |(create root info 42) "number status" "[CA:PARAM]" "status")
  (t/raises |(create root info (fn [s] :maybe)) "status function: unknown keyword" "[CA:PARAM]" "maybe" "status function")
  (t/raises |(create root info (fn [s] 42)) "status function: number" "[CA:PARAM]" "number")
  (t/raises |(create root info (fn [s] (error "database down"))) "status function raises" "[CA:PARAM]" "database down")
  (t/raises |(create root info (fn [] :good)) "status function of no arguments" "[CA:PARAM]" "one argument")
  (t/raises |(create root info (fn [s] {:status :revoked :revocation-time "soon"})) "status function: bad time"
            "[CA:" ":revocation-time")
  (t/raises |(create root info (fn [s] {:revocation-reason :superseded})) "status function: table without :status"
            "[CA:PARAM]" ":status")
  (t/raises |(create root info :revoked {:revocation-reason :nope}) "unknown reason" "[CA:PARAM]" ":revocation-reason" "nope")
  (t/raises |(create root info :revoked {:revocation-reason :remove-from-crl}) "remove-from-crl" "[CA:PARAM]")
  (t/raises |(create root info :good {:this-update "yesterday"}) "bad :this-update" "[CA:" ":this-update")
  (t/raises |(create root info :good {:this-update "2030-13-01T00:00:00Z"}) "month 13" "[CA:" ":this-update")
  (t/raises |(create root info :good {:next-update @{}}) "table :next-update" "[CA:PARAM]" ":next-update")
  (t/raises |(create root info :revoked {:revocation-time 1.5}) "fractional :revocation-time" "[CA:PARAM]" ":revocation-time")
  (t/raises |(create root info :good {:this-update 1800000000 :next-update 1700000000}) "next before this"
            "[CA:PARAM]" ":next-update")
  (t/raises |(create root info :good {:include-nonce "yes"}) "string :include-nonce" "[CA:PARAM]" ":include-nonce")
  (t/raises |(create root info :good {:nonce true}) "unknown option" "[CA:PARAM]" ":nonce")
  (t/raises |(create root info :good {:responder {:cert (other-responder :cert) :key (other-responder :key)}})
            "responder issued by another CA" "[CA:VERIFY]" "not issued by this CA")
  (t/raises |(create root info :good {:responder {:cert (good :cert) :key (good :key)}})
            "responder without OCSPSigning" "[CA:PARAM]" "OCSPSigning")
  (t/raises |(create root info :good {:responder {:cert (responder :cert) :key (good :key)}})
            "responder key mismatch" "[CA:VERIFY]" "does not match")
  (t/raises |(create root info :good {:responder {:cert (responder :cert)}}) "responder without key" "[CA:PARAM]" ":key")
  (t/raises |(create root info :good {:responder {:cert "garbage" :key (responder :key)}}) "responder cert garbage"
            "[CA:PARSE]" ":responder")
  (t/raises |(create root info :good {:responder "x"}) "string responder" "[CA:PARAM]" ":responder")
  (t/raises |(create "root" info :good) "not a CA" "[CA:PARAM]" "ca")
  (t/raises |(create root info) "two arguments" "[CA:PARAM]")
  (t/raises |(ca/get-status root 0) "get-status serial 0" "[CA:PARAM]" "serial")
  (t/raises |(ca/get-status root "zz") "get-status bad serial" "[CA:PARAM]" "serial")
  (t/raises |(ca/get-status "root" 1) "get-status not a CA" "[CA:PARAM]")
  (t/raises |(ca/ocsp-error-response :successful) "successful is not an error" "[CA:PARAM]" ":malformed-request")
  (t/raises |(ca/ocsp-error-response :nope) "unknown error kind" "[CA:PARAM]" "nope")
  (t/raises |(ca/ocsp-error-response 5) "number error kind" "[CA:PARAM]")
  # the CA still works after all of that
  (t/ok (string/has-prefix? "-----BEGIN CERTIFICATE-----" ((ca/issue root {:common-name "after"}) :cert))
        "the CA still issues after the errors"))

# ---------------------------------------------------------------- run

(def started (os/clock))
(each [name f] [["api" run-api-tests] ["python" run-python-tests] ["http" run-http-tests]]
  (def t0 (os/clock))
  (def [ok err] (protect (f)))
  (unless ok (t/ok false (string name " tests raised: " err)))
  (printf "ocsp %s: %.1fs" name (- (os/clock) t0)))
(stop-all)
(t/run "rm" "-rf" dir)
(printf "ocsp: %.1fs" (- (os/clock) started))
(t/done "ocsp")
