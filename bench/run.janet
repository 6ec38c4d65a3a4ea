# bench/run.janet: the benchmark of issue 7.
#
#     bash scripts/bench                               # builds first, then this
#     JANET_PATH=build build/janet bench/run.janet     # after scripts/build and
#                                                      # cargo build --release --example bench_floor
#     ... bench/run.janet --quick                      # smoke run: small counts, sizes / 10, targets not judged
#
# Drives jsec/ca through Janet exactly as users do, and in the same run
# measures the floors (examples/bench_floor.rs: raw OpenSSL through the
# openssl crate, the library the module uses) and the peer (bench/peer.py:
# Python `cryptography` building the same certificates). Each timing is the
# median over several rounds. The floor and the peer of an operation run (as
# child processes) right before the module's measurement of it, one at a
# time, never alongside a measurement. Prints one table, the CRL / revoke /
# tracking lines, and the targets of issue 7 with PASS or MISS. Timings are
# only as quiet as the machine: the run notes a busy machine.

(import jsec/ca)

(def quick (truthy? (index-of "--quick" (dyn :args))))

# ------------------------------------------------------------------ helpers

(defn- dirname [path]
  (if-let [i (last (string/find-all "/" path))] (string/slice path 0 i) "."))

(def root (dirname (dirname (os/realpath (dyn :current-file)))))
(def work (string "/tmp/jsec-bench-" (math/rng-int (math/rng (os/cryptorand 8)) 2000000000)))

(defn- now [] (os/clock :monotonic))

(defn- median [xs]
  (def s (sorted xs))
  (def n (length s))
  (if (odd? n)
    (s (div n 2))
    (/ (+ (s (dec (div n 2))) (s (div n 2))) 2)))

(defn- scaled [n] (if quick (max 1 (div n 10)) n))

(defn- quartile [sorted-xs q]
  (def x (* q (dec (length sorted-xs))))
  (def lo (math/floor x))
  (def hi (math/ceil x))
  (+ (sorted-xs lo) (* (- (sorted-xs hi) (sorted-xs lo)) (- x lo))))

(def spread
  "operation -> [p25 p75] of its rounds, seconds per call."
  @{})

(defn measure
  "Median seconds per call of f over `rounds` rounds of `iters` calls, after one
  warm-up call. The quartiles of the rounds go to (spread name) when name is given."
  [rounds iters f &opt name]
  (f)
  (def per-round
    (sorted
      (seq [_ :range [0 rounds]]
        (def t0 (now))
        (repeat iters (f))
        (/ (- (now) t0) iters))))
  (when name (put spread name [(quartile per-round 0.25) (quartile per-round 0.75)]))
  (median per-round))

(def- devnull (file/open "/dev/null" :w))

(defn- run-child
  "Runs argv, returns its stdout; stderr passes through unless `quiet`. Errors on a non-zero exit."
  [argv &opt quiet]
  (def p (os/spawn argv :p (if quiet {:out :pipe :err devnull} {:out :pipe})))
  (def out (:read (p :out) :all))
  (def code (os/proc-wait p))
  (unless (zero? code)
    (errorf "%s exited with %d" (string/join argv " ") code))
  (or out ""))

(defn- sh [& argv] (run-child argv true))

(defn- parse-lines
  "Lines `<kind> <name> <seconds>` of a child's output into a table name -> seconds."
  [kind out]
  (def t @{})
  (each line (string/split "\n" out)
    (def w (string/split " " (string/trim line)))
    (when (and (= 3 (length w)) (= kind (w 0)))
      (put t (w 1) (scan-number (w 2)))))
  t)

(defn- vm-rss-kb []
  (def s (slurp "/proc/self/status"))
  (scan-number (first (peg/match ~(* (thru "VmRSS:") :s* (<- :d+)) s))))

(defn- der-length
  "Bytes of the DER inside one 64-column PEM certificate (base64 length arithmetic, no decoding)."
  [pem]
  (def head (length "-----BEGIN CERTIFICATE-----\n"))
  (def body (- (length pem) head (length "-----END CERTIFICATE-----\n")))
  (def chars (- body (math/ceil (/ body 65))))
  (def end (- (length pem) (length "-----END CERTIFICATE-----\n") 1))
  (def pad (cond (= (pem (- end 2)) (chr "=")) 2 (= (pem (- end 1)) (chr "=")) 1 0))
  (- (* 3 (div chars 4)) pad))

(defn- fmt [x spec] (if x (string/format spec x) "-"))

# ------------------------------------------------------------------ tracking (a child process)

