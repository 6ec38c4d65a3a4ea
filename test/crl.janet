# Revocation and CRLs, judged by openssl, Python cryptography and pkilint.
(import jsec/ca)
(import ./support/check :as t)

(def dir (t/tmpdir "crl"))

(defn pem-file [name content] (t/write dir name content))

(def root (ca/generate {:common-name "CRL Test Root" :organization "jsec"}))
(def root-pem (pem-file "root.pem" (ca/get-cert root)))
(def good-leaf (:issue root {:common-name "good.example" :san ["DNS:good.example"]}))
(def bad-leaf (:issue root {:common-name "bad.example" :san ["DNS:bad.example"]}))
(def big-serial "0x0123456789abcdef0123456789abcdef")

# --- recording revocations --------------------------------------------------

(t/same (ca/get-crl-number root) (int/s64 1) "CRL numbers start at 1")
(t/same (:get-revoked root) @[] "a new CA has no revocations")
(:revoke root 2 :key-compromise)                # bad-leaf
(ca/revoke root (int/s64 40) :certificate-hold)
(ca/revoke root (int/u64 41))
(ca/revoke root big-serial :superseded)
(ca/revoke root 42 :cessation-of-operation)

(def revoked (ca/get-revoked root))
(t/same (map |($ :serial) revoked) @[(int/s64 2) (int/s64 40) (int/s64 41) big-serial (int/s64 42)]
        "get-revoked lists serials in revocation order, wide ones as hex")
(t/same (map |($ :reason) revoked)
        @[:key-compromise :certificate-hold :unspecified :superseded :cessation-of-operation]
        "get-revoked keeps each reason")
(t/ok (all |(< (math/abs (- ($ :date) (os/time))) 60) revoked) "each entry is dated when :revoke was called")

(ca/revoke root 42 :key-compromise)
(t/same (length (ca/get-revoked root)) 5 "revoking again updates the entry instead of adding one")
(t/same ((last (ca/get-revoked root)) :reason) :key-compromise "the updated entry has the new reason")

# --- the CRL as openssl sees it -----------------------------------------------

(def crl-pem (:generate-crl root {:revoked [{:serial 99 :reason :affiliation-changed :date 1700000000}
                                            {:serial "0x64"}]}))
(def crl-path (pem-file "crl.pem" crl-pem))
(t/same (ca/get-crl-number root) (int/s64 2) "generating a CRL advances the CRL number")

(let [[code out] (t/openssl "crl" "-in" crl-path "-noout" "-CAfile" root-pem "-verify")]
  (t/ok (and (zero? code) (string/find "verify OK" out)) (string "openssl crl -verify accepts the CRL: " out)))

(def bundle (pem-file "bundle.pem" (string (ca/get-cert root) crl-pem)))
(let [[code out] (t/openssl "verify" "-crl_check_all" "-CAfile" bundle (pem-file "bad.pem" (bad-leaf :cert)))]
  (t/ok (and (not (zero? code)) (string/find "certificate revoked" out))
        (string "openssl verify -crl_check_all rejects the revoked leaf: " out)))
(let [[code out] (t/openssl "verify" "-crl_check_all" "-CAfile" bundle (pem-file "good.pem" (good-leaf :cert)))]
  (t/ok (zero? code) (string "openssl verify -crl_check_all accepts the unrevoked leaf: " out)))

(let [[clean out] (t/pkilint-clean? "lint_crl" crl-path "-t" "CRL" "-p" "PKIX")]
  (t/ok clean (string "pkilint lint_crl finds no ERROR/FATAL: " out)))

# --- the CRL as Python cryptography sees it -----------------------------------

(def inspect-crl ```
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], "rb").read())
ca = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
entries = []
for r in crl:
    try:
        reason = r.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    except x509.ExtensionNotFound:
        reason = None
    entries.append([hex(r.serial_number), reason, int(r.revocation_date_utc.timestamp())])
emit({"valid": crl.is_signature_valid(ca.public_key()), "number": number,
                  "aki_matches": aki == ski, "version": crl.extensions is not None,
                  "issuer_matches": crl.issuer == ca.subject, "entries": entries,
                  "next_after_this": crl.next_update_utc > crl.last_update_utc})
```)

