# Starting jsec/ocsp-responder.janet for a test, and asking it with the
# openssl ocsp client. Only defines things.
(import ./check :as t)

(def- here (let [f (dyn :current-file)] (if-let [i (last (string/find-all "/" f))] (string/slice f 0 i) ".")))
(def script (string here "/../../jsec/ocsp-responder.janet"))

(defn- protect-slurp [p] (try (slurp p) ([_] nil)))

(defn start
  "Spawns the responder with `flags` on a random high port, logging to
  dir/NAME-N.log; waits (bounded) until it listens. Returns {:port :proc};
  it exits by itself after 300 s."
  [dir name flags]
  (var result nil)
  (for attempt 0 5
    (when result (break))
    (def port (+ 20000 (math/floor (* 40000 (math/random)))))
    (def log-path (string dir "/" name "-" attempt ".log"))
    (def log (file/open log-path :w))
    (def p (os/spawn [(t/janet-exe) script "--port" (string port) "--max-seconds" "300" ;flags]
                     :pe (merge (os/environ) {"JANET_PATH" (t/module-root) :out log :err log})))
    (file/close log)
    (def deadline (+ (os/clock) 10))
    (var state nil)
    (while (and (nil? state) (< (os/clock) deadline))
      (def text (or (protect-slurp log-path) ""))
      (cond
        (string/find "listening" text) (set state :up)
        (string/find "error" text) (set state :failed)
        (ev/sleep 0.05)))
    (if (= state :up)
      (set result {:port port :proc p})
      (do (eprint name " did not start on port " port ": " (slurp log-path))
        (protect (os/proc-kill p true)))))
  (or result (error (string name ": responder did not start"))))
