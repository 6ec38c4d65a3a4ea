# project.janet: build and install jsec/ca with jpm 1.x.
#
#   jpm build      cargo build against the installed Janet's headers (or
#                  --headerpath=DIR), then copy the library to
#                  build/jsec/ca<modext>; on every build, so a changed Janet
#                  or headerpath always rebuilds
#   jpm test       build, then run every test/**/*.janet (helpers live in
#                  test/support/ and only define things, so running them is a no-op)
#   jpm install    build, then copy ca<modext> to <modpath>/jsec/, so that
#                  (import jsec/ca) works, and bin/jsec-ca to <binpath>
#
# The module is a Rust cdylib, so there is no declare-native: a phony step
# runs cargo and copies the library into place. Needs cargo, libclang (bindgen),
# perl and make (to build OpenSSL from source); with JSEC_OPENSSL=system,
# libssl-dev and pkg-config instead.
# Without jpm, see scripts/build (it builds its own Janet too).

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
(def- target (string buildpath "jsec/ca" modext))

(def- cargo-library
  (case (os/which)
    :windows "jsec_ca.dll"
    :mingw "jsec_ca.dll"
    :macos "libjsec_ca.dylib"
    "libjsec_ca.so"))

(defn- absolute [path]
  (if (string/has-prefix? "/" path) path (string (os/cwd) "/" path)))

(defn- header-key
  "janet-VERSION-CRC for a janet.h: its version and POSIX cksum, as
  scripts/build-module names its cargo target directories."
  [header]
  (def text (slurp header))
  (def version (or (peg/match ~(* (thru "\n#define JANET_VERSION \"") (<- (to "\""))) text) ["unknown"]))
  (def p (os/spawn ["cksum" header] :p {:out :pipe}))
  (def out (string (or (:read (p :out) :all) "")))
  (def crc (if (zero? (:wait p)) (first (string/split " " out)) (string "h" (hash text))))
  (string "janet-" (first version) "-" crc))

(defn- build-module
  "cargo build against (dyn :headerpath)/janet.h, then copy the library to
  `target`. Janet refuses a module built for another minor version, and
  evil-janet's build script (bindgen over janet.h) does not rerun when
  JANET_HEADERPATH changes, so every header gets its own cargo target
  directory (target/janet-VERSION-CRC, shared with scripts/build-module):
  switching Janet, or --headerpath, never reuses the last header's build."
  []
  (def headerpath (dyn :headerpath))
  (def header (string headerpath "/janet.h"))
  (unless (and headerpath (os/stat header))
    (errorf "janet.h not found in headerpath %v; pass --headerpath=DIR" headerpath))
  (def base (absolute (or (os/getenv "CARGO_TARGET_DIR") "target")))
  (def target-dir (string base "/" (header-key header)))
  # evil-janet's `system` feature links -ljanet, also into the janetrs_macros
  # proc-macro. A module must not link Janet (the interpreter provides
  # janet_*), so an empty libjanet.a goes first on every crate's search path
  # (RUSTFLAGS reaches the proc-macro; build.rs only reaches our own crate).
  # One fixed place for it: RUSTFLAGS is part of cargo's fingerprint.
  (def stubdir (string base "/link-stub"))
  (create-dirs (string stubdir "/libjanet.a"))
  (spit (string stubdir "/libjanet.a") "!<arch>\n")
  (def env (merge (os/environ)
                  {"JANET_HEADERPATH" (absolute headerpath)
                   "CARGO_TARGET_DIR" target-dir
                   "RUSTFLAGS" (string (or (os/getenv "RUSTFLAGS") "") " -L native=" stubdir)}))
  # OpenSSL: 3.5 built from source and linked in (the default features; the
  # first build compiles it, 2-3 minutes), or with JSEC_OPENSSL=system the
  # system's libssl (feature system-openssl).
  (def features
    (case (os/getenv "JSEC_OPENSSL" "vendored")
      "vendored" ["--features" "system-janet"]
      "system" ["--no-default-features" "--features" "module,system-janet,system-openssl"]
      (errorf "JSEC_OPENSSL must be vendored or system, not %v" (os/getenv "JSEC_OPENSSL"))))
  (print "cargo build --release " (string/join features " ") " (JANET_HEADERPATH=" headerpath ")")
  (flush)
  (def status (os/execute ["cargo" "build" "--release" ;features] :pe env))
  (unless (zero? status) (errorf "cargo build failed with exit code %d" status))
  (def library (slurp (string target-dir "/release/" cargo-library)))
  (unless (= library (try (slurp target) ([_] nil)))
    (create-dirs target)
    (spit (string target ".tmp") library)
    (os/rename (string target ".tmp") target)))

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

# jpm's install-rule does (os/mkdir <dest-dir><modpath>/jsec), one level only;
# create the parents too (e.g. a fresh --dest-dir staging tree). create-dirs
# makes every directory of a file path but the last element.
(task "install" []
  (create-dirs (string (dyn :dest-dir "") (dyn :modpath) "/jsec/ca" modext)))
(install-rule target (string (dyn :modpath) "/jsec"))

# The jsec-ca command-line tool (a Janet script): `jpm install` copies it to
# (dyn :binpath) with a shebang and this installation's syspath hard-coded.
(declare-binscript :main "bin/jsec-ca" :hardcode-syspath true :is-janet true)

# The OCSP responder library that `jsec-ca ocsp-serve` uses, installed as
# <modpath>/jsec/ocsp-responder.janet ((import jsec/ocsp-responder)).
(declare-source :source ["jsec/ocsp-responder.janet"] :prefix "jsec")
