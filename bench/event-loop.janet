# Issuing that never stalls a Janet server (issue 12), measured in one run:
#     JANET_PATH=build build/janet bench/event-loop.janet [SECONDS] [ROUNDS] [KEYS]
#
# 1. Latency. jsec/ocsp-responder.janet's `serve`, used as a library,
#    answers OCSP on loopback in this process while a client process
#    (bench/ocsp-client.janet) sends a steady 20 requests a second for
#    SECONDS (default 20) and times each from the moment it was due. Three
#    runs: the responder alone (the floor), then with a fiber of this
#    process issuing RSA-4096 certificates in a loop through ca/issue, then
#    through ca/issue-async. Prints p50, p99 and max per run.
# 2. Throughput. RSA-2048 certificates through ca/issue-async from 1, 2 and
#    4 concurrent fibers, ROUNDS (default 5) rounds of KEYS (default 32)
#    certificates each, the modes interleaved within each round (a round
#    ends when its last key is back, so few keys per round would measure
#    the wait for one slow RSA key on an otherwise idle core); prints the
#    median rate per mode and its ratio to the single caller. ca/issue
#    (synchronous, one caller) is the floor. The CPU seconds this process
#    got per wall second tell whether the cores were free (about 2 for the
#    concurrent modes on two idle cores); certificates per CPU second,
#    whether concurrency cost anything. The ceiling: what two processes of
#    raw OpenSSL (`openssl speed -multi 2 rsa2048`) get against one, in the
#    same rounds: 2.0 on two free cores.
#
# SECONDS 0 skips the latency runs, ROUNDS 0 the throughput. A request
# without an answer after 30 s counts as infinitely late ("timeout").
# Loopback only; bounded: 20 x SECONDS requests a run, a 30 s timeout per
# request, and the whole run exits after 15 minutes. Asserts nothing.
(import jsec/ca)
(import ../jsec/ocsp-responder :as responder)

(def seconds (scan-number (or (get (dyn :args) 1) "20")))
(def rounds (scan-number (or (get (dyn :args) 2) "5")))
(def keys-per-round (scan-number (or (get (dyn :args) 3) "32")))
(def rate 20)
(def host "127.0.0.1")
(def here (let [f (os/realpath (dyn :current-file))] (string/slice f 0 (- (length f) (length "/event-loop.janet")))))
(def dir (string "/tmp/jsec-bench-event-loop-" (os/getpid)))
(os/mkdir dir)

(ev/spawn (ev/sleep 900) (eprint "bench/event-loop: over 15 minutes, giving up") (os/exit 1))

(defn loadavg [] (string/join (slice (string/split " " (slurp "/proc/loadavg")) 0 3) " "))
(def load-before (loadavg))

# --- the responder and its requests ------------------------------------------------

(def the-ca (ca/generate {:common-name "Bench Event Loop Root"}))
(def leaf (ca/issue the-ca {:common-name "leaf.example"}))
(spit (string dir "/ca.pem") (ca/get-cert the-ca))
(spit (string dir "/leaf.pem") (leaf :cert))
(os/execute ["openssl" "ocsp" "-issuer" (string dir "/ca.pem") "-cert" (string dir "/leaf.pem")
             "-no_nonce" "-reqout" (string dir "/req.der")] :px {:out (file/open "/dev/null" :w)})

(defn- percentile [sorted-xs p]
  (get sorted-xs (min (dec (length sorted-xs)) (math/floor (* p (length sorted-xs))))))

(defn- ms [s]
  (cond
    (nil? s) "        -"
    (= s math/inf) "  timeout"
    (string/format "%9.2f" (* 1000 s))))

(defn- load-run
  "Runs the client for `seconds` while `issuer` (a function or nil) issues in
  a fiber of this process, the responder at `port`; returns the latencies,
  failures and issues."
  [port issuer]
  (var issuing true)
  (var issued 0)
  (def stopped (ev/chan 1))
  (when issuer
    (ev/spawn
      (while issuing (issuer) (++ issued))
      (ev/give stopped true)))
  (def p (os/spawn [(dyn :executable) (string here "/ocsp-client.janet") host (string port)
                    (string dir "/req.der") (string rate) (string (* rate seconds))]
                   :p {:out :pipe}))
  (def out (:read (p :out) :all))
  (:wait p)
  (set issuing false)
  (when issuer (ev/take stopped))
  (def {:latencies ls :failures failures} (parse out))
  # a request that got no answer within the client's 30 s counts as infinitely late
  {:latencies (sorted [;ls ;(array/new-filled failures math/inf)]) :failures failures :issued issued})

(def rsa-4096 {:common-name "big.example" :key-type :rsa-4096})
(def runs
  [["the responder alone" nil]
   ["while ca/issue makes RSA-4096 keys" |(do (ca/issue the-ca rsa-4096) (ev/sleep 0))]
   ["while ca/issue-async makes RSA-4096 keys" |(ca/issue-async the-ca rsa-4096)]])

