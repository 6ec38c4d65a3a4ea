# ca/issue-async (issue 12): the key is generated on a thread of the event
# loop while other fibers run. Checked by behaviour, never by time: its
# certificates are the ones ca/issue makes (Python cryptography and openssl
# judge both); bad input fails as ca/issue fails, before the call waits;
# concurrent calls get distinct serials; other fibers run during the call (a
# timer ticks at least once while an RSA-4096 key is made; a fiber spawned
# just before the call runs before it returns, which never happens around
# ca/issue); a fiber cancelled while it waits uses no serial; where the
# await cannot reach the event loop the call is a [CA:CONFIG] error.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "event-loop"))
(var- file-count 0)
(defn- file [content]
  (t/write dir (string "f" (++ file-count) ".pem") content))

(def- facts-py ```
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, ed25519
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
k = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
spki = lambda pk: pk.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
pk = c.public_key()
if isinstance(pk, ec.EllipticCurvePublicKey): key = "ec-" + pk.curve.name
elif isinstance(pk, rsa.RSAPublicKey): key = "rsa-%d" % pk.key_size
elif isinstance(pk, ed25519.Ed25519PublicKey): key = "ed25519"
else: key = type(pk).__name__
exts = []
for e in c.extensions:
    if isinstance(e.value, x509.SubjectKeyIdentifier):
        v = "ski of the key" if e.value == x509.SubjectKeyIdentifier.from_public_key(pk) else "wrong ski"
    else:
        v = repr(e.value)
    exts.append([e.oid.dotted_string, e.critical, v])
emit({"version": c.version.name, "subject": c.subject.rfc4514_string(), "issuer": c.issuer.rfc4514_string(),
      "signature": c.signature_algorithm_oid.dotted_string, "key": key,
      "seconds-valid": int((c.not_valid_after_utc - c.not_valid_before_utc).total_seconds()),
      "extensions": exts, "key-matches": spki(k.public_key()) == spki(pk)})
```)

(defn- facts
  "What Python cryptography reads from an issued {:cert :key}: everything but
  the serial, the validity's start and the key itself."
  [issued]
  (t/python-data facts-py (file (issued :cert)) (file (issued :key))))

(defn- serial-of [pem]
  (def [code out] (t/openssl "x509" "-noout" "-serial" "-in" (file pem)))
  (when (zero? code) (scan-number (string/trim (string/slice out (length "serial="))) 16)))

(defn- verifies? [ca-pem pem]
  (def [code out] (t/openssl "verify" "-x509_strict" "-CAfile" (file ca-pem) (file pem)))
  (or (zero? code) (do (eprint out) false)))

(defn- probe
  "Calls (f); returns [result other-fibers-ran?]: whether a fiber spawned just
  before the call ran before the call returned or raised. It runs only when
  the caller waits on the event loop, so this is a count of scheduling, not a
  measure of time. result is [:ok value] or [:error message]."
  [f]
  (var ran false)
  (ev/spawn (set ran true))
  (def result (try [:ok (f)] ([e] [:error (string e)])))
  [result ran])

(def root (ca/generate {:common-name "Event Loop Root"}))
(def root-pem (ca/get-cert root))

# --- the same certificates as ca/issue ------------------------------------------------

(def option-sets
  [{:common-name "rich.example" :organization "Rich Org" :country "DE" :email "ops@rich.example"
    :san ["DNS:rich.example" "IP:10.0.0.1" "URI:https://rich.example/x"] :days-valid 30
    :extended-key-usage [:server-auth :client-auth] :key-usage "digitalSignature,keyAgreement"
    :ocsp-must-staple true :certificate-policies ["1.3.6.1.4.1.99999.1"]
    :crl-url "http://crl.example/root.crl" :ocsp-url "http://ocsp.example/"}
   {:common-name "rsa.example" :san ["DNS:rsa.example"] :key-type :rsa-2048}
   {:common-name "ed.example" :key-type :ed25519 :days-valid 7}
   {:common-name "responder.example" :key-type :ec-p384 :extended-key-usage "OCSPSigning"}])

(each opts option-sets
  (def what (string "ca/issue-async " (opts :common-name)))
  (def sync (ca/issue root opts))
  (def [[status async] waited] (probe |(ca/issue-async root opts)))
  (when (t/ok (= status :ok) (string/format "%s succeeds: %q" what async))
    (t/ok waited (string what ": other fibers run while it waits"))
    (t/same (keys async) (keys sync) (string what " returns the table ca/issue returns"))
    (def want (facts sync))
    (def got (facts async))
    (t/ok (and want (want :key-matches)) (string "ca/issue " (opts :common-name) ": the key is the certificate's"))
    (t/same got want (string what ": the certificate says what ca/issue's says"))
    (t/ok (verifies? root-pem (async :cert)) (string what ": openssl verifies the certificate"))
    (t/same (serial-of (async :cert)) (+ 1 (serial-of (sync :cert)))
            (string what ": the serial is the counter's next"))))