# `run.janet --tracking N CSR-PATH` issues N certificates from one CSR on a
# tracking CA and prints `tracked <key> <value>` lines. It runs as its own
# process so that the resident memory it measures is not hidden by memory
# freed earlier, and so that its large live heap (N tracked certificates, N PEM
# strings from :get-issued) does not slow the garbage collector in the other
# measurements.
(defn- tracking-child [n csr-path]
  (def csr (slurp csr-path))
  (def c (ca/generate {:common-name "Bench CA" :track-issued true}))
  (gccollect)
  (def rss-before (vm-rss-kb))
  (def t0 (now))
  (repeat n (:sign-csr c csr))
  (def issue-secs (/ (- (now) t0) n))
  (gccollect)
  (def rss-after (vm-rss-kb))
  (def der-total (sum (map der-length (:get-issued c))))
  (def get-issued-secs
    (median
      (seq [_ :range [0 3]]
        (gccollect)
        (def t0 (now))
        (def issued (:get-issued c))
        (def secs (- (now) t0))
        (assert (= n (length issued)) "get-issued returns every tracked certificate")
        secs)))
  (printf "tracked n %d" n)
  (printf "tracked issue-secs %.9f" issue-secs)
  (printf "tracked rss-bytes %d" (* 1024 (- rss-after rss-before)))
  (printf "tracked der-bytes %d" der-total)
  (printf "tracked get-issued-secs %.9f" get-issued-secs))

(when-let [i (index-of "--tracking" (dyn :args))]
  (def args (dyn :args))
  (tracking-child (scan-number (args (inc i))) (args (+ i 2)))
  (os/exit 0))

# ------------------------------------------------------------------ inputs

(os/mkdir work)
(def csr-path (string work "/bench.csr"))
(sh "openssl" "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
    "-keyout" (string work "/bench.key") "-subj" "/CN=bench.example" "-out" csr-path)
(def csr (slurp csr-path))

(def issue-opts
  {:ec-p256 {:common-name "bench.example" :san ["DNS:bench.example"] :extended-key-usage "serverAuth" :key-type :ec-p256}
   :ec-p384 {:common-name "bench.example" :san ["DNS:bench.example"] :extended-key-usage "serverAuth" :key-type :ec-p384}
   :rsa-2048 {:common-name "bench.example" :san ["DNS:bench.example"] :extended-key-usage "serverAuth" :key-type :rsa-2048}})

(defn- new-ca [&opt opts] (ca/generate (merge {:common-name "Bench CA"} (or opts {}))))

# An OCSP request for a certificate of a bench CA, as `openssl ocsp` writes it (with a nonce).
(def ocsp-ca (new-ca))
(def ocsp-req-path (string work "/ocsp-req.der"))
(let [ca-pem (string work "/ca.pem") leaf-pem (string work "/leaf.pem")]
  (spit ca-pem (:get-cert ocsp-ca))
  (spit leaf-pem ((:issue ocsp-ca (issue-opts :ec-p256)) :cert))
  (sh "openssl" "ocsp" "-issuer" ca-pem "-cert" leaf-pem "-reqout" ocsp-req-path))
(def ocsp-req (slurp ocsp-req-path))

# ------------------------------------------------------------------ floor and peer (child processes)

(def sizes (map scaled [10000 100000 1000000]))
(def rsa-rounds (if quick 3 61))

(def floor-bin
  (let [target (or (os/getenv "CARGO_TARGET_DIR") (string root "/target"))
        bin (string target "/release/examples/bench_floor")]
    (unless (os/stat bin)
      (sh "cargo" "build" "--release" "--quiet" "--manifest-path" (string root "/Cargo.toml")
          "--example" "bench_floor"))
    bin))

(defn- load-average [] (scan-number (first (string/split " " (slurp "/proc/loadavg")))))
(def load-at-start (load-average))

(print "jsec-ca benchmark (issue 7)" (if quick ", QUICK run: small counts, sizes / 10" ""))
(print "floor: " floor-bin)
(print "peer:  python3 bench/peer.py")

# The floor and the peer of each operation run right before the module's own
# measurement of it, so that all three see the same machine load.
(def floor @{})
(def floor-p25 @{})
(def floor-p75 @{})
(def peer @{})

(defn- run-floor [& specs]
  (def out (run-child [floor-bin "--csr" csr-path ;specs]))
  (merge-into floor (parse-lines "floor" out))
  (merge-into floor-p25 (parse-lines "floor-p25" out))
  (merge-into floor-p75 (parse-lines "floor-p75" out)))

(defn- run-peer [& specs]
  (merge-into peer (parse-lines "peer" (run-child ["python3" (string root "/bench/peer.py") "--csr" csr-path
                                                  "--ocsp-request" ocsp-req-path ;specs]))))

# ------------------------------------------------------------------ jsec/ca, through Janet

