# Runs test/support/acme-fleet.py (ACME across acme-serve processes on one
# store, finalizes cut short) and judges what it reports against the CA's
# index. Only defines things.
(import ./check :as t)
(import jsec/ca)

(def- here (let [f (dyn :current-file)] (if-let [i (last (string/find-all "/" f))] (string/slice f 0 i) ".")))
(def script (string here "/acme-fleet.py"))

(defn require-tools
  "Skips `suite` (a failure in CI) without python3's cryptography or openssl."
  [suite]
  (each tool ["python3" "openssl"]
    (unless (zero? (first (try (t/run "sh" "-c" (string "command -v " tool)) ([_] [1]))))
      (t/skip suite (string tool " is not installed"))))
  (unless (zero? (first (t/run "python3" "-c" "import cryptography")))
    (t/skip suite "python3 cryptography is not installed (scripts/setup installs it)")))

(defn- bindable? [port]
  (def [ok s] (protect (net/listen "127.0.0.1" port)))
  (when ok (:close s))
  ok)

(defn free-ports
  "`n` consecutive ports from a random base, each free now (others share this
  machine), all below Linux's ephemeral range (32768-60999): a port free when
  chosen there could be taken by any outgoing connection's local end before a
  server binds it (seen once: acme-serve could not listen, a CI run failed)."
  [n]
  (def rng (math/rng (os/cryptorand 8)))
  (var found nil)
  (while (not found)
    (def base (+ 20000 (math/rng-int rng 12000)))
    (def ports (seq [i :range [0 n]] (+ base i)))
    (when (all bindable? ports) (set found ports)))
  found)

(defn wait-port [port]
  (var up false)
  (for i 0 300
    (when (protect (:close (net/connect "127.0.0.1" port)))
      (set up true) (break))
    (ev/sleep 0.1))
  up)

(defn drive
  "Runs acme-fleet.py with `args` under `env` (bounded by `seconds`): each
  PASS/FAIL line becomes a check, and it must end with DONE. Returns
  @{:orders @[[name serial url pem] ...] :slow @[[name first-serial] ...] :stats @{key value}}."
  [env seconds & args]
  (def [code out] (t/run-in env nil "timeout" "-k" "5" (string seconds) "python3" script ;args))
  (def r @{:orders @[] :slow @[] :stats @{}})
  (var n 0)
  (each line (string/split "\n" out)
    (def words (string/split " " line))
    (cond
      (string/has-prefix? "PASS " line) (do (++ n) (t/ok true line))
      (string/has-prefix? "FAIL " line) (do (++ n) (t/ok false line))
      (string/has-prefix? "ORDER " line) (array/push (r :orders) (slice words 1))
      (string/has-prefix? "SLOW " line) (array/push (r :slow) (slice words 1))
      (string/has-prefix? "STAT " line) (put (r :stats) (words 1) (string/join (slice words 2) " "))))
  (t/ok (and (zero? code) (string/find (string "DONE " n) out))
        (string "acme-fleet.py " (first args) " ran to the end (exit " code ", " n " checks): " out))
  r)

(defn hex
  "A serial as lower-case hex without leading zeros (\"0x..\", an int/s64, or hex)."
  [s]
  (def text (if (= :string (type s)) s (string/format "%x" (int/to-number s))))
  (def h (string/ascii-lower (if (string/has-prefix? "0x" text) (string/slice text 2) text)))
  (var i 0)
  (while (and (< i (dec (length h))) (= (h i) (chr "0"))) (++ i))
  (string/slice h i))

(defn index
  "Every certificate the CA `name` of the store at `location` issued."
  [location name]
  (def store (ca/open-store location))
  (def rows (ca/store-find store name {:limit 100000}))
  (ca/store-close store)
  rows)

(defn rows-for
  "The index rows whose SANs hold exactly DNS:`host`."
  [rows host]
  (filter (fn [r] (index-of (string "DNS:" host) (r :san))) rows))

(defn judge-orders
  "Against the index: each completed order's certificate is in it, good, the
  only good one for its name; with `alone`, the only one at all; others (a
  slow process's, `slow`) revoked as superseded, never handed out."
  [rows orders &opt alone]
  (each [name serial] orders
    (def mine (rows-for rows name))
    (def good (filter |(= :good ($ :status)) mine))
    (t/same (map |(hex ($ :serial)) good) @[(hex serial)]
            (string name ": one good certificate in the CA's index, the order's"))
    (if alone
      (t/same (length mine) 1 (string name ": the CA's index holds one certificate for it, no second issuance"))
      (each r mine
        (unless (= :good (r :status))
          (t/ok (= :superseded (r :revocation-reason))
                (string name ": another certificate for it (" (hex (r :serial)) ") is revoked as superseded: " (r :revocation-reason))))))))

(defn crash-suite
  "The finalize crash and takeover checks on the store at `location` (db:
  \"sqlite:PATH\" or \"pg:DIR\" for reading it from Python), in `dir`. The CA
  signs with RSA-3072, so that its signature (milliseconds) and the commits
  around it leave a window between the order marked processing and its
  certificate attached that kills and stops land in."
  [suite location db dir &opt env]
  (def env (merge {"JANET_PATH" (t/module-root)} (or env {})))
  (def store (ca/open-store location))
  (ca/store-save store "root" (ca/generate {:common-name (string suite " Root") :key-type :rsa-3072}))
  (ca/store-close store)
  (def [port pa pb http01] (free-ports 4))
  (def lease 1)
  (defn serve [p]
    [(t/janet-exe) (string (os/cwd) "/bin/jsec-ca") "acme-serve" "--store" location "--port" (string p)
     "--base-url" "http://acme.crash.test" "--allowed-domains" "crash.test,slow.test"
     "--validation-address" "127.0.0.1" "--http-01-port" (string http01) "--finalize-lease" (string lease)
     "--max-seconds" "600"])
  (def t0 (os/clock :monotonic))
  (def crash (drive env 240 "crash" "--base" "http://acme.crash.test" "--port" (string port) "--http01" (string http01)
                    "--db" db "--lease" (string lease) "--log" (string dir "/crash.log") "--" ;(serve port)))
  (def crash-seconds (- (os/clock :monotonic) t0))
  (def t1 (os/clock :monotonic))
  (def slow (drive env 240 "slow" "--base" "http://acme.crash.test" "--ports" (string pa "," pb) "--http01" (string http01)
                   "--db" db "--lease" "2" "--attempts" "200" "--log" (string dir "/slow.log") "--"
                   ;(serve "{port}")))
  (def slow-seconds (- (os/clock :monotonic) t1))
  (def rows (index location "root"))
  (def kills (scan-number (get-in crash [:stats "kills"] "0")))
  (t/ok (>= (length (crash :orders)) kills) (string "every order killed under its finalize completed: " (length (crash :orders))))
  (judge-orders rows (crash :orders) true)
  (t/ok (pos? (length (slow :slow))) "the stalled-process case ran")
  (judge-orders rows (slow :orders))
  (t/same (length (distinct (map |(hex ($ :serial)) rows))) (length rows) "no serial twice in the index")
  (printf "%s: %s kills, %s landed inside the finalize (%s; takeovers %s), %.1f s; slow process: %s stops (%s holding a lock), %.1f s"
          suite (get-in crash [:stats "kills"] "?") (get-in crash [:stats "landed"] "?") (get-in crash [:stats "outcomes"] "")
          (get-in crash [:stats "takeovers"] "?")
          crash-seconds (get-in slow [:stats "slow-attempts"] "?") (get-in slow [:stats "slow-locked"] "?") slow-seconds))
