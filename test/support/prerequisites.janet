# The judge tools the suite needs besides what builds the module, each with
# a shell test and how to get it; `jpm test` (project.janet) and
# test/00-prerequisites.janet report what is missing, one line each, before
# any suite fails deep inside. Only defines things.

(def tools
  "Each: :name, :test (a sh command that exits 0 when the tool is usable),
  :get (how to install it on Debian/Ubuntu)."
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
   {:name "nm and readelf (binutils: the module's exports and libraries, test/version.janet)"
    :test "command -v nm && command -v readelf"
    :get "apt-get install binutils"}
   {:name "go (Go's crypto/x509 as a judge: test/support/x509judge)"
    :test "command -v go"
    :get "apt-get install golang-go"}])

(defn- usable? [tool]
  (zero? (os/execute ["sh" "-c" (string "(" (tool :test) ") >/dev/null 2>&1")] :p)))

(defn missing
  "The tools that are needed and not usable here."
  []
  (filter |(not (usable? $)) tools))

(defn report
  "Lines telling what is missing and how to get it."
  [missing]
  [;(map |(string "missing " ($ :name) ": " ($ :get)) missing)
   "or install everything the tests need with: bash scripts/setup (Debian/Ubuntu, as root or with sudo)"])
