# A steady OCSP load, the client side of bench/event-loop.janet:
#     janet bench/ocsp-client.janet HOST PORT REQUEST.der RATE COUNT
# POSTs the DER request in REQUEST.der to the responder COUNT times, RATE
# requests a second, each on a connection and in a fiber of its own, and
# times each from the moment it was due to the last byte of the answer: a
# server that stalls shows as the wait it causes, not as fewer requests
# sent. Prints {:latencies [seconds ...] :failures n} as JDN; a request that
# fails or gets no 200 within 30 s counts as a failure.

(def timeout 30)

(defn- ask
  "Sends one request; the seconds from `due` to the whole answer, or nil."
  [host port request due]
  (try
    (with [conn (net/connect host port)]
      (:write conn request)
      (def answer (:read conn :all nil timeout))
      (when (and answer (string/has-prefix? "HTTP/1.0 200" answer))
        (- (os/clock :monotonic) due)))
    ([_] nil)))

(defn main [_ host port request-path rate n]
  (def der (slurp request-path))
  (def request (string "POST / HTTP/1.0\r\nContent-Type: application/ocsp-request\r\n"
                       "Content-Length: " (length der) "\r\n\r\n" der))
  (def rate (scan-number rate))
  (def n (scan-number n))
  (def answers (ev/chan n))
  (def start (os/clock :monotonic))
  (for i 0 n
    (def due (+ start (/ i rate)))
    (def wait (- due (os/clock :monotonic)))
    (when (> wait 0) (ev/sleep wait))
    (ev/spawn (ev/give answers (ask host port request due))))
  (def results (seq [_ :range [0 n]] (ev/take answers)))
  (printf "%j" {:latencies (filter number? results) :failures (count nil? results)}))
