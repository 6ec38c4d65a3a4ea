# RSA keys the module generates (OpenSSL's own RSA_generate_key_ex: SP 800-56B
# generation and its pairwise test; issue 20), from ca/issue, ca/issue-async,
# ca/generate and ca/generate-intermediate, judged by `openssl pkey -check`
# and by Python cryptography, which loads each key with its own validation and
# checks the FIPS 186-5 A.1.3 conditions on p, q and d. And no prime search of
# our own is left in src/.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "rsa-keys"))

(def judge-py ```
import sys, math
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives import hashes
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
cert = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
nlen = int(sys.argv[3])
pn = key.private_numbers()
p, q, d, e, n = pn.p, pn.q, pn.d, pn.public_numbers.e, pn.public_numbers.n
half = nlen // 2
lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
sqrt2_bound = math.isqrt(2 ** (2 * half - 1))  # floor(sqrt(2) * 2^(half-1))
sig = key.sign(b"jsec-ca", padding.PKCS1v15(), hashes.SHA256())
cert.public_key().verify(sig, b"jsec-ca", padding.PKCS1v15(), hashes.SHA256())
emit({"rsa": isinstance(key, rsa.RSAPrivateKey),
      "nlen": n.bit_length() == nlen and key.key_size == nlen,
      "n": p * q == n,
      "e": e == 65537,
      "p-q-size": min(p, q) > sqrt2_bound and p.bit_length() == half and q.bit_length() == half,
      "gcd": math.gcd(e, p - 1) == 1 and math.gcd(e, q - 1) == 1,
      "p-q-apart": abs(p - q) > 2 ** (half - 100),
      "d": (e * d) % lam == 1 and 2 ** half < d < lam,
      "crt": pn.dmp1 == d % (p - 1) and pn.dmq1 == d % (q - 1) and (pn.iqmp * q) % p == 1,
      "cert-key": cert.public_key().public_numbers() == key.public_key().public_numbers()})
```)

(def facts [:rsa :nlen :n :e :p-q-size :gcd :p-q-apart :d :crt :cert-key])

(defn- judge
  "Checks one key (PKCS#8 PEM) and the certificate that carries its public key."
  [what key-pem cert-pem bits]
  (def key-file (t/write dir "key.pem" key-pem))
  (def cert-file (t/write dir "cert.pem" cert-pem))
  (def [code out] (t/openssl "pkey" "-check" "-noout" "-in" key-file))
  (t/same code 0 (string what ": openssl pkey -check accepts the key: " out))
  (def seen (t/python-data judge-py key-file cert-file (string bits)))
  (t/ok seen (string what ": Python cryptography loads the key and verifies its signature with the certificate"))
  (when seen
    (each fact facts
      (t/ok (seen fact) (string/format "%s: %s" what fact)))))

(def root (ca/generate {:common-name "RSA Keys Root"}))
(each [kt bits n] [[:rsa-2048 2048 8] [:rsa 2048 2] [:rsa-3072 3072 3] [:rsa-4096 4096 1]]
  (for i 0 n
    (def leaf (:issue root {:common-name "rsa.example" :key-type kt}))
    (judge (string/format ":issue %s #%d" kt i) (leaf :key) (leaf :cert) bits)))

# ca/issue-async: the key made on a thread of the event loop, by the same call.
(each [kt bits] [[:rsa-2048 2048] [:rsa-3072 3072] [:rsa-4096 4096]]
  (def leaf (:issue-async root {:common-name "async-rsa.example" :key-type kt}))
  (judge (string/format ":issue-async %s" kt) (leaf :key) (leaf :cert) bits))

# CA keys of every size, roots and an intermediate.
(each [kt bits] [[:rsa-3072 3072] [:rsa-4096 4096]]
  (def c (ca/generate {:common-name (string "RSA " bits " Root") :key-type kt}))
  (judge (string/format "ca/generate %s" kt) (ca/get-key c) (ca/get-cert c) bits))
(def rsa-inter (ca/generate-intermediate root {:common-name "RSA Intermediate" :key-type :rsa-3072}))
(judge "ca/generate-intermediate :rsa-3072" (ca/get-key rsa-inter) (ca/get-cert rsa-inter) 3072)

# No key generation of our own: the words of a prime search appear nowhere in src/.
(def prime-search-words ["BN_generate_prime" "generate_prime" "is_prime" "miller" "Miller" "sieve" "prime_checks"
                         "Rsa::from_private_components"])
(defn- rust-files [dir]
  (mapcat |(let [p (string dir "/" $)]
             (case (os/stat p :mode)
               :directory (rust-files p)
               :file (if (string/has-suffix? ".rs" p) [p] [])
               []))
          (os/dir dir)))
(def sources (rust-files "src"))
(t/ok (> (length sources) 20) (string "the source files are found: " (length sources)))
(each f sources
  (def text (slurp f))
  (each w prime-search-words
    (t/ok (not (string/find w text)) (string f " holds no prime search (" w ")"))))

# A CA whose own key is one: it signs with it too.
(def rsa-root (ca/generate {:common-name "RSA Root" :key-type :rsa-2048}))
(judge "an RSA CA's key" (ca/get-key rsa-root) (ca/get-cert rsa-root) 2048)
(def leaf (:issue rsa-root {:common-name "under-rsa.example"}))
(def chain-file (t/write dir "rsa-root.pem" (ca/get-cert rsa-root)))
(def [vcode vout] (t/openssl "verify" "-x509_strict" "-CAfile" chain-file (t/write dir "leaf.pem" (leaf :cert))))
(t/same vcode 0 (string "openssl verify accepts a leaf the RSA CA signed: " vout))

(t/run "rm" "-rf" dir)
(t/done "rsa-keys")
