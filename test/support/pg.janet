# Throwaway PostgreSQL clusters for the store's tests, through
# scripts/pg-test-cluster: a test starts its own (a primary, and a streaming
# standby when it asks), and stops it when it ends, failing or not:
#     (with [c (pg/start dir {:standby true}) pg/stop] ...)
# Only defines things.
(import ./check :as t)

(def- here (let [f (dyn :current-file)] (if-let [i (last (string/find-all "/" f))] (string/slice f 0 i) ".")))
(def script (string here "/../../scripts/pg-test-cluster"))

(defn- cluster-run
  "Runs the script with args; its output, or an error with it."
  [& args]
  (def [code out] (t/run "bash" script ;args))
  (unless (zero? code) (error (string "pg-test-cluster " (string/join args " ") " failed: " out)))
  out)

(defn require
  "Skips the suite (t/skip) when PostgreSQL's server is not installed: a
  SKIP line scripts/test shows and counts, and a failure in CI (CI set),
  since CI installs it (scripts/setup)."
  [suite]
  (unless (zero? (os/execute ["bash" script "available"] :p))
    (t/skip suite "PostgreSQL is not installed (apt-get install postgresql, or bash scripts/setup)")))

(defn start
  "Starts a primary under dir/pg (with {:standby true} also a hot standby
  streaming from it). Returns @{:dir :primary URL :standby URL :password :port}."
  [dir &opt opts]
  (def out (cluster-run "start" dir ;(if (get opts :standby) ["--standby"] [])))
  (def c @{:dir dir})
  (each line (string/split "\n" out)
    (when-let [i (string/find "=" line)]
      (put c (keyword (string/slice line 0 i)) (string/slice line (+ i 1)))))
  (unless (c :primary) (error (string "pg-test-cluster start printed no URL: " out)))
  c)

(defn stop
  "Stops the cluster's servers and removes their files."
  [c]
  (cluster-run "stop" (c :dir)))

(defn primary
  "Stops or starts the primary alone: (pg/primary c :stop)."
  [c action]
  (cluster-run "primary" (string action) (c :dir)))

(defn- server [which db]
  (string (or which :primary) (if db (string "/" db) "")))

(defn sql
  "Runs `query` as the superuser on the primary (or the standby: which =
  :standby), in database `db` (default jsec); its rows, one a line, fields
  split by |."
  [c query &opt which db]
  (string/trim (cluster-run "sql" (c :dir) (server which db) query)))

(defn sql-proc
  "A psql process as the superuser running `queries` in order on one
  connection to the primary (database `db`, default jsec), stdout piped:
  for holding a lock while the test goes on."
  [c queries &opt db]
  (os/spawn ["bash" script "sql" (c :dir) (server :primary db) ;queries] :p {:out :pipe}))

(defn tls
  "The primary serves TLS with the certificate and key (PEM files)."
  [c cert key]
  (cluster-run "tls" (c :dir) cert key))

(defn replayed
  "Waits (at most `seconds`) until the standby has replayed everything the
  primary has written now; true when it has."
  [c seconds]
  (def target (sql c "SELECT pg_current_wal_lsn()"))
  (def deadline (+ (os/clock) seconds))
  (var done false)
  (while (and (not done) (< (os/clock) deadline))
    (if (= "t" (sql c (string "SELECT pg_last_wal_replay_lsn() >= '" target "'::pg_lsn") :standby))
      (set done true)
      (ev/sleep 0.05)))
  done)
