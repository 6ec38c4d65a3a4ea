# PKCS#12 export (ca/pkcs12), judged by the openssl CLI and Python cryptography.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "pkcs12"))
(defn file [name content] (t/write dir name content))

(def root (ca/generate {:common-name "P12 Test Root" :organization "jsec"}))
(def inter (ca/generate-intermediate root {:common-name "P12 Test Intermediate" :organization "jsec"}))
(def leaf (:issue inter {:common-name "p12.example" :san ["DNS:p12.example"]}))
(def root-pem (ca/get-cert root))
(def inter-pem (ca/get-cert inter))
(def leaf-pem (file "leaf.pem" (leaf :cert)))
(def inter-file (file "inter.pem" inter-pem))
(def root-file (file "root.pem" root-pem))

# --- independent judges ----------------------------------------------------------

(def inspect ```
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
data = open(sys.argv[1], "rb").read()
password = os.fsencode(sys.argv[2])
der = lambda c: c.public_bytes(serialization.Encoding.DER).hex()
spki = lambda k: k.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo).hex()
try:
    key, cert, extra = pkcs12.load_key_and_certificates(data, password)
except ValueError as e:
    emit({"loaded": False, "error": str(e)})
    sys.exit(0)
full = pkcs12.load_pkcs12(data, password)
name = full.cert.friendly_name
emit({"loaded": True, "cert": der(cert), "key-matches": spki(key.public_key()) == spki(cert.public_key()),
      "chain": [der(c) for c in extra],
      "name": name.decode("utf-8") if name is not None else None})
```)

(def python-inspect (string "import os\n" inspect))

(defn cert-der-hex
  "The DER of a PEM certificate as hex, by openssl x509."
  [pem]
  (def path (file "hex-in.pem" pem))
  (def der-path (string dir "/hex-out.der"))
  (t/openssl "x509" "-in" path "-outform" "DER" "-out" der-path)
  (string/ascii-lower (string/join (map |(string/format "%02x" $) (slurp der-path)))))

(defn python-view [p12-path password]
  (t/python-data python-inspect p12-path password))

(defn openssl-info
  "openssl pkcs12 -info on a file: [exit-code output]."
  [path password & extra]
  (t/openssl "pkcs12" "-info" "-in" path "-passin" (string "pass:" password) "-nodes" ;extra))

(defn openssl-extract
  "Runs openssl pkcs12 with `flags` (e.g. -clcerts -nokeys) into a file; its text, or nil."
  [path password name & flags]
  (def out (string dir "/" name))
  (def [code _] (t/openssl "pkcs12" "-in" path "-passin" (string "pass:" password) "-out" out ;flags))
  (when (zero? code) (slurp out)))

(defn public-key-of
  "The SubjectPublicKeyInfo PEM openssl derives from a certificate or a private key file."
  [kind path]
  (def out (string dir "/pub-" kind ".pem"))
  (if (= kind "cert")
    (t/openssl "x509" "-in" path "-noout" "-pubkey" "-out" out)
    (t/openssl "pkey" "-in" path "-pubout" "-out" out))
  (slurp out))

(def leaf-hex (cert-der-hex (leaf :cert)))
(def inter-hex (cert-der-hex inter-pem))
(def root-hex (cert-der-hex root-pem))

# --- default: AES-256-CBC with PBKDF2/HMAC-SHA256, SHA-256 MAC, with a chain -----

(def modern (ca/pkcs12 (leaf :cert) (leaf :key)
                       {:password "correct horse" :chain [inter-pem root-pem] :name "p12.example key"}))
(t/ok (buffer? modern) "ca/pkcs12 returns a buffer")
(def modern-path (file "modern.p12" modern))

(let [[code out] (openssl-info modern-path "correct horse")]
  (t/ok (zero? code) (string "openssl pkcs12 -info reads the default file: " out))
  (t/ok (string/find "MAC: sha256" out) (string "the MAC is SHA-256: " out))
  (t/ok (string/find "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" out) (string "the key is AES-256-CBC under PBES2: " out))
  (t/ok (string/find "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" out)
        (string "the certificates are AES-256-CBC under PBES2: " out))
  (t/ok (string/find "PRF hmacWithSHA256" out) (string "PBKDF2 uses HMAC-SHA256: " out))
  # OWASP's count for PBKDF2-HMAC-SHA256, for the key, the certificates and the MAC (OpenSSL's default is 2048).
  (t/same (length (string/find-all "Iteration 600000" out)) 3
          (string "the key, the certificates and the MAC take 600,000 iterations: " out))
  (t/ok (not (string/find "SHA1" out)) (string "nothing in the default file uses SHA-1: " out))
  (t/ok (string/find "friendlyName: p12.example key" out) (string "openssl shows the friendly name: " out)))