(def n-tracked (scaled 100000))
(print "tracking: " n-tracked " certificates by :sign-csr (a child process) ...")
(def tracked
  (parse-lines "tracked"
    (run-child [(os/realpath (dyn :executable)) (os/realpath (dyn :current-file))
                "--tracking" (string n-tracked) csr-path])))
(def tracked-issue-secs (tracked "issue-secs"))
(def get-issued-secs (tracked "get-issued-secs"))
(def der-total (tracked "der-bytes"))

(def rows @[]) # [operation seconds-per-op floor-name peer-name]
(def notes @[])
(def results @{})

(defn- row [op secs floor-name peer-name]
  (array/push rows [op secs floor-name peer-name])
  (put results op secs))

(print "issuing ...")
(let [c (new-ca)]
  (run-floor (string "issue-ec-p256=" (scaled 400)))
  (run-peer (string "issue-ec-p256=" (scaled 200)))
  (row ":issue :ec-p256" (measure 5 (scaled 300) |(:issue c (issue-opts :ec-p256))) "issue-ec-p256" "issue-ec-p256")
  (run-floor (string "issue-ec-p384=" (scaled 100)))
  (run-peer (string "issue-ec-p384=" (scaled 60)))
  (row ":issue :ec-p384" (measure 5 (scaled 60) |(:issue c (issue-opts :ec-p384))) "issue-ec-p384" "issue-ec-p384")
  (run-floor (string "issue-rsa-2048=1x" rsa-rounds))
  (run-peer (string "issue-rsa-2048=1x" rsa-rounds))
  (row ":issue :rsa-2048" (measure rsa-rounds 1 |(:issue c (issue-opts :rsa-2048)) :rsa) "issue-rsa-2048" "issue-rsa-2048")
  (run-floor (string "sign-csr=" (scaled 400)))
  (run-peer (string "sign-csr=" (scaled 200)))
  (row ":sign-csr (P-256 CSR)" (measure 5 (scaled 300) |(:sign-csr c csr)) "sign-csr" "sign-csr"))

(print "OCSP ...")
(def ocsp-info (try (ca/parse-ocsp-request ocsp-req) ([e] e)))
(if (string? ocsp-info)
  (array/push notes (string "OCSP skipped: ca/parse-ocsp-request raised " ocsp-info))
  (do
    (run-floor (string "ocsp-parse=" (scaled 5000)))
    (run-peer (string "ocsp-parse=" (scaled 2000)))
    (row "ca/parse-ocsp-request" (measure 5 (scaled 5000) |(ca/parse-ocsp-request ocsp-req)) "ocsp-parse" "ocsp-parse")
    (def resp (try (:create-ocsp-response ocsp-ca ocsp-info :good) ([e] e)))
    (if (string? resp)
      (array/push notes (string "OCSP response skipped: :create-ocsp-response raised " resp))
      (do
        (run-floor (string "ocsp-sign=" (scaled 2000)))
        (run-peer (string "ocsp-response=" (scaled 400)))
        (row ":create-ocsp-response" (measure 5 (scaled 2000) |(:create-ocsp-response ocsp-ca ocsp-info :good))
             "ocsp-sign" "ocsp-response")))))

(print "revoking and CRLs ...")
(def crl-cas
  (seq [n :in sizes]
    (def c (new-ca))
    (def t0 (now))
    (for serial 1 (inc n) (:revoke c serial))
    (def secs (- (now) t0))
    (when (= n (last sizes))
      (put results :revoke-n n)
      (put results :revoke-secs secs))
    [n c]))

(each [n c] crl-cas
  (def iters (max 1 (div 200000 n)))
  (def rounds (if (>= n 1000000) 3 5))
  (run-floor (string "crl-" n "=" (max 1 (div 400000 n)) (if (>= n 1000000) "x3" "")))
  (def crl (:generate-crl c))
  (put results (string "crl-bytes-" n) (length crl))
  (row (string ":generate-crl " n " entries") (measure rounds iters |(:generate-crl c))
       (string "crl-" n) nil))

(os/execute ["rm" "-rf" work] :p)

# ------------------------------------------------------------------ report

(defn- ratio [a b] (when (and a b (pos? b)) (/ a b)))

(print)
(print (string/format "%-30s %12s %10s %10s %9s %9s" "operation" "ops/s" "ms/op" "floor ms" "x floor" "x peer"))
(print (string/repeat "-" 85))
(each [op secs floor-name peer-name] rows
  (def f (floor floor-name))
  (def p (when peer-name (peer peer-name)))
  (print (string/format "%-30s %12.1f %10.4f %10s %9s %9s" op (/ 1 secs) (* 1000 secs)
                        (fmt (when f (* 1000 f)) "%.4f") (fmt (ratio secs f) "%.2fx") (fmt (ratio secs p) "%.2fx"))))
