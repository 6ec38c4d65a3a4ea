# (ca/version), and the OpenSSL the module is linked with: by default one built
# from source (the vendored-openssl feature) and linked statically, which must
# export none of its symbols, so that a system libcrypto loaded into the same
# process coexists with it. JSEC_OPENSSL=system builds link the system's.
(import jsec/ca)
(import ./support/check :as t)

(def system-build (= "system" (os/getenv "JSEC_OPENSSL")))

(def v (ca/version))
(t/ok (table? v) "ca/version returns a table")
(t/same (sort (keys v)) @[:janet :jsec-ca :openssl] "ca/version has :jsec-ca :openssl :janet")
(t/ok (all string? (values v)) "every ca/version value is a string")

(def cargo-version
  (first (peg/match ~(* (thru "[package]") (thru "\nversion = \"") (<- (to "\""))) (slurp "Cargo.toml"))))
(t/same (v :jsec-ca) cargo-version ":jsec-ca is the crate version of Cargo.toml")

# Janet loads a module only into the minor version it was built for.
(def major-minor ~(* (<- :d+) "." (<- :d+) "."))
(t/same (peg/match major-minor (v :janet)) (peg/match major-minor janet/version)
        ":janet names the minor version of the running Janet")

(def openssl-version (peg/match ~(* "OpenSSL " (<- :d+) "." (<- :d+) "." (<- :d+) " ") (v :openssl)))
(t/ok openssl-version (string/format ":openssl is OpenSSL's version text, got %q" (v :openssl)))
(unless system-build
  (t/same (when openssl-version (array/slice openssl-version 0 2)) @["3" "5"]
          "the default build runs on OpenSSL 3.5, the long-term-support line"))

(let [mine (ca/version)]
  (put mine :openssl "changed")
  (t/same ((ca/version) :openssl) (v :openssl) "each call returns a new table"))
(t/raises |(ca/version 1) "an argument" "[CA:PARAM] ca/version expects 0 arguments, got 1")

# --- linkage, judged by binutils --------------------------------------------------

(def [module-path] (module/find "jsec/ca"))
(def [nm-code nm-out] (t/run "nm" "-D" "--defined-only" module-path))
(t/same nm-code 0 "nm -D reads the module")
(def exported (sort (seq [line :in (string/split "\n" nm-out) :let [w (string/split " " line)] :when (= 3 (length w))]
                      (w 2))))
(t/same exported @["_janet_init" "_janet_mod_config"] "the module exports its two entry points and nothing else")
(def [readelf-code dynamic] (t/run "readelf" "-d" module-path))
(t/same readelf-code 0 "readelf -d reads the module")
(def needs-libcrypto (truthy? (string/find "libcrypto" dynamic)))
(if system-build
  (t/ok needs-libcrypto "a system-openssl module needs the system libcrypto")
  (t/ok (not needs-libcrypto) "the default module needs no shared libcrypto"))

# --- a system libcrypto in the same process ---------------------------------------

# A child Janet loads the system libcrypto first (ffi/native: dlopen), then
# the module, and issues with both present: each answers with its own version.
(def child-code ```
(def lib (ffi/native "libcrypto.so.3"))
(def version-text (ffi/lookup lib "OpenSSL_version"))
(def system (ffi/call version-text (ffi/signature :default :string :int) 0))
(import jsec/ca)
(def c (ca/generate {:common-name "Coexist Root"}))
(def leaf (:issue c {:common-name "coexist.example" :key-type :rsa-2048}))
(spit (string (os/getenv "COEXIST_DIR") "/ca.pem") (ca/get-cert c))
(spit (string (os/getenv "COEXIST_DIR") "/leaf.pem") (leaf :cert))
(print system)
(print ((ca/version) :openssl))
```)
(def dir (t/tmpdir "version"))
(def [code out] (t/run-in {"JANET_PATH" (t/module-root) "COEXIST_DIR" dir} nil (t/janet-exe) "-e" child-code))
(t/same code 0 (string "a child with the system libcrypto loaded issues: " out))
(when (zero? code)
  (def [system-text module-text] (string/split "\n" out))
  (t/same module-text (v :openssl) "the module keeps its OpenSSL with the system's loaded")
  (unless system-build
    (t/ok (not= system-text module-text) (string/format "two OpenSSLs in one process: %q and %q" system-text module-text)))
  (def [verify-code verify-out] (t/openssl "verify" "-x509_strict" "-CAfile" (string dir "/ca.pem") (string dir "/leaf.pem")))
  (t/same verify-code 0 (string "openssl verify accepts what it issued: " verify-out)))
(t/run "rm" "-rf" dir)

(t/done "version")
