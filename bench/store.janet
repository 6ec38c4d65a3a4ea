# The store at a million certificates (issue 13), measured through Janet as
# users call it, against the same calls on an empty store and in memory, in
# one run:
#     JANET_PATH=build build/janet bench/store.janet [DIR] [ROWS]
# ROWS (default 1,000,000) rows are put into the index in bulk with Python's
# sqlite3 (each a copy of a real certificate's DER under its own serial), and
# as many revocations, since issuing a million certificates one durable
# commit at a time would take the benchmark an hour. Prints ratios; asserts
# nothing.
(import jsec/ca)

(def dir (or (get (dyn :args) 1) (string "/tmp/jsec-bench-store-" (os/time))))
(def rows (scan-number (or (get (dyn :args) 2) "1000000")))
(os/mkdir dir)
(def db (string dir "/ca.db"))
(each f [db (string db "-wal") (string db "-shm")] (protect (os/rm f)))

(defn per-op
  "Median seconds per call of `f`, over `rounds` rounds of `n` calls."
  [n rounds f]
  (def times (seq [_ :range [0 rounds]]
               (def t0 (os/clock))
               (for i 0 n (f i))
               (/ (- (os/clock) t0) n)))
  (get (sort times) (div rounds 2)))

(defn ms [s] (string/format "%8.3f ms" (* 1000 s)))

(def store (ca/open-store db))
(def root (ca/generate {:common-name "Bench Store Root"}))
(ca/store-save store "root" root)
(def memory (ca/generate {:common-name "Bench Memory Root"}))
(def opts {:common-name "bench.example" :san ["DNS:bench.example"]})
(def leaf (:issue root opts))

# a second store that stays empty: measured in rounds alternating with the
# full one, so the machine's load (fsync above all) weighs on both alike
(def empty-db (string dir "/empty.db"))
(each f [empty-db (string empty-db "-wal") (string empty-db "-shm")] (protect (os/rm f)))
(def empty-ca (ca/generate {:common-name "Bench Empty Root"}))
(ca/store-save (ca/open-store empty-db) "root" empty-ca)

# --- a million rows, in bulk -------------------------------------------------------
(def t0 (os/clock))
(def py (string `
import sqlite3, ssl, sys
db, rows, pem, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
der = ssl.PEM_cert_to_DER_cert(pem)
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA synchronous=OFF")
ca, nxt = c.execute("SELECT id, next_serial FROM ca WHERE name = ?", (name,)).fetchone()
c.execute("BEGIN")
c.executemany("INSERT INTO issued (ca, serial, pending, subject, sans, not_before, not_after, der) "
              "VALUES (?, ?, 0, 'CN=bench.example', 'DNS:bench.example', 1700000000, 1900000000, ?)",
              ((ca, nxt + i, der) for i in range(rows)))
c.executemany("INSERT INTO revoked (ca, serial, reason, date) VALUES (?, ?, 1, 1700000000)",
              ((ca, nxt + i) for i in range(rows)))
c.execute("UPDATE ca SET next_serial = ? WHERE id = ?", (nxt + rows, ca))
c.execute("COMMIT")
# as SQLite's automatic checkpoints would have done along the way
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
`))
(os/execute ["python3" "-c" py db (string rows) (leaf :cert) "root"] :px)
(def fill-seconds (- (os/clock) t0))

(def full (ca/store-load (ca/open-store db) "root"))
(defn alternate
  "Medians of `rounds` rounds of `n` calls of f and g, taken in turns."
  [n rounds f g]
  (def fs @[])
  (def gs @[])
  (for _ 0 rounds
    (array/push fs (per-op n 1 f))
    (array/push gs (per-op n 1 g)))
  [(get (sort fs) (div rounds 2)) (get (sort gs) (div rounds 2))])
