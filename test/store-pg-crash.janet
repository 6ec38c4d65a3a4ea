# Several processes, one CA, on PostgreSQL (issue 15): serials come from the
# database and never repeat; faults are errors, not losses.
# - Four processes issue 250 certificates each: 1,000 distinct serials, all
#   recorded, nothing else.
# - Four issue again and one is SIGKILLed mid-run (and a lone issuer is
#   killed at random moments, 5 times, and more until one kill has landed
#   between reserving a serial and recording its certificate): every
#   certificate a caller was handed is in the index, no serial twice, no
#   half-written row.
# - The primary stopped and started during a run of issuances: the calls
#   during the outage are [CA:RESOURCE] errors naming the store (never its
#   password), the calls after it succeed with the same CA value, and no
#   serial repeats. A restart between two calls is not even an error.
# - A connection dropped mid-call (terminated while it waits for a lock) is
#   a [CA:RESOURCE] error, and the next call works.
(import ./support/check :as t)
(import ./support/issuers)
(import ./support/pg)
(import jsec/ca)

(pg/require "store-pg-crash")

(def dir (t/tmpdir "store-pg-crash"))

(with [c (pg/start dir) pg/stop]
  (def url (c :primary))
  (def store (ca/open-store url))
  (each name ["shared" "killed" "outage"]
    (ca/store-save store name (ca/generate {:common-name (string "PG " name " Root")})))

  (defn index
    "The serials in the index of CA `name`, as numbers."
    [name]
    (map |(int/to-number ($ :serial)) (ca/store-find (ca/open-store url) name {:limit 100000})))
  (defn half-written
    "Serials the counter of CA `name` handed out that are neither pending
    (reserved, no certificate) nor recorded with their certificate."
    [name]
    (pg/sql c (string "SELECT count(*) FROM jsec_ca.issued i JOIN jsec_ca.ca c ON c.id = i.ca "
                      "WHERE c.name = '" name "' AND i.serial < 9223372036854775807 AND (pending <> (der IS NULL))")))

  # --- four processes, one CA -----------------------------------------------------------

  (def procs (seq [_ :range [0 4]] (issuers/spawn url "shared" 250)))
  (def handed (mapcat |(issuers/read-lines $ 300) procs))
  (t/same (map |(:wait $) procs) @[0 0 0 0] "the four issuers finish")
  (t/same (length handed) 1000 "four processes were handed 250 certificates each")
  (t/same (length (distinct handed)) 1000 "1,000 distinct serials across the four processes")
  (t/same (sort (index "shared")) (sort (array ;handed)) "every one of them is recorded, and nothing else")
  (t/same (half-written "shared") "0" "no row is half-written")

  # --- SIGKILL mid-run -----------------------------------------------------------------

  (def received @[])
  (def victims (seq [_ :range [0 4]] (issuers/spawn url "killed" 60)))
  (array/concat received (issuers/read-until (first victims) 20))
  (os/proc-kill (first victims) true :kill)
  (each p (drop 1 victims) (array/concat received (issuers/read-lines p 300)) (:wait p))
  (defn pending
    "How many serials of CA killed are reserved with no certificate recorded:
    each one a kill that landed between the two."
    []
    (scan-number (pg/sql c (string "SELECT count(*) FROM jsec_ca.issued i JOIN jsec_ca.ca c ON c.id = i.ca "
                                   "WHERE c.name = 'killed' AND i.pending"))))
  # 5 kills at random moments; then, while no kill has yet landed between
  # reserving a serial and recording its certificate, more, up to 50.
  (def rng (math/rng (os/cryptorand 8)))
  (var kills 1)
  (while (and (< kills 51) (or (< kills 6) (zero? (pending))))
    (def p (issuers/spawn url "killed" 1000))
    (array/concat received (issuers/read-until p (+ 1 (math/rng-int rng 30))))
    (os/proc-kill p true :kill)
    (++ kills))
  (t/ok (pos? (pending))
        (string/format "a kill landed between reserving a serial and recording its certificate (%d kills)" kills))
  (def in-index (tabseq [s :in (index "killed")] s true))
  (t/ok (>= (length received) (+ 20 180 5)) (string "the issuers were handed certificates: " (length received)))
  (t/same (filter |(not (in-index $)) received) @[]
          (string "every certificate a caller received is in the index (" (length received) " received, " kills " kills)"))
  (t/same (length (distinct received)) (length received) "no serial was handed out twice")
  (t/same (half-written "killed") "0" "no row is half-written: a killed call's reservation stays pending, unrecorded")
  (def after-kills (ca/store-load (ca/open-store url) "killed"))
  (def fresh (scan-number ((t/cert-facts (t/write dir "fresh.pem" ((:issue after-kills {:common-name "after.example"}) :cert))) :serial)))
  (t/ok (not (in-index fresh)) (string "the serial after the kills is new: " fresh))
  (printf "store-pg-crash: %d kills, %d certificates received, %d reservations left pending by killed calls (never reused)"
          kills (length received) (pending))

  # --- the primary stopped and started during a run of issuances -------------------------

  (def authority (ca/store-load (ca/open-store url) "outage"))
  (def serials @[])
  (defn issue []
    (def [ok v] (protect (:issue authority {:common-name "outage.example"})))
    (when ok (array/push serials (scan-number ((t/cert-facts (t/write dir "o.pem" (v :cert))) :serial))))
    [ok v])
  (for _ 0 5 (issue))
  (pg/primary c :stop)
  (def during (seq [_ :range [0 3]] (issue)))
  (def [status-ok status-msg] (protect (ca/get-status authority 1)))
  (pg/primary c :start)
  (def after (seq [_ :range [0 5]] (issue)))
  (def location (string/replace (string ":" (c :password) "@") "@" url))
  (each [ok msg] during
    (t/ok (and (not ok) (t/refusal? msg "[CA:RESOURCE]") (string/find location msg)
               (string/find "cannot reach the database" msg) (not (string/find (c :password) msg)))
          (string "an issue during the outage is a clear error naming the store: " msg)))
  (t/ok (and (not status-ok) (t/refusal? status-msg "[CA:RESOURCE]"))
        (string "so is a status lookup: " status-msg))
  (t/same (map first after) @[true true true true true] "the calls after the outage succeed with the same CA value")
  (t/same (length serials) 10 "ten certificates were issued around the outage")
  (t/same (length (distinct serials)) 10 "no serial repeats across the outage")
  (t/same (sort (index "outage")) (sort (array ;serials)) "each is recorded, and nothing else")
  # a restart while the CA value is idle: its next call reconnects by itself
  (pg/primary c :stop)
  (pg/primary c :start)
  (t/same (first (issue)) true "the first call after a restart between calls succeeds")
  (t/same ((ca/get-status authority (last serials)) :status) :good "and so does a status lookup")

  # --- a connection dropped mid-call ------------------------------------------------------

  # one session locks the index against writers; another terminates every jsec-ca
  # backend that waits for a lock, every 0.1 s for 2 s
  (def holder (pg/sql-proc c ["BEGIN" "LOCK TABLE jsec_ca.issued IN EXCLUSIVE MODE" `\echo locked`
                              "SELECT pg_sleep(2.5)" "COMMIT"]))
  (def seen @"")
  (while (not (string/find "locked" seen))
    (unless (:read (holder :out) 64 seen) (error (string "the holder did not lock: " seen))))
  (def killer (pg/sql-proc c [(string "DO $$ BEGIN FOR i IN 1..20 LOOP PERFORM pg_stat_clear_snapshot(); "
                                      "PERFORM pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE application_name = 'jsec-ca' AND wait_event_type = 'Lock'; "
                                      "PERFORM pg_sleep(0.1); END LOOP; END $$")]))
  (def [dropped-ok dropped] (issue))
  (:wait holder)
  (:wait killer)
  (t/ok (and (not dropped-ok) (t/refusal? dropped "[CA:RESOURCE]") (string/find "connection" dropped))
        (string "a connection dropped mid-call is a clear error: " dropped))
  (t/same (first (issue)) true "the next call works on a new connection")
  (t/same (length (distinct serials)) (length serials) "no serial repeats")
  (t/same (sort (index "outage")) (sort (array ;serials)) "everything handed out is recorded")
  (t/same (half-written "outage") "0" "no row is half-written"))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-pg-crash")