(defn python-view [crl-path ca-path]
  (def view (t/python-data inspect-crl crl-path ca-path))
  (t/ok view "cryptography loads the CRL")
  (or view {}))

(def view (python-view crl-path root-pem))
(t/ok (view :valid) "cryptography validates the CRL signature with the CA key")
(t/same (view :number) 1 "cryptography reads CRL number 1")
(t/ok (view :aki_matches) "the CRL's authority key identifier is the CA's key identifier")
(t/ok (view :issuer_matches) "the CRL issuer is the CA subject")
(t/ok (view :next_after_this) "next update is after this update")
(def by-serial (tabseq [[s reason date] :in (view :entries)] s [reason date]))
(t/same (length (view :entries)) 7 "one entry per serial (5 recorded + 2 extras)")
(t/same (get-in by-serial ["0x2" 0]) "key_compromise" "serial 2 is listed as keyCompromise")
(t/same (get-in by-serial ["0x28" 0]) "certificate_hold" "serial 40 is on hold")
(t/same (get-in by-serial ["0x29" 0]) nil "an unspecified reason carries no reason code extension")
(t/same (get-in by-serial ["0x123456789abcdef0123456789abcdef" 0]) "superseded" "a 128-bit serial is listed with its reason")
(t/same (get-in by-serial ["0x63"]) ["affiliation_changed" 1700000000] "an extra entry keeps its reason and :date")
(t/same (get-in by-serial ["0x64" 0]) nil "an extra entry defaults to unspecified")
(t/same (get-in by-serial ["0x2" 1]) ((first revoked) :date) "the CRL entry date is the revocation time")

# --- :days-valid and :next-update ---------------------------------------------

(def update-times-view ```
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], "rb").read())
emit([int(crl.last_update_utc.timestamp()), int(crl.next_update_utc.timestamp())])
```)
(defn crl-times
  "[thisUpdate nextUpdate] of a CRL PEM in Unix seconds, as cryptography reads them."
  [crl]
  (t/python-data update-times-view (pem-file "span.pem" crl)))
(defn crl-span [crl]
  (def [this next] (or (crl-times crl) [0 nil]))
  (and next (- next this)))
(t/same (crl-span (ca/crl root)) (* 30 86400) "next update defaults to 30 days")
(t/same (crl-span (ca/crl root {:days-valid 7})) (* 7 86400) ":days-valid sets the next update")
(let [at (+ (os/time) 3600)]
  (t/same (get (crl-times (ca/crl root {:next-update at})) 1) at ":next-update takes Unix seconds"))
(t/same (get (crl-times (ca/crl root {:next-update "2099-01-01T00:00:00Z"})) 1) 4070908800
        ":next-update takes ISO 8601 (2099-01-01T00:00:00Z)")

# --- hold, release, and restart ------------------------------------------------

(ca/revoke root 40 :remove-from-crl)
(t/ok (not (find |(= ($ :serial) (int/s64 40)) (ca/get-revoked root))) ":remove-from-crl releases a hold")
(t/raises |(ca/revoke root 41 :remove-from-crl) ":remove-from-crl on a serial not on hold" "[CA:PARAM]" "hold")

(def saved {:cert (ca/get-cert root) :key (ca/get-key root) :serial (string (ca/get-serial root))
            :revoked (ca/get-revoked root) :crl-number (ca/get-crl-number root)})
(def restored (ca/create (saved :cert) (saved :key)
                         {:serial (scan-number (saved :serial)) :revoked (saved :revoked)
                          :crl-number (saved :crl-number)}))
(t/same (ca/get-revoked restored) (ca/get-revoked root) "a restored CA has the same revocations, dates included")
(t/same (ca/get-crl-number restored) (ca/get-crl-number root) "a restored CA continues the CRL numbering")
(def entries-of ```
from cryptography import x509
crl = x509.load_pem_x509_crl(open(sys.argv[1], "rb").read())
emit(sorted([hex(r.serial_number), int(r.revocation_date_utc.timestamp())] for r in crl))
```)
(defn crl-entries [crl] (t/python-data entries-of (pem-file "entries.pem" crl)))
(t/same (crl-entries (ca/crl restored)) (crl-entries (ca/crl root))
        "the restored CA's CRL lists the same entries with the same dates")
