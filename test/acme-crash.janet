# test-timeout: 400
# ACME finalize cut short, on an SQLite store (issue 24): `jsec-ca
# acme-serve` is SIGKILLed at random moments under finalize requests until
# kills have landed between the order marked processing and its certificate
# attached, some before the certificate was recorded in the CA's index and
# some after (fails when not), then restarted: every order completes, by
# polling (the next request after --finalize-lease takes it over) or by
# finalizing again, and the CA's index holds exactly one certificate for
# each, the order's. Then two processes: A stopped (SIGSTOP) inside a
# finalize, B takes the order over after the lease and signs under a fresh
# serial, A goes on and signs too: A's certificate is revoked as superseded,
# never handed out, and the order keeps B's (test/support/acme-fleet.py).
(import ./support/check :as t)
(import ./support/acme-fleet :as fleet)

(fleet/require-tools "acme-crash")
(def dir (t/tmpdir "acme-crash"))
(def db (string dir "/ca.db"))
(fleet/crash-suite "acme-crash" db (string "sqlite:" db) dir)
(os/execute ["rm" "-rf" dir] :p)
(t/done "acme-crash")
