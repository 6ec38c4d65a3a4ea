# The benchmark's machinery runs: `bench/run.janet --quick` (small counts,
# targets not judged) with its serving floor, the paired child pinned to a
# core, the peers and the report. No timing is asserted here; the figures
# live in the benchmark.
(import ./support/check :as t)

(def child-env {"JANET_PATH" (t/module-root)})

# The raw-OpenSSL floor first, outside the benchmark's time limit: in a fresh
# clone under `jpm test` (which builds the module in target/system-janet)
# this is the first build in target/, OpenSSL included, minutes on 2 cores;
# bench/run.janet builds it only when missing. cargo decides what is out of date.
(let [[code out] (t/run "cargo" "build" "--release" "--quiet" "--example" "bench_floor" "--example" "bench_floor_lib" "--example" "bench_floor_janet")]
  (t/ok (zero? code) (string "cargo builds the benchmark's floor: " out)))
(def [code out] (t/run-in child-env nil "timeout" "600" (t/janet-exe) "bench/run.janet" "--quick"))
(t/ok (zero? code) (string/format "bench/run.janet --quick exits 0, got %d:\n%s" code out))

(defn- row
  "The report's row for `op`: [ms/op floor-ms x-floor], or nil."
  [op]
  (when-let [line (find |(string/has-prefix? op $) (string/split "\n" out))]
    (def cols (filter |(not (empty? $)) (string/split " " (string/slice line (length op)))))
    [(scan-number (cols 0)) (scan-number (cols 1)) (scan-number (string/trimr (cols 2) "x"))]))

(each op [":issue :ec-p256" ":issue :ec-p384" ":issue :ec-p521" ":issue :ed25519"
          ":sign-csr (P-256 CSR)" "ca/parse-ocsp-request 64-bit" "ca/parse-ocsp-request 160-bit"
          ":create-ocsp-response"]
  (def r (row op))
  (t/ok (and r (all |(and (number? $) (pos? $)) r))
        (string/format "the report has a paired row for %s with times and a floor ratio: %j" op r)))
(t/ok (row ":issue :rsa-2048") "the report has the RSA-2048 row")
(t/ok (string/find "paired batches" out) "the short operations ran paired against the floor")
(t/ok (string/find "the floors ran in the benchmark's own process" out)
      "the paired floors ran in the benchmark's process (bench/floor_lib.rs through Janet's FFI)")
(t/ok (not (string/find "the Python peer's parses ran before the child" out))
      "the Python peer's OCSP parses took turns with the module's (bench/peer.py --serve)")
(t/ok (string/find "the parse rows' floor returned the module's own result" out)
      "the parse rows ran against the floor that returns the module's result (bench/floor_janet.rs, loaded with native)")
(each op ["ca/parse-ocsp-request 64-bit vs d2i alone" "ca/parse-ocsp-request 160-bit vs d2i alone"
          "ca/parse-ocsp-request 64-bit vs OpenSSL's fields alone" "ca/parse-ocsp-request 160-bit vs OpenSSL's fields alone"]
  (t/ok (string/find op out) (string "the report shows " op)))
(t/ok (string/find "targets of issue 12 (QUICK run: not judged)" out) "the targets are listed, not judged")
(t/ok (string/find ":issue :ec-p256 vs keygen with its point encoded" out)
      "the P-256 ratio against the floor with the point encoded is shown")

(t/done "bench-smoke")
