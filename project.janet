# project.janet: build and install jsec/ca with jpm 1.x (Janet's bundle
# module and janet-pm use bundle/ instead; both build with scripts/build-module).
#
#   jpm build      scripts/build-module against the installed Janet's headers
#                  ((dyn :headerpath), or --headerpath=DIR): the module to
#                  build/jsec/ca<modext>, the Janet library jsec/**/*.janet
#                  to build/jsec/; on every build (cargo decides what is out
#                  of date), so a changed Janet or headerpath always rebuilds
#   jpm test       build, then run every test/**/*.janet (helpers live in
#                  test/support/ and only define things, so running them is a
#                  no-op); with JSEC_CA_TESTS="test/a.janet test/b.janet" only those
#   jpm install    build, then copy ca<modext> and every jsec/**/*.janet to
#                  <modpath>/jsec/, so that (import jsec/ca) works, and
#                  bin/jsec-ca to <binpath>
#   jpm uninstall  remove them again, and the directories under <modpath>/jsec
#                  that are left empty
#
# The module is a Rust cdylib, so there is no declare-native: a phony step
# runs scripts/build-module (bash, cargo, libclang for bindgen, perl and make
# to build OpenSSL from source; with JSEC_OPENSSL=system, libssl-dev and
# pkg-config instead). Without jpm, see scripts/build (it builds its own Janet too).

(declare-project
  :name "jsec-ca"
  :description "A Certificate Authority for Janet: root and intermediate CAs, certificates, CRLs and OCSP"
  :version "0.1.0"
  :license "MIT"
  :dependencies [])

(def- buildpath
  (let [b (dyn :buildpath "build/")]
    (if (string/has-suffix? "/" b) b (string b "/"))))
(def- modext (dyn :modext ".so"))

(defn- janet-files
  "Every .janet file under dir, recursively, sorted: paths relative to the checkout."
  [dir]
  (sort (mapcat |(let [path (string dir "/" $)]
                   (case (os/stat path :mode)
                     :directory (janet-files path)
                     :file (if (string/has-suffix? ".janet" path) [path] [])
                     []))
                (os/dir dir))))

(defn- build-module
  "scripts/build-module against (dyn :headerpath)/janet.h: the module to
  build/jsec/ca.so and the Janet library to build/jsec/. One cargo target
  directory serves every Janet (target/system-janet): OpenSSL is compiled
  once, and what reads janet.h is rebuilt when the header changes."
  []
  (def headerpath (dyn :headerpath))
  (unless (and headerpath (os/stat (string headerpath "/janet.h")))
    (errorf "janet.h not found in headerpath %v; pass --headerpath=DIR" headerpath))
  (print "scripts/build-module " buildpath " " headerpath)
  (flush)
  (def status (os/execute ["bash" "scripts/build-module" buildpath headerpath] :p))
  (unless (zero? status) (errorf "scripts/build-module failed with exit code %d" status))
  (unless (= modext ".so")
    (copyfile (string buildpath "jsec/ca.so") (string buildpath "jsec/ca" modext))))

# A phony step, not a file rule: cargo decides what is out of date, and a
# rule keyed on file times would skip the build when only the headers changed.
(phony "jsec-module" [] (build-module))
(add-dep "build" "jsec-module")

# `jpm test` first checks the judge tools the suites use (openssl, Python
# cryptography, pkilint, valgrind, ...) and names each missing one with how to
# get it, instead of failing deep inside a suite.
(import ./test/support/prerequisites)
(phony "prerequisites" []
  (def missing (prerequisites/missing))
  (unless (empty? missing)
    (each line (prerequisites/report missing) (eprint line))
    (error "jpm test needs the tools above")))
(add-dep "test" "prerequisites")

# JSEC_CA_TESTS="test/a.janet ...": `jpm test` runs only those files (in
# jpm's test environment, as run-tests would), then exits with their status,
# before jpm's run-tests would run every file.
(phony "test-subset" ["build" "prerequisites"]
  (when-let [only (os/getenv "JSEC_CA_TESTS")]
    (def failed @[])
    (each test (filter next (string/split " " only))
      (print "running " test " ...")
      (flush)
      (unless (zero? (run-script test)) (array/push failed test)))
    (if (empty? failed)
      (print "JSEC_CA_TESTS: all passed")
      (eprint "JSEC_CA_TESTS: failed: " (string/join failed " ")))
    (os/exit (if (empty? failed) 0 1))))
(add-dep "test" "test-subset")

# What `jpm install` copies: <modpath>/jsec/ca<modext>, each jsec/**/*.janet
# to the same path under <modpath>, bin/jsec-ca to <binpath>. install-rule
# makes one directory level, so every directory is made first (also under a
# fresh --dest-dir staging tree).
(def- library (janet-files "jsec"))
(def- library-dirs
  (sort (distinct ["jsec" ;(map |(string/slice $ 0 (last (string/find-all "/" $))) library)])))
(task "install" []
  (each dir library-dirs
    (create-dirs (string (dyn :dest-dir "") (dyn :modpath) "/" dir "/x"))))
(install-rule (string buildpath "jsec/ca" modext) (string (dyn :modpath) "/jsec"))
(each file library
  (install-rule file (string (dyn :modpath) "/" (string/slice file 0 (last (string/find-all "/" file))))))

# `jpm uninstall` removes the files above (jpm's manifest lists them), then
# here the directories they leave empty, deepest first; a directory another
# package still uses stays.
(task "uninstall" []
  (each dir (reverse library-dirs)
    (def path (string (dyn :dest-dir "") (dyn :modpath) "/" dir))
    (when (and (= :directory (os/stat path :mode)) (empty? (os/dir path)))
      (print "removing " path)
      (os/rmdir path))))

# The jsec-ca command-line tool (a Janet script): `jpm install` copies it to
# (dyn :binpath) with a shebang and this installation's syspath hard-coded.
(declare-binscript :main "bin/jsec-ca" :hardcode-syspath true :is-janet true)
