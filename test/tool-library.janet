# jsec/tool, the library bin/jsec-ca is a few lines over: a script runs the
# same command lines with tool/run (exit codes, not exits), each command is a
# module with its help text, options and run, and the help lists them all.
(import jsec/ca)
(import ./support/check :as t)
# jpm test puts only the native modules of build/ on the module path: look for
# the Janet modules beside jsec/ca.so too (scripts/build copies them there).
(array/push module/paths [(string (t/module-root) "/:all:.janet") :source])
(import jsec/tool)

(def dir (t/tmpdir "tool-library"))
(def ca-dir (string dir "/ca"))

(defn quiet
  "Runs (tool/run args) with its output captured; [code stdout stderr]."
  [args]
  (def out @"")
  (def err @"")
  (def code (with-dyns [:out out :err err] (tool/run args)))
  [code (string out) (string err)])

(t/same (sort (keys tool/commands))
        @["acme-serve" "crl" "expiring" "export" "init" "issue" "list" "migrate" "ocsp-serve" "renew" "revoke" "sign"]
        "tool/commands holds every command")
(eachp [name command] tool/commands
  (each part ['summary 'help 'options 'run]
    (t/ok (get-in command [part :value]) (string "jsec/tool/" name " defines " part)))
  (t/ok (string/has-prefix? (string "Usage: jsec-ca " name) (tool/help name))
        (string "the help of " name " starts with its usage"))
  (t/ok (string/find (string "\n  " name " ") (tool/help)) (string "jsec-ca's help lists " name)))

(let [[code out] (quiet ["init" "--dir" ca-dir "--name" "Library Root"])]
  (t/same code 0 (string "tool/run init returns 0: " out)))
(let [[code out] (quiet ["issue" "lib.example" "--dir" ca-dir])]
  (t/same code 0 (string "tool/run issue returns 0: " out))
  (def facts (t/cert-facts (string ca-dir "/certs/lib.example.crt")))
  (t/same (get facts :san) ["DNS:lib.example"] "the certificate it wrote names lib.example")
  (t/ok (string/find (string "issued serial " (get facts :serial) " ") out)
        (string "and it reports the certificate's serial: " out)))
(let [[code _ err] (quiet ["issue" "x" "--days" "0" "--dir" ca-dir])]
  (t/same code 2 "a usage error returns 2")
  (t/ok (string/find "--days must be a positive whole number" err) (string "and says why on stderr: " err)))
(let [[code _ err] (quiet ["revoke" "999" "--dir" ca-dir])]
  (t/same code 1 "a failure returns 1")
  (t/ok (string/find "not issued by this CA" err) (string "and says why on stderr: " err)))

# One command called directly: options as parse-args makes them, errors raised.
(import jsec/tool/issue)
(with-dyns [:out @""]
  (issue/run @{:dir ca-dir :days 7} ["direct.example"]))
(def direct (t/cert-facts (string ca-dir "/certs/direct.example.crt")))
(t/same (get direct :san) ["DNS:direct.example"] "issue/run called directly issues the certificate")
(t/same (protect (issue/run @{:dir ca-dir} [])) [false [:usage "issue needs at least one NAME"]]
        "issue/run without a name raises its usage error, [:usage message]")

(os/execute ["rm" "-rf" dir] :p)
(t/done "tool-library")
