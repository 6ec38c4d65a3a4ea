# The bundle script of jsec-ca, for Janet's bundle module and spork's janet-pm:
#
#   janet --install .                        (Janet 1.38+; 1.36+: janet -e '(bundle/install ".")')
#   janet --uninstall jsec-ca                (1.36+: janet -e '(bundle/uninstall "jsec-ca")')
#   janet-pm build | test | install | uninstall | clean
#
# Each hook runs inside the Janet that installs, from the checkout. `build`
# compiles the native module against that Janet's own janet.h (found below)
# with scripts/build-module, into build/ (build/jsec/ca.so and the Janet
# library build/jsec/**/*.janet); `install` records every file it copies
# into <syspath> (bundle/add-*), so uninstalling removes exactly those:
#   <syspath>/jsec/ca.so                     (import jsec/ca)
#   <syspath>/jsec/**/*.janet                every .janet file under jsec/
#   <syspath>/bin/jsec-ca                    the command-line tool
# jpm 1.x uses project.janet instead. Needs bash, cargo, libclang, perl, make
# and a C compiler (README, "Install").

(def- build-dir "build")

(defn- header-version
  "The JANET_VERSION a janet.h declares, or nil."
  [header]
  (when (= :file (os/stat header :mode))
    (first (peg/match ~(* (thru "\n#define JANET_VERSION \"") (<- (to "\""))) (slurp header)))))

(defn- parent [path] (string/slice path 0 (or (last (string/find-all "/" path)) 0)))

(defn- executable
  "The path of the running Janet: (dyn :executable), looked up on PATH when
  it is a bare name; nil if not found."
  []
  (def exe (dyn :executable "janet"))
  (if (string/find "/" exe)
    exe
    (find |(= :file (os/stat $ :mode))
          (map |(string $ "/" exe) (string/split ":" (or (os/getenv "PATH") ""))))))

(defn- header-dir
  "The directory holding the janet.h of the Janet running this hook:
  $JANET_HEADERPATH if set, else the include directory of the prefix this
  Janet was installed into (found from its syspath, its executable,
  $JANET_PREFIX or $PREFIX), else /usr/local or /usr. A janet.h counts only
  if it declares this Janet's version: Janet refuses a module built for
  another one."
  []
  (def prefixes @[])
  (def syspath (dyn *syspath*))
  (when syspath (array/push prefixes (parent (parent syspath))))
  (when-let [exe (executable)] (array/push prefixes (parent (parent (os/realpath exe)))))
  (each name ["JANET_PREFIX" "PREFIX"]
    (when-let [p (os/getenv name)] (array/push prefixes p)))
  (array/push prefixes "/usr/local" "/usr")
  (def candidates
    (if-let [dir (os/getenv "JANET_HEADERPATH")]
      [dir]
      (mapcat |[(string $ "/include/janet") (string $ "/include")] prefixes)))
  (def found (find |(= janet/version (header-version (string $ "/janet.h"))) candidates))
  (unless found
    (errorf "no janet.h of Janet %s in %s; set JANET_HEADERPATH to the directory that holds it"
            janet/version (string/join (distinct candidates) ", ")))
  found)

(defn- sh
  "Runs argv, inheriting stdout and stderr; errors unless it exits 0."
  [& argv]
  (def code (os/execute argv :p))
  (unless (zero? code) (errorf "%s exited %d" (string/join argv " ") code)))

(defn- janet-files
  "Every .janet file under dir, recursively, sorted: paths relative to the checkout."
  [dir]
  (sort (mapcat |(let [path (string dir "/" $)]
                   (case (os/stat path :mode)
                     :directory (janet-files path)
                     :file (if (string/has-suffix? ".janet" path) [path] [])
                     []))
                (os/dir dir))))

(defn- library-dirs
  "jsec and its subdirectories holding Janet files, parents first."
  []
  (sort (distinct (mapcat |(let [parts (slice (string/split "/" $) 0 -2)]
                             (seq [i :range [1 (inc (length parts))]]
                               (string/join (slice parts 0 i) "/")))
                          (janet-files "jsec")))))

(defn build
  "Builds the module against this Janet's headers into build/ (cargo decides
  what is out of date; OpenSSL is compiled once for all Janets)."
  [&]
  (def headers (header-dir))
  (print "jsec-ca: building the module against " headers "/janet.h (Janet " janet/version ")")
  (flush)
  (sh "bash" "scripts/build-module" build-dir headers))

(defn install
  "Copies the module, the Janet library and the tool into the syspath,
  recording each for bundle/uninstall. A directory is recorded only when
  this install creates it, so that uninstalling never removes one that
  another package uses."
  [manifest &]
  (def module (string build-dir "/jsec/ca.so"))
  (unless (os/stat module) (errorf "%s is missing: the build hook did not run" module))
  (each dir ["bin" ;(library-dirs)]
    (unless (os/stat (string (dyn *syspath*) "/" dir))
      (bundle/add-directory manifest dir)))
  (bundle/add-file manifest module "jsec/ca.so")
  (each file (janet-files "jsec")
    (bundle/add-file manifest file file))
  (bundle/add-bin manifest "bin/jsec-ca"))

(defn check
  "Runs the test suite, as `jpm test` does: builds, then each test/**/*.janet
  (but test/support/) in its own process with build/ as JANET_PATH, in this
  Janet. JSEC_CA_TESTS (test files, separated by spaces) runs only those."
  [&]
  (build)
  (def janet (or (executable) (dyn :executable)))
  (def tests (if-let [only (os/getenv "JSEC_CA_TESTS")]
               (filter next (string/split " " only))
               (filter |(not (string/has-prefix? "test/support/" $)) (janet-files "test"))))
  (def env (merge (os/environ) {"JANET_PATH" (string (os/cwd) "/" build-dir)}))
  (def failed @[])
  (each test tests
    (print "running " test " ...")
    (flush)
    (def code (os/execute [janet test] :pe env))
    (unless (zero? code)
      (eprintf "%s exited %d" test code)
      (array/push failed test)))
  (if (empty? failed)
    (printf "jsec-ca: all %d test files passed" (length tests))
    (errorf "jsec-ca: %d of %d test files failed: %s" (length failed) (length tests) (string/join failed " "))))

(defn clean
  "Deletes build/ (cargo's target/ stays: it is a cache)."
  [&]
  (sh "rm" "-rf" build-dir))
