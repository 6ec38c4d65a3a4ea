# bench/ocsp-fixtures.janet: the CA and statuses that scripts/bench-ocsp's
# three responders serve, written into DIR:
#
#     JANET_PATH=build build/janet bench/ocsp-fixtures.janet DIR
#
#   ca.pem, ca.key          a P-256 root (jsec/ca), the responders' signer
#   leaf-S.pem              ten certificates it issued, serials S = 100..109
#   index.txt               the same statuses as an `openssl ca` database,
#                           for `openssl ocsp -index`
#   statuses.txt            one line per serial, "SERIAL good" or
#                           "SERIAL revoked REASON-CODE YYYY-MM-DD", for
#                           cfssl ocspsign (scripts/bench-ocsp)
#   responder.args          the arguments of jsec/ocsp-responder.janet:
#                           --serial NEXT and one --revoke per revoked serial
#
# Serials divisible by 3 are revoked (keyCompromise, a day ago), the others
# good.

(import jsec/ca)

(def dir (get (dyn :args) 1))
(unless dir
  (eprint "usage: bench/ocsp-fixtures.janet DIR")
  (os/exit 2))

(def first-serial 100)
(def leaves 10)
(def revoked-at (- (os/time) 86400))

(def root (ca/generate {:common-name "OCSP Bench Root"}))
(defn- path [name] (string dir "/" name))
(spit (path "ca.pem") (ca/get-cert root))
(spit (path "ca.key") (ca/get-key root))
(ca/set-serial root first-serial)

(def index @"")
(def statuses @"")
(def args @[])
(for serial first-serial (+ first-serial leaves)
  (def leaf (ca/issue root {:common-name (string "leaf" serial ".example")}))
  (spit (path (string "leaf-" serial ".pem")) (leaf :cert))
  (def hex (string/format "%02X" serial))
  (def subject (string "/CN=leaf" serial ".example"))
  (if (zero? (% serial 3))
    (do
      (buffer/push index "R\t351231235959Z\t" (os/strftime "%y%m%d%H%M%SZ" revoked-at) ",keyCompromise\t" hex "\tunknown\t" subject "\n")
      (buffer/push statuses (string serial) " revoked 1 " (os/strftime "%Y-%m-%d" revoked-at) "\n")
      (array/push args "--revoke" (string/format "%d:key-compromise:%d" serial revoked-at)))
    (do
      (buffer/push index "V\t351231235959Z\t\t" hex "\tunknown\t" subject "\n")
      (buffer/push statuses (string serial) " good\n"))))
(spit (path "index.txt") index)
(spit (path "statuses.txt") statuses)
(spit (path "responder.args") (string/join ["--serial" (string (ca/get-serial root)) ;args] " "))
