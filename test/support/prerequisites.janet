# The judge tools the suite needs besides what builds the module, each with
# a shell test and how to get it; `jpm test` (project.janet) and
# test/00-prerequisites.janet report what is missing, one line each, before
# any suite fails deep inside. Only defines things.

(defn- suites
  "Every .janet file under test/ but this one."
  [&opt dir]
  (default dir "test")
  (def acc @[])
  (each name (sort (os/dir dir))
    (def path (string dir "/" name))
    (case (os/stat path :mode)
      :directory (array/concat acc (suites path))
      :file (when (and (string/has-suffix? ".janet" name) (not= name "prerequisites.janet"))
              (array/push acc path))))
  acc)

(def tools
  "Each: :name, :test (a sh command that exits 0 when the tool is usable),
  :get (how to install it on Debian/Ubuntu), optional :needed (a predicate)."
  [{:name "openssl command-line tool"
    :test "openssl version"
    :get "apt-get install openssl"}
   {:name "python3"
    :test "python3 --version"
    :get "apt-get install python3 python3-pip"}
   {:name "Python cryptography >= 43"
    :test `python3 -c 'import sys, cryptography; sys.exit(int(cryptography.__version__.split(".")[0]) < 43)'`
    :get "python3 -m pip install 'cryptography>=43' (Debian 12's python3-cryptography is 38, too old)"}
   {:name "pkilint (lint_pkix_cert, lint_crl, lint_ocsp_response)"
    :test "command -v lint_pkix_cert && command -v lint_crl && command -v lint_ocsp_response"
    :get "python3 -m pip install pkilint"}
   {:name "valgrind"
    :test "command -v valgrind"
    :get "apt-get install valgrind"}
   {:name "script (runs a child on a terminal)"
    :test "command -v script"
    :get "apt-get install bsdutils (util-linux on newer releases)"}
   {:name "go (Go's crypto/x509 as a judge)"
    :test "command -v go"
    :get "apt-get install golang-go"
    :needed (fn [] (truthy? (some |(string/find `"go"` (slurp $)) (suites))))}])

(defn- usable? [tool]
  (zero? (os/execute ["sh" "-c" (string "(" (tool :test) ") >/dev/null 2>&1")] :p)))

(defn missing
  "The tools that are needed and not usable here."
  []
  (filter |(and (if-let [needed ($ :needed)] (needed) true) (not (usable? $))) tools))

(defn report
  "Lines telling what is missing and how to get it."
  [missing]
  [;(map |(string "missing " ($ :name) ": " ($ :get)) missing)
   "or install everything the tests need with: bash scripts/setup (Debian/Ubuntu, as root or with sudo)"])
