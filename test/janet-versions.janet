# Building against another Janet never leaves a stale module (issue 14). The
# module is built against Janet 1.41.2's headers, then 1.36.0's, then 1.41.2's
# again, into the same place each time, by scripts/build-module (which
# scripts/build, project.janet and bundle/init.janet all use; every header
# shares one cargo target directory, target/system-janet, and a header change
# rebuilds what reads janet.h). After each build the module loads in that
# Janet's interpreter, which issues a certificate that openssl verifies; the
# other interpreter refuses it ("config mismatch"), so the load is a real
# check. The interpreters and headers are those the evil-janet crate ships
# (scripts/janet-version). jpm, janet --install and janet-pm themselves, on
# Janet 1.36.0 to 1.41.2 built from their release sources, are
# scripts/test-packaging's (run by .ci/run).
# OpenSSL is built once for every header; the first build in a fresh clone
# still compiles it (minutes on 2 cores), so the test gets half an hour:
# test-timeout: 1800
(import ./support/check :as t)

(def root (os/cwd))
(def versions ["1.41.2" "1.36.0" "1.41.2"])
(defn- janet-dir [v] (string root "/build/janet-" v))
(defn- headers [v] (string (janet-dir v) "/include"))
(defn- other [v] (if (= v "1.36.0") "1.41.2" "1.36.0"))

(defn- sh
  "Runs argv; errors with its output unless it exits 0."
  [& argv]
  (def [code out] (t/run ;argv))
  (unless (zero? code) (errorf "%s exited %d:\n%s" (string/join argv " ") code out))
  out)

(each v (distinct versions) (sh "bash" "scripts/janet-version" v))

(def work (t/tmpdir "janet-versions"))
(def issue-script ```
(import jsec/ca)
(def dir (last (dyn :args)))
(def root (ca/generate {:common-name "Version Root"}))
(def leaf (ca/issue root {:common-name "v.example" :san ["DNS:v.example"]}))
(spit (string dir "/root.pem") (ca/get-cert root))
(spit (string dir "/leaf.pem") (leaf :cert))
(print "janet " janet/version)
```)
(def script (t/write work "issue.janet" issue-script))

(var- runs 0)
(defn- check-loads
  "The module under `syspath` loads in Janet `v`, issues a certificate openssl
  verifies, and the other interpreter refuses it."
  [how v syspath]
  (def dir (string work "/" (++ runs)))
  (os/mkdir dir)
  (def [code out] (t/run-in {"JANET_PATH" syspath} nil (string (janet-dir v) "/janet") script dir))
  (t/ok (and (zero? code) (string/find (string "janet " v) out))
        (string/format "%s: the module built against %s's headers loads in Janet %s: %s" how v v out))
  (when (zero? code)
    (def [vcode vout] (t/openssl "verify" "-x509_strict" "-CAfile" (string dir "/root.pem") (string dir "/leaf.pem")))
    (t/ok (zero? vcode) (string/format "%s: openssl verifies the certificate Janet %s issued: %s" how v vout)))
  (def [ocode oout] (t/run-in {"JANET_PATH" syspath} nil (string (janet-dir (other v)) "/janet") script dir))
  (t/ok (and (not (zero? ocode)) (string/find "config mismatch" oout))
        (string/format "%s: Janet %s refuses the module built for %s: %s" how (other v) v oout)))

# scripts/build-module OUTDIR HEADERDIR, as scripts/build and scripts/janet-version use it
(def scripts-out (string root "/build/version-switch"))
(each v versions
  (sh "bash" "scripts/build-module" scripts-out (headers v))
  (check-loads "scripts/build-module" v scripts-out))

(os/execute ["rm" "-rf" work] :p)
(t/done "janet-versions")
