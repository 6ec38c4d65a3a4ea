# The module under valgrind's memcheck: no invalid reads or writes, and no
# "definitely lost" bytes, across a workload that takes every error path too.
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

(def script (string/format ```
(import ./test/support/memcheck-workload :as w)
(w/workload (slurp %q) (slurp %q))
(gccollect)
(print "workload done")
``` csr (string dir "/req.der")))

(def [code out]
  (t/run-in {"JANET_PATH" (t/module-root)} nil
            "valgrind" "--error-exitcode=99" "--leak-check=full" "--show-leak-kinds=definite"
            "--errors-for-leak-kinds=definite" (t/janet-exe) "-e" script))
(def summary (filter |(string/find "==" $)
                     (filter |(or (string/find "ERROR SUMMARY" $) (string/find "definitely lost" $)
                                  (string/find "Invalid" $))
                             (string/split "\n" out))))
(each line summary (print line))
(t/ok (string/find "workload done" out) (string "the workload ran to the end under valgrind: " out))
(t/ok (string/find "ERROR SUMMARY: 0 errors" out) (string "memcheck reports no errors:\n" out))
(t/ok (not (find |(peg/match '(* (thru "definitely lost: ") (not "0 bytes")) $) summary))
      "no bytes definitely lost")
(t/same code 0 "valgrind exits 0")
(t/done "memcheck")
