# The module under valgrind's memcheck: no invalid reads or writes, and no
# "definitely lost" bytes, in two runs: a workload with every kind of call
# (test/support/memcheck-workload.janet: issuing, signing, revocation, CRLs,
# OCSP, key export and loading, and each error path of
# test/support/call-kinds.janet), and the hostile-input matrix with its quick
# set of values (test/support/hostile-child.janet --quick).
(import ./support/check :as t)

(if-not (zero? (first (t/run "sh" "-c" "command -v valgrind")))
  (do (print "memcheck: valgrind is not installed (scripts/setup installs it)") (os/exit 1)))

(def dir (t/tmpdir "memcheck"))
(def csr (string dir "/mc.csr"))
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-keyout" (string dir "/mc.key")
           "-subj" "/CN=mc.example" "-addext" "subjectAltName=DNS:mc.example" "-out" csr)
(t/openssl "req" "-x509" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes" "-subj" "/CN=mc-ca"
           "-keyout" (string dir "/ca.key") "-out" (string dir "/ca.pem"))
(t/openssl "ocsp" "-issuer" (string dir "/ca.pem") "-serial" "5" "-reqout" (string dir "/req.der"))

(defn memcheck
  "Runs the interpreter with `args` under valgrind; checks its report. Returns the output."
  [what & args]
  (def [code out]
    (t/run-in {"JANET_PATH" (t/module-root)} nil
              "valgrind" "--error-exitcode=99" "--leak-check=full" "--show-leak-kinds=definite"
              "--errors-for-leak-kinds=definite" (t/janet-exe) ;args))
  (def report (filter |(peg/find '(* "==" :d+ "==") $) (string/split "\n" out)))
  (def summary (filter |(or (string/find "ERROR SUMMARY" $) (string/find "definitely lost" $)
                            (string/find "Invalid" $))
                       report))
  (each line summary (print what ": " line))
  (t/ok (string/find "ERROR SUMMARY: 0 errors" out)
        (string what ": memcheck reports no errors:\n" (string/join report "\n")))
  (t/ok (not (find |(peg/match '(* (thru "definitely lost: ") (not "0 bytes")) $) summary))
        (string what ": no bytes definitely lost"))
  (t/same code 0 (string what ": valgrind exits 0"))
  out)

(def script (string/format ```
(import ./test/support/memcheck-workload :as w)
(def kinds (w/workload (slurp %q) (slurp %q) %q))
(gccollect)
(print "workload done: " kinds " kinds of call")
``` csr (string dir "/req.der") dir))
(def out (memcheck "workload" "-e" script))
(def [kinds] (or (peg/match ~(* (thru "workload done: ") (number :d+)) out) [0]))
(t/ok (>= kinds 30) (string "the workload ran to the end under valgrind, every kind of call: " out))

(def out (memcheck "hostile matrix" "test/support/hostile-child.janet" "--run" dir "--quick"))
(def [calls] (or (peg/match ~(* (thru "\nOK ") (number :d+)) (string "\n" out)) [0]))
(t/ok (> calls 5000) (string "the quick hostile matrix ran to the end under valgrind: " (string/slice out -2000)))
(t/done "memcheck")