# The pieces openssl extracts: the same certificate, a key that matches it, and a chain that verifies it.
(def got-cert (file "got-cert.pem" (openssl-extract modern-path "correct horse" "cert.pem" "-clcerts" "-nokeys")))
(def got-key (file "got-key.pem" (openssl-extract modern-path "correct horse" "key.pem" "-nocerts" "-nodes")))
(def got-cas (file "got-cas.pem" (openssl-extract modern-path "correct horse" "cas.pem" "-cacerts" "-nokeys")))
(t/same (cert-der-hex (slurp got-cert)) leaf-hex "openssl extracts the certificate unchanged")
(t/same (public-key-of "key" got-key) (public-key-of "cert" leaf-pem) "openssl extracts the key that matches it")
(let [[code out] (t/openssl "verify" "-CAfile" root-file "-untrusted" got-cas got-cert)]
  (t/ok (zero? code) (string "the extracted chain verifies the extracted certificate: " out)))

(let [view (python-view modern-path "correct horse")]
  (t/ok (get view :loaded) (string "Python cryptography loads the default file: " (string/format "%q" view)))
  (t/same (get view :cert) leaf-hex "cryptography reads the certificate unchanged")
  (t/ok (get view :key-matches) "cryptography's key matches the certificate")
  (t/same (get view :chain) [inter-hex root-hex] "cryptography finds the chain, in order")
  (t/same (get view :name) "p12.example key" "cryptography reads the friendly name"))

# A wrong password opens nothing.
(let [[code out] (openssl-info modern-path "wrong horse")]
  (t/ok (not (zero? code)) (string "openssl refuses a wrong password: " out)))
(t/same (get (python-view modern-path "wrong horse") :loaded) false "cryptography refuses a wrong password")

# --- :iterations: the count asked for, everywhere it applies ---------------------------

(def counted-path (file "counted.p12" (ca/pkcs12 (leaf :cert) (leaf :key) {:password "pw" :iterations 4321})))
(let [[code out] (openssl-info counted-path "pw")]
  (t/ok (zero? code) (string "openssl reads a file of 4321 iterations: " out))
  (t/same (length (string/find-all "Iteration 4321" out)) 3
          (string "the key, the certificates and the MAC take the :iterations asked for: " out)))
(t/ok (get (python-view counted-path "pw") :loaded) "cryptography loads a file of 4321 iterations")

# --- legacy: PBE-SHA1-3DES and a SHA-1 MAC ----------------------------------------

(def legacy-path (file "legacy.p12" (ca/pkcs12 (leaf :cert) (leaf :key)
                                               {:password "old java" :legacy true :chain [inter-pem]})))
(let [[code out] (openssl-info legacy-path "old java")
      [code out] (if (zero? code) [code out] (openssl-info legacy-path "old java" "-legacy"))]
  (t/ok (zero? code) (string "openssl pkcs12 -info reads the legacy file: " out))
  (t/ok (string/find "MAC: sha1" out) (string "the legacy MAC is SHA-1: " out))
  (t/ok (string/find "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC" out) (string "the legacy key is 3DES: " out))
  (t/ok (string/find "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC" out)
        (string "the legacy certificates are 3DES (not RC2): " out))
  (t/ok (not (string/find "PBES2" out)) (string "nothing in the legacy file uses PBES2: " out))
  (t/same (length (string/find-all "Iteration 2048" out)) 3
          (string "the legacy file keeps the 2048 iterations its old readers expect: " out))
  (t/ok (not (string/find "friendlyName" out)) (string "no :name, no friendly name: " out)))
(let [view (python-view legacy-path "old java")]
  (t/ok (get view :loaded) (string "cryptography loads the legacy file: " (string/format "%q" view)))
  (t/same (get view :cert) leaf-hex "the legacy file holds the certificate")
  (t/ok (get view :key-matches) "the legacy file's key matches the certificate")
  (t/same (get view :chain) [inter-hex] "the legacy file holds the chain")
  (t/same (get view :name) nil "the legacy file has no friendly name"))