(def [_ sync-waited] (probe |(ca/issue root {:common-name "sync.example" :key-type :rsa-2048})))
(t/ok (not sync-waited) "ca/issue stays synchronous: no other fiber runs during it")

(let [issued (:issue-async root {:common-name "method.example"})]
  (t/ok (verifies? root-pem (issued :cert)) "the method form (:issue-async ca opts) issues a certificate"))

# --- bad input fails as in ca/issue, before any wait -----------------------------------

(def constrained (ca/generate {:common-name "Constrained Root" :name-constraints {:permitted ["DNS:example.com"]}}))
(def bad-calls
  [["no :common-name" [root {}]]
   ["an unknown :key-type" [root {:common-name "x" :key-type :rsa-1024}]]
   ["zero :days-valid" [root {:common-name "x" :days-valid 0}]]
   ["a validity past the CA's" [root {:common-name "x" :days-valid 100000}]]
   ["a CA key usage" [root {:common-name "x" :key-usage "keyCertSign"}]]
   ["a key usage the key cannot have" [root {:common-name "x" :key-usage "keyEncipherment"}]]
   ["a bad SAN" [root {:common-name "x" :san ["DNS:bad..example"]}]]
   ["an unknown option" [root {:common-name "x" :colour "red"}]]
   ["a name outside the CA's constraints" [constrained {:common-name "x" :san ["DNS:other.org"]}]]
   ["a string for the CA" ["not a ca" {:common-name "x"}]]
   ["no arguments" []]
   ["three arguments" [root {:common-name "x"} 3]]])

(each [what args] bad-calls
  (def before (ca/get-serial root))
  (def [[status message] waited] (probe |(ca/issue-async ;args)))
  (def [_ sync-message] (try [:ok (ca/issue ;args)] ([e] [:error (string e)])))
  (t/ok (and (= status :error) (string/has-prefix? "[CA:" message))
        (string/format "ca/issue-async with %s raises a [CA:...] error: %q" what message))
  (t/ok (not waited) (string "ca/issue-async with " what " fails before waiting on the event loop"))
  (t/same (when (= status :error) (string/replace "ca/issue-async" "ca/issue" message)) sync-message
          (string "ca/issue-async with " what " fails as ca/issue does"))
  (t/same (ca/get-serial root) before (string "ca/issue-async with " what " uses no serial")))

# --- concurrent calls --------------------------------------------------------------------

(def tracked (ca/generate {:common-name "Concurrent Root" :track-issued true}))
(def tracked-pem (ca/get-cert tracked))
(def first-serial (int/to-number (ca/get-serial tracked)))
(def kinds [:rsa-2048 :ec-p256 :rsa-2048 :ed25519 :ec-p384 :rsa-2048 :ec-p521 :ec-p256])
(def results (ev/chan (length kinds)))
# Each fiber gives what its call did, [true leaf] or [false error]: a call
# that raises still gives, so the takes below never wait for ever.
(eachp [i kind] kinds
  (ev/spawn (ev/give results (protect (:issue-async tracked {:common-name (string "c" i ".example") :key-type kind})))))
(def sync-leaf (ca/issue tracked {:common-name "between.example"}))
(def outcomes (seq [_ :in kinds] (ev/take results)))
(t/same (map last (filter |(not (first $)) outcomes)) @[]
        (string/format "all %d concurrent ca/issue-async calls return a certificate" (length kinds)))
(def leaves [sync-leaf ;(map last (filter first outcomes))])
(def serials (map |(serial-of ($ :cert)) leaves))
(t/same (sorted serials) (range first-serial (+ first-serial (length leaves)))
        (string/format "%d concurrent calls (and one ca/issue among them) get distinct consecutive serials"
                       (length leaves)))
(t/same (int/to-number (ca/get-serial tracked)) (+ first-serial (length leaves)) "the counter advanced once per call")
(t/same (sorted (ca/get-issued tracked)) (sorted (map |($ :cert) leaves))
        "the CA tracked each concurrent certificate")
(t/ok (all |(verifies? tracked-pem ($ :cert)) leaves) "openssl verifies every concurrent certificate")

# --- the event loop runs during the call ---------------------------------------------------

# A timer fiber ticks and collects garbage while an RSA-4096 key is made
# (seconds): at least one tick must land inside the call.
# It also counts this process's threads: one call makes its key on one
# thread, beside the interpreter's (ca/issue would search the two primes on
# two).
(var ticks 0)
(var ticking true)
(def thread-counts @{})
(defn- threads [] (length (os/dir "/proc/self/task")))
# The worker threads of the calls above may still be exiting (listed in
# /proc/self/task until they are gone): wait for them, at most 5 s, so that
# only this call's thread is counted beside the interpreter's.
(var waits 0)
(while (and (> (threads) 1) (< waits 500))
  (ev/sleep 0.01)
  (++ waits))