# the first CRL of a freshly loaded CA reads every revocation from the store
(def cold-crl (per-op 1 1 (fn [_] (ca/crl full))))
(def [empty-issue full-issue] (alternate 100 9 (fn [_] (:issue empty-ca opts)) (fn [_] (:issue full opts))))
(def mem-issue (per-op 200 5 (fn [_] (:issue memory opts))))
(def rng (math/rng 7))
(def lookup (per-op 20000 3 (fn [_] (ca/get-status full (+ 1 (math/rng-int rng rows))))))
(def store-crl (per-op 1 3 (fn [_] (ca/crl full))))
(for i 1 (+ rows 1) (ca/revoke memory i :key-compromise))
(def mem-crl (per-op 1 3 (fn [_] (ca/crl memory))))
# what the store holds once the WAL is checkpointed into the database file
(os/execute ["python3" "-c" (string "import sqlite3; sqlite3.connect('" db "').execute('PRAGMA wal_checkpoint(TRUNCATE)')")] :px)
(def size (+ (os/stat db :size) (or (os/stat (string db "-wal") :size) 0)))
(spit (string dir "/leaf.pem") (leaf :cert))
(def der-size (let [p (os/spawn ["openssl" "x509" "-outform" "DER" "-in" (string dir "/leaf.pem")] :p {:out :pipe})
                    out (:read (p :out) :all)] (:wait p) (length out)))

# --- the jsec-ca tool at 0 and at a million rows -------------------------------------
(def tool-dir (string dir "/tool"))
(def tool-env (merge (os/environ) {"JANET_PATH" (dyn :syspath) "JSEC_CA_PASSWORD" ""}))
(def tool-dir-full (string dir "/tool-full"))
(defn tool-in
  "Runs jsec-ca with `args` on the CA directory `d`."
  [d & args]
  (def p (os/spawn [(dyn :executable) "bin/jsec-ca" ;args "--dir" d] :pe
                   (merge tool-env {:out (file/open "/dev/null" :w)})))
  (unless (zero? (:wait p)) (error (string "jsec-ca " (string/join args " ") " failed"))))
(tool-in tool-dir "init" "--name" "Bench Tool Root")
(tool-in tool-dir-full "init" "--name" "Bench Tool Root")
(os/execute ["python3" "-c" py (string tool-dir-full "/ca.db") (string rows) (leaf :cert) "root"] :px)
(defn tool-issue [d] (fn [_] (tool-in d "issue" (string "t" (math/rng-int rng 1000000000) ".example"))))
(def [tool-empty tool-full] (alternate 1 9 (tool-issue tool-dir) (tool-issue tool-dir-full)))

(printf "store benchmark: %d rows put in the index in bulk in %.1f s (and %d revocations)" rows fill-seconds rows)
(printf "  :issue in memory                     %s" (ms mem-issue))
(printf "  :issue, empty store                  %s   (the two durable commits: %s)" (ms empty-issue) (ms (- empty-issue mem-issue)))
(printf "  :issue, store with %7d rows      %s   = %.2fx the empty store" rows (ms full-issue) (/ full-issue empty-issue))
(printf "  ca/get-status at %7d rows         %8.0f lookups/s" rows (/ 1 lookup))
(printf "  :generate-crl, %7d revocations   store %s, memory %s = %.2fx" rows (ms store-crl) (ms mem-crl) (/ store-crl mem-crl))
(printf "  :generate-crl, cold (first after a load, reading every revocation)  %s = %.2fx memory" (ms cold-crl) (/ cold-crl mem-crl))
(printf "  jsec-ca issue (a process each), empty store %s, at %d rows %s = %.2fx" (ms tool-empty) rows (ms tool-full) (/ tool-full tool-empty))
(printf "  store size                           %.1f MB for %.1f MB of certificate DER = %.2fx"
        (/ size 1e6) (/ (* der-size (+ rows 1000)) 1e6) (/ size (* der-size (+ rows 1000))))
(os/execute ["rm" "-rf" dir] :p)