(t/same (get (python-view legacy-path "wrong") :loaded) false "cryptography refuses a wrong legacy password")

# --- other keys and inputs ---------------------------------------------------------

(each kt [:rsa-2048 :ed25519 :ec-p384]
  (def issued (:issue inter {:common-name (string kt ".example") :key-type kt}))
  (def path (file (string kt ".p12") (ca/pkcs12 (issued :cert) (issued :key) {:password "pw" :name (string kt)})))
  (def view (python-view path "pw"))
  (t/ok (and (get view :loaded) (get view :key-matches))
        (string/format "a %s key exports and matches its certificate: %q" kt view))
  (t/same (get view :name) (string kt) (string kt ": friendly name")))

# DER certificate and key, a traditional (SEC1) key, a non-ASCII password and name.
(def leaf-der (do (t/openssl "x509" "-in" leaf-pem "-outform" "DER" "-out" (string dir "/leaf.der"))
                  (slurp (string dir "/leaf.der"))))
(def key-file (file "leaf.key" (leaf :key)))
(t/openssl "ec" "-in" key-file "-out" (string dir "/leaf-sec1.key"))
(def sec1 (slurp (string dir "/leaf-sec1.key")))
(t/ok (string/find "BEGIN EC PRIVATE KEY" sec1) "openssl ec wrote a traditional key")
(t/openssl "pkey" "-in" key-file "-outform" "DER" "-out" (string dir "/leaf-key.der"))
(def key-der (slurp (string dir "/leaf-key.der")))
(each [label cert key] [["DER certificate and key" leaf-der key-der] ["traditional SEC1 key" (leaf :cert) sec1]]
  (def path (file "inputs.p12" (ca/pkcs12 cert key {:password "pässwörd" :name "clé ☃"})))
  (def view (python-view path "pässwörd"))
  (t/ok (and (get view :loaded) (get view :key-matches) (= (get view :cert) leaf-hex))
        (string/format "%s, UTF-8 password: cryptography loads it: %q" label view))
  (t/same (get view :name) "clé ☃" (string label ": a UTF-8 friendly name survives"))
  (let [[code out] (openssl-info path "pässwörd")]
    (t/ok (zero? code) (string label ": openssl reads it with the UTF-8 password: " out))))

# An encrypted key with :key-password; a buffer password.
(def ca-key-enc (ca/get-key root {:password "key secret"}))
(let [path (file "ca.p12" (ca/pkcs12 root-pem ca-key-enc {:password @"buffer pw" :key-password "key secret"}))
      view (python-view path "buffer pw")]
  (t/ok (and (get view :loaded) (get view :key-matches) (= (get view :cert) root-hex))
        (string/format "an encrypted key exports with :key-password: %q" view)))

# An empty password, given explicitly, makes a file that opens with "".
(let [path (file "empty.p12" (ca/pkcs12 (leaf :cert) (leaf :key) {:password ""}))
      [code out] (openssl-info path "")]
  (t/ok (zero? code) (string "openssl opens an explicitly empty password: " out))
  (t/ok (get (python-view path "") :loaded) "cryptography opens an explicitly empty password"))

# Two exports differ (fresh salts), yet both open.
(t/ok (not= (ca/pkcs12 (leaf :cert) (leaf :key) {:password "pw"}) (ca/pkcs12 (leaf :cert) (leaf :key) {:password "pw"}))
      "each export has fresh salts")

# --- refusals ------------------------------------------------------------------------

(def c (leaf :cert))
(def k (leaf :key))
(defn refuses [what prefix & args]
  (t/raises |(ca/pkcs12 ;args) what prefix))

(refuses "no options: a password is required" "[CA:PARAM] :password is required" c k)
(refuses "nil password: a password is required" "[CA:PARAM] :password is required" c k {:password nil})
(refuses "too few arguments" "[CA:PARAM] ca/pkcs12 expects 2 to 3 arguments, got 1" c)
(refuses "too many arguments" "[CA:PARAM] ca/pkcs12 expects 2 to 3 arguments, got 4" c k {} {})
(refuses "cert of the wrong type" "[CA:PARAM] ca/pkcs12 cert-pem must be a string or buffer" 42 k {:password "pw"})
(refuses "key of the wrong type" "[CA:PARAM] ca/pkcs12 key-pem must be a string or buffer" c :key {:password "pw"})
(refuses "options of the wrong type" "[CA:PARAM] ca/pkcs12 options must be a table or struct" c k "pw")
(refuses "an unknown option" "[CA:PARAM] ca/pkcs12 has no option :rounds" c k {:password "pw" :rounds 1})
(refuses ":iterations below 1000" "[CA:PARAM] :iterations must be between 1000 and 10000000, got 999"
         c k {:password "pw" :iterations 999})