(when (pos? seconds)
# (The responder logs "Broken pipe" on stderr for each request the client gave up on.)
(def server (responder/serve the-ca host 0))
(def port (in (net/localname server) 1))
(printf "OCSP latency, %d requests/s for %d s (%d requests a run), loopback, one connection each:"
        rate seconds (* rate seconds))
(printf "| %-42s | %9s | %9s | %9s | %8s | %14s |" "run" "p50 ms" "p99 ms" "max ms" "failures" "RSA-4096 certs")
(printf "|%s|%s|%s|%s|%s|%s|" (string/repeat "-" 44) (string/repeat "-" 11) (string/repeat "-" 11)
        (string/repeat "-" 11) (string/repeat "-" 10) (string/repeat "-" 16))
(def p99s @{})
(each [name issuer] runs
  (def {:latencies ls :failures f :issued n} (load-run port issuer))
  (put p99s name (percentile ls 0.99))
  (printf "| %-42s | %s | %s | %s | %8d | %14s |" name (ms (percentile ls 0.5)) (ms (percentile ls 0.99))
          (ms (last ls)) f (if issuer (string n) "-")))
(:close server))

# --- throughput ----------------------------------------------------------------------

(def rsa-2048 {:common-name "tp.example" :key-type :rsa-2048})

(defn- rate-of
  "When `callers` fibers issue `n` RSA-2048 certificates in all with `issue`:
  [certificates a second, CPU seconds of this process per wall second]. The
  second shows whether the keys were made in parallel (about 2 on two idle
  cores) or the machine's other load took the cores."
  [callers n issue]
  (def done (ev/chan callers))
  (var left n)
  (def t0 (os/clock :monotonic))
  (def c0 (os/clock :cputime))
  (repeat callers
    (ev/spawn
      (while (> left 0) (-- left) (issue the-ca rsa-2048))
      (ev/give done true)))
  (repeat callers (ev/take done))
  (def wall (- (os/clock :monotonic) t0))
  [(/ n wall) (/ (- (os/clock :cputime) c0) wall)])

(defn- openssl-sign-rate
  "RSA-2048 signatures a second of `openssl speed` in `processes` processes at once (their sum)."
  [processes]
  (def p (os/spawn ["openssl" "speed" "-seconds" "1" "-mr" ;(if (> processes 1) ["-multi" (string processes)] [])
                    "rsa2048"]
                   :p {:out :pipe :err (file/open "/dev/null" :w)}))
  (def out (string (:read (p :out) :all)))
  (:wait p)
  (def line (find |(string/has-prefix? "+F2:" $) (string/split "\n" out)))
  (and line (scan-number (get (string/split ":" line) 3))))

(def modes
  [["ca/issue, 1 caller (floor)" 1 ca/issue]
   ["ca/issue-async, 1 caller" 1 ca/issue-async]
   ["ca/issue-async, 2 concurrent fibers" 2 ca/issue-async]
   ["ca/issue-async, 4 concurrent fibers" 4 ca/issue-async]])
(when (pos? rounds)
(def rates (seq [_ :in modes] @[]))
(def cpu (seq [_ :in modes] @[]))
(def ceiling @[])
(for r 0 rounds
  (def one (openssl-sign-rate 1))
  (def two (openssl-sign-rate 2))
  (when (and one two) (array/push ceiling (/ two one)))
  (eachp [i [_ callers issue]] modes
    (def [per-second cores] (rate-of callers keys-per-round issue))
    (array/push (rates i) per-second)
    (array/push (cpu i) cores)))
(def medians (map |(percentile (sorted $) 0.5) rates))
(def single (medians 1))
(printf "\nRSA-2048 throughput: median of %d rounds of %d certificates per mode (%d keys per mode), modes interleaved:"
        rounds keys-per-round (* rounds keys-per-round))
(printf "| %-38s | %10s | %16s | %17s | %16s |" "mode" "certs/s" "x single caller" "CPU s per wall s" "certs per CPU s")
(printf "|%s|%s|%s|%s|%s|" (string/repeat "-" 40) (string/repeat "-" 12) (string/repeat "-" 18)
        (string/repeat "-" 19) (string/repeat "-" 18))
(eachp [i [name]] modes
  (def cores (percentile (sorted (cpu i)) 0.5))
  (printf "| %-38s | %10.2f | %16.2f | %17.2f | %16.2f |" name (medians i) (/ (medians i) single) cores
          (/ (medians i) cores)))
(printf "Ceiling of this machine now: raw OpenSSL in 2 processes does %.2fx the RSA-2048 signatures of 1"
        (or (percentile (sorted ceiling) 0.5) 0))
(printf "(openssl speed -multi 2 rsa2048 against one process, median of %d rounds, interleaved with the modes)."
        (length ceiling)))

(printf "\nload average before %s, after %s; %d CPUs" load-before (loadavg) (os/cpu-count))
(os/execute ["rm" "-rf" dir] :p)
(os/exit 0)
