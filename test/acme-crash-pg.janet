# test-timeout: 400
# ACME finalize cut short, on a PostgreSQL store (issue 24): as
# test/acme-crash.janet (SIGKILL inside finalizes until some landed between
# the order marked processing and its certificate attached, restart, every
# order completes with one certificate; a process stopped inside a finalize
# beside one that takes it over), with the store in a throwaway PostgreSQL
# cluster (scripts/pg-test-cluster).
(import ./support/check :as t)
(import ./support/pg)
(import ./support/acme-fleet :as fleet)

(pg/require "acme-crash-pg")
(fleet/require-tools "acme-crash-pg")
(def dir (t/tmpdir "acme-crash-pg"))
(with [c (pg/start dir) pg/stop]
  (fleet/crash-suite "acme-crash-pg" (c :primary) (string "pg:" dir) dir))
(os/execute ["rm" "-rf" dir] :p)
(t/done "acme-crash-pg")
