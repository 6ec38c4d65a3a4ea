# project.janet: build and install jsec/ca with jpm 1.x.
#
#   jpm build      cargo build against the installed Janet's headers, then
#                  copy the library to build/jsec/ca<modext>
#   jpm test       build, then run every test/**/*.janet (helpers live in
#                  test/support/ and only define things, so running them is a no-op)
#   jpm install    build, then copy ca<modext> to <modpath>/jsec/, so that
#                  (import jsec/ca) works, and bin/jsec-ca to <binpath>
#
# The module is a Rust cdylib, so there is no declare-native: a rule runs
# cargo and copies the library into place. Needs cargo and libclang (bindgen).
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

(def- cargo-target-dir (or (os/getenv "CARGO_TARGET_DIR") "target"))
(def- cargo-artifact
  (string cargo-target-dir "/release/"
          (case (os/which)
            :windows "jsec_ca.dll"
            :mingw "jsec_ca.dll"
            :macos "libjsec_ca.dylib"
            "libjsec_ca.so")))

(defn- rust-sources
  "Cargo.toml, build.rs and every file under src/: the rule's inputs."
  []
  (def acc @["Cargo.toml" "build.rs"])
  (if (os/stat "Cargo.lock") (array/push acc "Cargo.lock"))
  (defn walk [dir]
    (each name (sort (os/dir dir))
      (def p (string dir "/" name))
      (case (os/stat p :mode)
        :directory (walk p)
        :file (array/push acc p))))
  (walk "src")
  acc)

(rule target (rust-sources)
  (def headerpath (dyn :headerpath))
  (unless (and headerpath (os/stat (string headerpath "/janet.h")))
    (errorf "janet.h not found in headerpath %v; pass --headerpath=DIR" headerpath))
  # evil-janet's `system` feature links -ljanet, also into the janetrs_macros
  # proc-macro. A module must not link Janet (the interpreter provides
  # janet_*), so an empty libjanet.a goes first on every crate's search path
  # (RUSTFLAGS reaches the proc-macro; build.rs only reaches our own crate).
  (def stubdir (string (os/cwd) "/" buildpath "link-stub"))
  (create-dirs (string stubdir "/libjanet.a"))
  (spit (string stubdir "/libjanet.a") "!<arch>\n")
  (def env (merge (os/environ)
                  {"JANET_HEADERPATH" headerpath
                   "RUSTFLAGS" (string (or (os/getenv "RUSTFLAGS") "") " -L native=" stubdir)}))
  (print "cargo build --release --features system-janet (JANET_HEADERPATH=" headerpath ")")
  (flush)
  (def status (os/execute ["cargo" "build" "--release" "--features" "system-janet"] :pe env))
  (unless (zero? status) (errorf "cargo build failed with exit code %d" status))
  (create-dirs target)
  (spit target (slurp cargo-artifact)))

(add-dep "build" target)

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
(declare-source :source ["examples/ocsp-responder.janet"] :prefix "jsec")