(refuses ":iterations above 10,000,000" "[CA:PARAM] :iterations must be between 1000 and 10000000, got 10000001"
         c k {:password "pw" :iterations 10000001})
(refuses ":iterations of the wrong type" "[CA:PARAM] :iterations must be an integer" c k {:password "pw" :iterations "5000"})
(refuses ":iterations with a fraction" "[CA:PARAM] :iterations must be an integer" c k {:password "pw" :iterations 5000.5})
(refuses ":password of the wrong type" "[CA:PARAM] :password must be a string or buffer" c k {:password 42})
(refuses ":key-password of the wrong type" "[CA:PARAM] :key-password must be a string or buffer"
         c k {:password "pw" :key-password :x})
(refuses ":chain of the wrong type" "[CA:PARAM] :chain must be an array or tuple" c k {:password "pw" :chain inter-pem})
(refuses ":chain item of the wrong type" "[CA:PARAM] :chain item 2 must be a string or buffer"
         c k {:password "pw" :chain [inter-pem 42]})
(refuses ":name of the wrong type" "[CA:PARAM] :name must be a string or buffer" c k {:password "pw" :name :leaf})
(refuses ":legacy of the wrong type" "[CA:PARAM] :legacy must be true or false" c k {:password "pw" :legacy "yes"})
(refuses "a password with NUL" "[CA:PARAM] :password must not contain NUL" c k {:password "a\0b"})
(refuses "a password that is not UTF-8" "[CA:PARAM] :password must be valid UTF-8" c k {:password "\xff\xfe"})
(refuses "an empty :name" "[CA:PARAM] :name must not be empty" c k {:password "pw" :name ""})
(refuses "a :name with a newline" "[CA:PARAM] :name must not contain control characters" c k {:password "pw" :name "a\nb"})
(refuses "a key of another certificate" "[CA:VERIFY] the private key does not match the certificate's public key"
         c (ca/get-key root) {:password "pw"})
(refuses "a garbage certificate" "[CA:PARSE] certificate is neither PEM nor DER" "garbage" k {:password "pw"})
(refuses "a key where the certificate belongs" "[CA:PARSE] certificate: no PEM block labelled CERTIFICATE"
         k k {:password "pw"})
(refuses "a garbage key" "[CA:PARSE] the private key is not a valid PEM or DER private key" c "garbage" {:password "pw"})
(refuses "an encrypted key without :key-password" "[CA:PARAM] the private key is encrypted; pass :key-password"
         root-pem ca-key-enc {:password "pw"})
(refuses "an encrypted key with a wrong :key-password" "[CA:VERIFY] cannot decrypt the private key: wrong :key-password"
         root-pem ca-key-enc {:password "pw" :key-password "nope"})
(refuses "a key in the chain" "[CA:PARSE] :chain item 2: certificate: no PEM block labelled CERTIFICATE"
         c k {:password "pw" :chain [inter-pem k]})
(refuses "garbage in the chain" "[CA:PARSE] :chain item 1" c k {:password "pw" :chain ["garbage"]})
(refuses "a chain longer than 32" "[CA:RESOURCE] :chain holds 33 certificates"
         c k {:password "pw" :chain (array/new-filled 33 inter-pem)})
(refuses "an oversize certificate" "[CA:RESOURCE] the certificate is larger than"
         (string/repeat "A" (+ 1 (* 1024 1024))) k {:password "pw"})
(refuses "an oversize key" "[CA:RESOURCE] the private key is larger than"
         c (string/repeat "A" (+ 1 (* 1024 1024))) {:password "pw"})
(refuses "trailing bytes after a DER certificate" "[CA:PARSE] certificate: unexpected trailing data"
         (buffer leaf-der "\0") k {:password "pw"})

(os/execute ["rm" "-rf" dir] :p)
(t/done "pkcs12")