(print (string/repeat "-" 85))
(print "floor: raw OpenSSL " (string/trim (sh "openssl" "version")) " via the openssl crate (examples/bench_floor.rs);")
(print "peer:  Python cryptography "
       (string/trim (sh "python3" "-c" "import cryptography; from cryptography.hazmat.backends.openssl import backend as b; print(cryptography.__version__, 'with', b.openssl_version_text())"))
       " (bench/peer.py)")
(print "ms/op and ratios are medians of rounds; x floor and x peer = module time / their time (lower is better).")
(print)
(let [[m25 m75] (spread :rsa)]
  (printf ":issue :rsa-2048      key generation is noisy: quartiles of %d single calls %.1f..%.1f ms (floor %.1f..%.1f ms)"
          rsa-rounds (* 1000 m25) (* 1000 m75) (* 1000 (floor-p25 "issue-rsa-2048")) (* 1000 (floor-p75 "issue-rsa-2048"))))
(def revoke-rate (/ (results :revoke-n) (results :revoke-secs)))
(printf ":revoke               %d serials in %.3f s = %.0f revokes/s" (results :revoke-n) (results :revoke-secs) revoke-rate)
(each n sizes
  (def secs (results (string ":generate-crl " n " entries")))
  (printf ":generate-crl        %7d entries: %.4f s (floor %.4f s), PEM %d bytes" n secs
          (or (floor (string "crl-" n)) 0) (results (string "crl-bytes-" n))))
(printf ":sign-csr (tracked)  %d certificates in %.2f s (%.4f ms each)" n-tracked
        (* n-tracked tracked-issue-secs) (* 1000 tracked-issue-secs))
(printf ":get-issued          %d certificates: %.4f s" n-tracked get-issued-secs)
(def mem-ratio (/ (tracked "rss-bytes") der-total))
(printf "tracking memory      VmRSS +%.1f MB for %.1f MB of DER = %.2fx" (/ (tracked "rss-bytes") 1e6) (/ der-total 1e6) mem-ratio)
(def load-at-end (load-average))
(when (> load-at-start 0.5)
  (array/push notes (string/format "the load average was %.2f before this run started: other processes share the CPUs, so timings (less so the ratios, measured close together) are skewed" load-at-start)))
(each n notes (print "note: " n))

(print)
(print "targets of issue 7" (if quick " (QUICK run: not judged)" ""))
(defn- target [what ok shown]
  (print (string/format "  %-5s %-52s %s" (cond quick "n/a" (nil? ok) "SKIP" ok "PASS" "MISS") what shown)))
(defn- ratio-target [op floor-name limit]
  (def secs (results op))
  (def r (when secs (ratio secs (floor floor-name))))
  (target (string op " <= " limit "x floor") (when r (<= r limit)) (fmt r "%.2fx")))
(ratio-target ":issue :ec-p256" "issue-ec-p256" 2.0)
(ratio-target ":sign-csr (P-256 CSR)" "sign-csr" 2.0)
(ratio-target ":create-ocsp-response" "ocsp-sign" 1.5)
# RSA key generation time is long-tailed: judge the ratio of medians, and show
# its noise, from the quartiles (sigma ~ IQR / 1.349; s.e. of a median ~ 1.253 sigma / sqrt n).
(let [se (fn [p25 p75 med] (/ (* 1.253 (/ (- p75 p25) 1.349)) (math/sqrt rsa-rounds) med))
      [m25 m75] (spread :rsa)
      f "issue-rsa-2048"
      noise (math/sqrt (+ (math/pow (se m25 m75 (results ":issue :rsa-2048")) 2)
                          (math/pow (se (floor-p25 f) (floor-p75 f) (floor f)) 2)))
      r (ratio (results ":issue :rsa-2048") (floor f))]
  (target ":issue :rsa-2048 <= 1.2x floor" (<= r 1.2)
          (string/format "%.2fx (+/- %.2f: key generation noise, %d calls each)" r (* r noise) rsa-rounds)))
(let [secs (results (string ":generate-crl " (last sizes) " entries"))]
  (target (string "CRL of " (last sizes) " entries <= 1.5 s") (<= secs 1.5) (string/format "%.3f s" secs)))
(target ":revoke >= 1,000,000 per second" (>= revoke-rate 1e6) (string/format "%.0f/s" revoke-rate))
(target (string "tracking " n-tracked " certificates <= 2x their DER") (<= mem-ratio 2) (string/format "%.2fx" mem-ratio))
(target (string ":get-issued on " n-tracked " < 0.2 s") (< get-issued-secs 0.2) (string/format "%.3f s" get-issued-secs))