(t/same (ca/get-crl-number restored) (ca/get-crl-number root) "both CAs advanced their CRL number alike")

# --- bad input changes nothing -----------------------------------------------

(def before (ca/get-revoked root))
(each [args what needles]
  [[[root 5 :bogus] "unknown reason" ["[CA:PARAM]" "bogus"]]
   [[root -5] "negative serial" ["[CA:PARAM]" "positive"]]
   [[root 0] "zero serial" ["[CA:PARAM]"]]
   [[root "0xnothex"] "malformed hex" ["[CA:PARAM]" "hex"]]
   [[root "12"] "decimal string" ["[CA:PARAM]" "hex"]]
   [[root 1.5] "non-integer number" ["[CA:PARAM]" "integer"]]
   [[root (string "0x" (string/repeat "f" 41))] "serial over 20 octets" ["[CA:PARAM]" "20 octets"]]
   [[root nil] "nil serial" ["[CA:PARAM]"]]
   [[root @[1]] "array serial" ["[CA:PARAM]"]]
   [["not a ca" 5] "string as CA" ["[CA:PARAM]" "ca/CA"]]]
  (t/raises |(ca/revoke ;args) (string "ca/revoke: " what) ;needles))
(t/raises |(ca/crl root {:revoked [{:reason :superseded}]}) ":revoked entry without :serial" "[CA:PARAM]" ":serial")
(t/raises |(ca/crl root {:revoked [5]}) ":revoked entry that is not a table" "[CA:PARAM]" ":revoked")
(t/raises |(ca/crl root {:revoked 5}) ":revoked that is not a list" "[CA:PARAM]" ":revoked")
(t/raises |(ca/crl root {:days-valid 0}) "zero :days-valid" "[CA:PARAM]" ":days-valid")
(t/raises |(ca/crl root {:days-valid -3}) "negative :days-valid" "[CA:PARAM]" ":days-valid")
(t/raises |(ca/crl root {:days-valid "30"}) "string :days-valid" "[CA:PARAM]" ":days-valid")
(t/raises |(ca/crl root {:next-update "yesterday"}) "malformed :next-update" "[CA:PARSE]" ":next-update")
(t/raises |(ca/crl root {:next-update 1000}) ":next-update in the past" "[CA:PARAM]" ":next-update")
(t/raises |(ca/crl root {:days-valid 3 :next-update (+ (os/time) 100)}) "both :days-valid and :next-update" "[CA:PARAM]")
(t/raises |(ca/create (saved :cert) (saved :key) {:revoked [{:serial 7 :reason :nope}]})
          "ca/create with a bad :revoked entry" "[CA:PARAM]" "nope")
(t/raises |(ca/create (saved :cert) (saved :key) {:crl-number 0}) "ca/create with :crl-number 0" "[CA:PARAM]" ":crl-number")
(t/same (ca/get-revoked root) before "failed calls left the revocations unchanged")
(let [n (ca/get-crl-number root)]
  (t/raises |(ca/crl root {:revoked [{:serial -1}]}) "negative extra serial" "[CA:PARAM]")
  (t/same (ca/get-crl-number root) n "a failed CRL does not consume a CRL number"))

# --- the PEM string's hash ----------------------------------------------------
# The module writes the PEM into the Janet string and sets its hash itself
# (computed in lanes) when the running Janet's hash is one it models: the
# string must hash, compare and look up exactly as a copy Janet hashed.
(let [c (ca/generate {:common-name "Hash Check"})]
  (var done 0)
  (each n [0 1 2 3 7 40 333 2500]
    (for s (inc done) (inc n) (:revoke c s))
    (set done n)
    (def crl (:generate-crl c))
    (def copy (string (buffer crl)))
    (t/same (hash crl) (hash copy) (string "CRL of " n " entries: its hash is Janet's hash of its bytes"))
    (t/ok (and (= crl copy) (= 1 (get @{copy 1} crl))) (string "CRL of " n " entries: equal to and found as its copy"))))

(t/done "crl")
