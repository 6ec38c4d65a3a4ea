# Crash safety of the store (issue 13): a loop of issuances killed with
# SIGKILL at random moments, 60 times, and more until one kill has landed
# between reserving a serial and recording its certificate (a reservation
# left pending proves it). Afterwards no serial was used twice,
# every certificate a caller was handed is in the index (as issued), and the
# store passes PRAGMA integrity_check. Then four processes issue 250
# certificates each into one store: 1,000 distinct serials, all recorded.
(import ./support/check :as t)
(import ./support/issuers)
(import jsec/ca)

(def dir (t/tmpdir "store-crash"))
(def db (string dir "/ca.db"))
(def store (ca/open-store db))
# An RSA-3072 CA key: its signature (about 2 ms) sits between reserving a serial and
# recording the certificate, so kills land in that window often, even on a busy machine.
(ca/store-save store "root" (ca/generate {:common-name "Crash Root" :key-type :rsa-3072}))

(defn spawn-issuer [db count] (issuers/spawn db "root" count))
(def read-lines issuers/read-lines)

(defn index
  "The serials in the store's index of CA root, as numbers."
  [db]
  (map |(int/to-number ($ :serial)) (ca/store-find (ca/open-store db) "root" {:limit 100000})))

(defn integrity [db]
  (def [_ out] (t/python (string "import sqlite3; print(sqlite3.connect('" db "').execute('pragma integrity_check').fetchone()[0])")))
  (string/trim out))

(defn pending
  "How many serials of the store at `db` are reserved with no certificate
  recorded: each one a kill that landed between the two."
  [db]
  (def [_ out] (t/python (string "import sqlite3; print(sqlite3.connect('" db "').execute('select count(*) from issued where pending = 1').fetchone()[0])")))
  (scan-number (string/trim out)))

# 60 kills at random moments; then, while no kill has yet landed between
# reserving a serial and recording its certificate (the window the test is
# about), more, up to 300.
(def rng (math/rng (os/cryptorand 8)))
(def received @[])
(var kills 0)
(while (and (< kills 300) (or (< kills 60) (zero? (pending db))))
  (def p (spawn-issuer db 1000))
  # let it run between 0.05 and 0.4 s, then SIGKILL it wherever it is
  (array/concat received (read-lines p (+ 0.05 (* 0.35 (math/rng-uniform rng)))))
  (os/proc-kill p true :kill)
  (++ kills))
(t/ok (pos? (pending db))
      (string/format "a kill landed between reserving a serial and recording its certificate (%d kills)" kills))

(def serials (index db))
(def in-index (tabseq [s :in serials] s true))
(t/ok (> (length received) 0) (string "the killed children were handed certificates: " (length received)))
(t/same (filter |(not (in-index $)) received) @[]
        (string "every certificate a caller received is in the index (" (length received) " received, " kills " kills)"))
(t/same (length (distinct received)) (length received) "no serial was handed out twice")
(t/same (length (distinct serials)) (length serials) "no serial in the index twice")
(t/same (integrity db) "ok" "PRAGMA integrity_check after the kills")
(printf "store-crash: %d kills, %d certificates received, %d in the index, %d serials reserved by a killed call (never reused)"
        kills (length received) (length serials) (pending db))

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
