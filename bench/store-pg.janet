# The store on PostgreSQL (issue 15), measured through Janet as users call
# it, against SQLite and memory in the same run:
#     JANET_PATH=build build/janet bench/store-pg.janet [ISSUES]
# Starts a throwaway PostgreSQL cluster on loopback (scripts/pg-test-cluster;
# fsync on, as a real server), and stops it at the end. Prints:
# - :issue per call in memory, on an SQLite store and on a PostgreSQL store
#   (each call two durable commits: the reservation and the record), the
#   two stores timed in alternating rounds;
# - the throughput of four processes issuing from one CA at once against one
#   (three times each, alternating);
# - status lookups per second, and the store's size per certificate.
# Asserts nothing.
(import jsec/ca)

(def here (let [f (dyn :current-file)] (if-let [i (last (string/find-all "/" f))] (string/slice f 0 i) ".")))
(def cluster-script (string here "/../scripts/pg-test-cluster"))
(def opts {:common-name "bench.example" :san ["DNS:bench.example"]})

(defn issue-loop
  "Child mode: issues `count` certificates from CA `name` at `location`,
  starting at wall-clock time `start` (after a warm-up), so that children
  spawned one after the other issue at the same time; prints when it ended."
  [location name count start]
  (def authority (ca/store-load (ca/open-store location {:busy-timeout 60000}) name))
  (for _ 0 5 (:issue authority opts))
  (def wait (- start (os/clock :realtime)))
  (when (> wait 0) (ev/sleep wait))
  (for _ 0 count (:issue authority opts))
  (printf "%.6f" (os/clock :realtime)))

(defn per-op
  "Median seconds per call of `f`, over `rounds` rounds of `n` calls."
  [n rounds f]
  (def times (seq [_ :range [0 rounds]]
               (def t0 (os/clock))
               (for i 0 n (f i))
               (/ (- (os/clock) t0) n)))
  (get (sort times) (div rounds 2)))

(defn median [xs] (get (sort (array ;xs)) (div (length xs) 2)))

(defn interleaved
  "Seconds per call of each of `fs` (a struct of name -> fn), timed in turn
  over `rounds` rounds of `n` calls, so that a disk whose flushes slow down
  or speed up mid-run (other work on the machine) touches each alike.
  Returns {name median} and the median of each round's ratio b/a."
  [n rounds a b fs]
  (def times @{})
  (def ratios @[])
  (for _ 0 rounds
    (def round @{})
    (eachp [name f] fs
      (def t0 (os/clock))
      (for i 0 n (f i))
      (put round name (/ (- (os/clock) t0) n))
      (put times name (array/push (get times name @[]) (round name))))
    (array/push ratios (/ (round b) (round a))))
  [(tabseq [[name ts] :pairs times] name (median ts)) (median ratios)])

(defn ms [s] (string/format "%7.3f ms" (* 1000 s)))

(defn sh [& argv]
  (def p (os/spawn argv :p {:out :pipe}))
  (def out (:read (p :out) :all))
  (unless (zero? (:wait p)) (error (string (string/join argv " ") " failed")))
  (string out))

(defn throughput
  "Certificates per second of `procs` processes issuing `each` certificates
  at once from CA `name`."
  [location name procs each]
  (def start (+ (os/clock :realtime) 2))
  (def children (seq [_ :range [0 procs]]
                  (os/spawn [(dyn :executable) (dyn :current-file) "--issue" location name (string each)
                             (string/format "%.6f" start)]
                            :pe (merge (os/environ) {:out :pipe}))))
  (def ends (seq [p :in children]
              (def out (string (:read (p :out) :all)))
              (unless (zero? (:wait p)) (error "an issuing child failed"))
              (scan-number (string/trim out))))
  (/ (* procs each) (- (max ;ends) start)))

(defn bench [issues]
  (def dir (string "/tmp/jsec-bench-store-pg-" (os/time) "-" (math/floor (* 1e6 (math/random)))))
  (os/mkdir dir)
  (def out (sh "bash" cluster-script "start" dir))
  (defer (do (sh "bash" cluster-script "stop" dir) (sh "rm" "-rf" dir))
    (def url (string/trim (get (peg/match '(* (thru "primary=") '(to "\n")) out) 0)))
    (def memory (ca/generate {:common-name "Bench Memory Root"}))
    (def sqlite-store (ca/open-store (string dir "/ca.db")))
    (def pg-store (ca/open-store url))
    (def on-sqlite (ca/generate {:common-name "Bench SQLite Root"}))
    (def on-pg (ca/generate {:common-name "Bench PG Root"}))
    (ca/store-save sqlite-store "root" on-sqlite)
    (ca/store-save pg-store "root" on-pg)
    (ca/store-save pg-store "shared" (ca/generate {:common-name "Bench Shared Root"}))
    (ca/store-save (ca/open-store (string dir "/shared.db")) "shared" (ca/generate {:common-name "Bench Shared Root"}))
    (def rounds 9)
    (def n (max 1 (div issues rounds)))
    (def mem (per-op n 3 (fn [_] (:issue memory opts))))
    (def [{:sqlite sq :pg pg} pg-ratio]
      (interleaved n rounds :sqlite :pg {:sqlite (fn [_] (:issue on-sqlite opts)) :pg (fn [_] (:issue on-pg opts))}))
    # one process, then four, three times over; the median of the three ratios
    (def pairs (seq [_ :range [0 3]]
                 (def alone (throughput url "shared" 1 (* 2 issues)))
                 [alone (throughput url "shared" 4 issues)]))
    (def one (median (map first pairs)))
    (def four (median (map last pairs)))
    (def four-ratio (median (map (fn [[o f]] (/ f o)) pairs)))
    (def sq-one (throughput (string dir "/shared.db") "shared" 1 (* 2 issues)))
    (def sq-four (throughput (string dir "/shared.db") "shared" 4 issues))
    (def rows (+ issues 1))
    (def rng (math/rng 7))
    (def lookup (per-op 2000 3 (fn [_] (ca/get-status on-pg (+ 1 (math/rng-int rng rows))))))
    (def [size count der]
      (map scan-number
           (string/split "|" (string/trim (sh "bash" cluster-script "sql" dir "primary"
                                              (string "SELECT pg_total_relation_size('jsec_ca.issued'), count(der), sum(octet_length(der)) "
                                                      "FROM jsec_ca.issued"))))))
    (printf "store-pg benchmark (%d issues a figure; PostgreSQL on loopback, fsync on)" issues)
    (printf "  :issue in memory                 %s" (ms mem))
    (printf "  :issue, SQLite store             %s" (ms sq))
    (printf "  :issue, PostgreSQL store         %s   = %.2fx SQLite (target: within 2x; median of %d interleaved rounds)"
            (ms pg) pg-ratio rounds)
    (printf "  4 processes issuing at once, PostgreSQL: %6.0f/s against %6.0f/s for one = %.2fx (target: at least 1.6x; median of 3)"
            four one four-ratio)
    (printf "  4 processes issuing at once, SQLite:     %6.0f/s against %6.0f/s for one = %.2fx (for comparison)"
            sq-four sq-one (/ sq-four sq-one))
    (printf "  ca/get-status on PostgreSQL      %8.0f lookups/s (one query each, no cache)" (/ 1 lookup))
    (printf "  store size                       %.0f bytes per certificate for %.0f bytes of DER = %.2fx"
            (/ size count) (/ der count) (/ size der))))

(defn main [_ & args]
  (if (= (first args) "--issue")
    (let [[_ location name count start] args] (issue-loop location name (scan-number count) (scan-number start)))
    (bench (scan-number (or (first args) "500")))))