(t/same (threads) 1 "the earlier calls' worker threads have exited")
(ev/spawn (while ticking (ev/sleep 0.001) (gccollect) (put thread-counts (threads) true) (++ ticks)))
(def ticks-before ticks)
(def big (ca/issue-async root {:common-name "big.example" :key-type :rsa-4096}))
(def ticks-during (- ticks ticks-before))
(set ticking false)
(t/ok (>= ticks-during 1) (string/format "a timer fiber ticked during an RSA-4096 ca/issue-async (%d ticks)" ticks-during))
(t/same (max ;(keys thread-counts)) 2 "the RSA-4096 key took one thread beside the interpreter's")
(t/same (get (facts big) :key) "rsa-4096" "the RSA-4096 certificate is for an RSA-4096 key")
(t/ok (verifies? root-pem (big :cert)) "openssl verifies the RSA-4096 certificate")
(let [[code out] (t/openssl "pkey" "-check" "-noout" "-in" (file (big :key)))]
  (t/ok (zero? code) (string "openssl pkey -check accepts the RSA-4096 key: " out)))

# --- fibers inside fibers -----------------------------------------------------------------

(let [issued (try (ca/issue-async root {:common-name "in-try.example"}) ([e] e))]
  (t/ok (and (table? issued) (verifies? root-pem (issued :cert))) "ca/issue-async works inside try"))
(let [f (fiber/new (fn [] (ca/issue-async root {:common-name "nested.example"})) :e)
      issued (resume f)]
  (t/ok (and (table? issued) (verifies? root-pem (issued :cert)))
        "ca/issue-async works in a fiber resumed by the task (fiber/new :e)"))
(t/raises |(ca/issue-async root {:common-name "raised.example" :key-type :rsa-2048 :days-valid 0})
          "an error of ca/issue-async is caught by try" "[CA:PARAM]" ":days-valid")

# --- where the await cannot reach the event loop: [CA:CONFIG], nothing done -------------------

(each mask [:a :u :w]
  (def before (ca/get-serial root))
  (def f (fiber/new (fn [] (ca/issue-async root {:common-name "masked.example"})) mask))
  (def value (try (resume f) ([e] e)))
  (t/ok (and (string? value) (string/has-prefix? "[CA:CONFIG] ca/issue-async cannot wait on the event loop" value))
        (string/format "in a fiber with mask %s, ca/issue-async is [CA:CONFIG]: %q" mask value))
  (t/same (ca/get-serial root) before (string/format "the refused call (mask %s) uses no serial" mask)))

(t/openssl "ocsp" "-issuer" (file root-pem) "-serial" "5" "-reqout" (string dir "/req.der"))
(def request (ca/parse-ocsp-request (slurp (string dir "/req.der"))))
(let [before (ca/get-serial root)
      seen @{}
      status (fn [_]
               (try (ca/issue-async root {:common-name "status.example"}) ([e] (put seen :error e)))
               :good)]
  (ca/create-ocsp-response root request status {})
  (t/ok (string/has-prefix? "[CA:CONFIG] ca/issue-async cannot wait on the event loop from Janet code that C code calls"
                            (string (seen :error)))
        (string/format "ca/issue-async in an OCSP status function (Janet code C calls) is [CA:CONFIG]: %q" (seen :error)))
  (t/same (ca/get-serial root) before "the refused call in a status function uses no serial"))

# --- a fiber cancelled while it waits uses no serial -------------------------------------------

# In a child process, so that its exit (the event loop waits for every job)
# marks the moment the cancelled job has come back; the CA lives in a store,
# which the child writes through and this process then reads.
(def store-path (string dir "/cancel.db"))
(def child-script (t/write dir "cancel.janet" ```
(import jsec/ca)
(def path (last (dyn :args)))
(def root (ca/generate {:common-name "Cancel Root"}))
(ca/store-save (ca/open-store path) "root" root)
(def victim (ev/spawn (ca/issue-async root {:common-name "cancelled.example" :key-type :rsa-2048})))
(ev/sleep 0) # the victim starts its wait
(ev/cancel victim "cancelled")
(def kept (ca/issue-async root {:common-name "kept.example"}))
(print "kept " (ca/get-serial root))
```))
(def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil (t/janet-exe) child-script store-path))
(t/ok (and (zero? code) (string/find "kept 2" out)) (string "the child issues after cancelling a waiting fiber: " out))
(let [store (ca/open-store store-path {:read-only true})
      saved (ca/store-load store "root")
      found (ca/store-find store "root")]
  (t/same (int/to-number (ca/get-serial saved)) 2 "after the cancelled job came back, the stored counter has used one serial")
  (t/same (map |($ :subject) found) @["CN=kept.example"] "the store holds only the certificate of the fiber that waited"))

(os/execute ["rm" "-rf" dir] :p)
(t/done "event-loop")
