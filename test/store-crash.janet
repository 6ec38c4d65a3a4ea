# Crash safety of the store (issue 13): a loop of issuances killed with
# SIGKILL at random moments, 60 times. Afterwards no serial was used twice,
# every certificate a caller was handed is in the index (as issued), and the
# store passes PRAGMA integrity_check. Then four processes issue 250
# certificates each into one store: 1,000 distinct serials, all recorded.
(import ./support/check :as t)
(import jsec/ca)

(def dir (t/tmpdir "store-crash"))
(def db (string dir "/ca.db"))
(def store (ca/open-store db))
(ca/store-save store "root" (ca/generate {:common-name "Crash Root"}))

(def child (string (os/cwd) "/test/support/store-issuer.janet"))
(def env (merge (os/environ) {"JANET_PATH" (t/module-root)}))

(defn spawn-issuer [db count]
  (os/spawn [(t/janet-exe) child "--run" db "root" (string count)] :pe (merge env {:out :pipe})))

(defn read-lines
  "Reads what `p` printed until it exits or `seconds` pass; returns the serials
  it was handed (numbers)."
  [p seconds]
  (def buf @"")
  (def deadline (+ (os/clock) seconds))
  (while (< (os/clock) deadline)
    (def chunk (try (ev/with-deadline (- deadline (os/clock)) (:read (p :out) 4096)) ([_] nil)))
    (if chunk (buffer/push buf chunk) (break)))
  (seq [line :in (string/split "\n" buf) :when (string/has-prefix? "got " line)]
    (scan-number (string "0x" (string/slice line 4)))))

(defn index
  "The serials in the store's index of CA root, as numbers."
  [db]
  (map |(int/to-number ($ :serial)) (ca/store-find (ca/open-store db) "root" {:limit 100000})))

(defn integrity [db]
  (def [_ out] (t/python (string "import sqlite3; print(sqlite3.connect('" db "').execute('pragma integrity_check').fetchone()[0])")))
  (string/trim out))

(def rng (math/rng (os/cryptorand 8)))
(def received @[])
(def kills 60)
(for k 0 kills
  (def p (spawn-issuer db 1000))
  # let it run between 0.05 and 0.4 s, then SIGKILL it wherever it is
  (array/concat received (read-lines p (+ 0.05 (* 0.35 (math/rng-uniform rng)))))
  (os/proc-kill p true :kill))

(def serials (index db))
(def in-index (tabseq [s :in serials] s true))
(t/ok (> (length received) 0) (string "the killed children were handed certificates: " (length received)))
(t/same (filter |(not (in-index $)) received) @[]
        (string "every certificate a caller received is in the index (" (length received) " received, " kills " kills)"))
(t/same (length (distinct received)) (length received) "no serial was handed out twice")
(t/same (length (distinct serials)) (length serials) "no serial in the index twice")
(t/same (integrity db) "ok" "PRAGMA integrity_check after the kills")
(def [_ pending] (t/python (string "import sqlite3; print(sqlite3.connect('" db "').execute('select count(*) from issued where pending = 1').fetchone()[0])")))
(printf "store-crash: %d kills, %d certificates received, %d in the index, %s serials reserved by a killed call (never reused)"
        kills (length received) (length serials) (string/trim pending))

# After the crashes the counter goes on: a fresh issue takes a serial no row has.
(def survivor (ca/store-load (ca/open-store db) "root"))
(def fresh (scan-number ((t/cert-facts (t/write dir "fresh.pem" ((:issue survivor {:common-name "after.example"}) :cert))) :serial)))
(t/ok (not (in-index fresh)) (string "the serial after the crashes is new: " fresh))

# --- four processes, one store ------------------------------------------------------

(def shared (string dir "/shared.db"))
(ca/store-save (ca/open-store shared) "root" (ca/generate {:common-name "Shared Root"}))
(def procs (seq [_ :range [0 4]] (spawn-issuer shared 250)))
(def handed (mapcat |(read-lines $ 120) procs))
(each p procs (:wait p))
(def recorded (index shared))
(t/same (length handed) 1000 "four processes were handed 250 certificates each")
(t/same (length (distinct handed)) 1000 "1,000 distinct serials across the four processes")
(t/same (sort (array ;recorded)) (sort (array ;handed)) "every one of them is recorded, and nothing else")
(t/same (integrity shared) "ok" "PRAGMA integrity_check after the concurrent run")

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-crash")
