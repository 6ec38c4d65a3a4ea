# ca/issue-async in a host that runs Janet without an event loop
# (test/support/embed-host.c: janet_dostring, never janet_loop): the call
# could only suspend its fiber for good, so it refuses with [CA:CONFIG]
# before any key is generated, and the CA is unchanged; ca/issue works there
# as anywhere. The host is compiled with the Janet amalgamation of the
# interpreter running this test (the evil-janet crate's, in cargo's
# registry); without one, the test is skipped (t/skip: a SKIP line, a
# failure in CI).
(import ./support/check :as t)

(defn- amalgamation
  "The directory holding janet.c and janet.h of this Janet's version, or nil."
  []
  (def home (or (os/getenv "CARGO_HOME") (string (os/getenv "HOME") "/.cargo")))
  (def registry (string home "/registry/src"))
  (def package (string "evil-janet-" janet/version))
  (def candidates
    [(string (os/cwd) "/vendor/evil-janet/csrc")
     ;(map |(string registry "/" $ "/" package "/csrc") (try (os/dir registry) ([_] [])))])
  (find |(and (os/stat (string $ "/janet.c")) (os/stat (string $ "/janet.h"))) candidates))

(def csrc (amalgamation))
(unless csrc
  (t/skip "event-loop-host"
          (string/format "no amalgamation of Janet %s (evil-janet %s) in cargo's registry to build the host with"
                         janet/version janet/version)))

(def dir (t/tmpdir "event-loop-host"))
(def host (string dir "/host"))
(def [cc-code cc-out]
  (t/run (or (os/getenv "CC") "cc") "-O0" "-std=c99" "-o" host "test/support/embed-host.c"
         (string csrc "/janet.c") (string "-I" csrc) "-lm" "-ldl" "-lpthread" "-rdynamic"))
(unless (t/ok (zero? cc-code) (string "the embedding host compiles: " cc-out))
  (t/done "event-loop-host"))

(def script (t/write dir "script.janet" ```
(setdyn *syspath* (os/getenv "JANET_PATH"))
(import jsec/ca)
(def root (ca/generate {:common-name "Host Root"}))
(def [ok message] (protect (ca/issue-async root {:common-name "host.example" :key-type :rsa-2048})))
(print "async ok: " ok)
(print "async error: " message)
(print "serial: " (int/to-number (ca/get-serial root)))
(print "sync: " (if (string/find "BEGIN CERTIFICATE" ((ca/issue root {:common-name "sync.example"}) :cert)) "issued" "-"))
```))
(def [code out] (t/run-in {"JANET_PATH" (t/module-root)} nil host script))
(t/ok (zero? code) (string/format "the host runs the script (exit %d): %s" code out))
(t/ok (string/find "async ok: false" out) (string "ca/issue-async fails in a host without an event loop: " out))
(t/ok (string/find "async error: [CA:CONFIG] ca/issue-async waits on the event loop, but runs in a fiber no event loop schedules" out)
      (string "the error is [CA:CONFIG] and says why: " out))
(t/ok (string/find "serial: 1\n" out) (string "the refused call uses no serial: " out))
(t/ok (string/find "sync: issued" out) (string "ca/issue works in the same host: " out))

(os/execute ["rm" "-rf" dir] :p)
(t/done "event-loop-host")
