# Issuing child processes (test/support/store-issuer.janet) for the store's
# crash and concurrency tests, and what they were handed. Only defines things.
(import ./check :as t)

(def- here (let [f (dyn :current-file)] (if-let [i (last (string/find-all "/" f))] (string/slice f 0 i) ".")))
(def child (string here "/store-issuer.janet"))

(defn spawn
  "A child issuing `count` certificates from CA `name` of the store at
  `location`, printing \"got SERIAL\" for each one it was handed."
  [location name count]
  (os/spawn [(t/janet-exe) child "--run" location name (string count)]
            :pe (merge (os/environ) {"JANET_PATH" (t/module-root) :out :pipe})))

(defn serials-in
  "The serials (numbers) in the \"got SERIAL\" lines of `text`."
  [text]
  (seq [line :in (string/split "\n" text) :when (string/has-prefix? "got " line)]
    (scan-number (string "0x" (string/slice line 4)))))

(defn read-lines
  "Reads what `p` printed until it exits or `seconds` pass; returns the serials
  it was handed (numbers)."
  [p seconds]
  (def buf @"")
  (def deadline (+ (os/clock) seconds))
  (while (< (os/clock) deadline)
    (def chunk (try (ev/with-deadline (- deadline (os/clock)) (:read (p :out) 4096)) ([_] nil)))
    (if chunk (buffer/push buf chunk) (break)))
  (serials-in buf))

(defn read-until
  "Reads what `p` prints until it was handed `n` certificates (or exits);
  returns the serials so far."
  [p n]
  (def buf @"")
  (while (and (< (length (serials-in buf)) n) (:read (p :out) 4096 buf)))
  (serials-in buf))
