# The judges of ML-DSA output (test/ml-dsa.janet): the OpenSSL 3.5 command
# line (scripts/build-openssl-cli builds it from the OpenSSL source the module
# links; Debian's openssl 3.0 knows no ML-DSA) and mldsa-judge, a verifier
# that shares no code with OpenSSL (RustCrypto's ml-dsa and x509-cert,
# test/support/mldsa-judge), built into build/ the first time a test asks.
# Only defines things.

(import ./check :as t)

(defn openssl35
  "The OpenSSL 3.5 command-line tool, built when missing; [path nil] or [nil why]."
  []
  (def [code out] (t/run "bash" "scripts/build-openssl-cli"))
  (def path (string/trim (last (string/split "\n" (string/trim out)))))
  (if (and (zero? code) (os/stat path)) [path nil] [nil (string "scripts/build-openssl-cli: " out)]))

(def- judge-dir "test/support/mldsa-judge")

(defn mldsa-judge
  "mldsa-judge, built when missing or older than its source; [path nil] or [nil why]."
  []
  (def target (string (os/cwd) "/build/mldsa-judge-target"))
  (def bin (string target "/release/mldsa-judge"))
  (def src-time (max ;(map |(or (os/stat $ :modified) 0)
                           [(string judge-dir "/src/main.rs") (string judge-dir "/Cargo.toml")])))
  (if (and (os/stat bin) (>= (os/stat bin :modified) src-time))
    [bin nil]
    (let [[code out] (t/run-in {"CARGO_TARGET_DIR" target} judge-dir "cargo" "build" "--release" "--quiet" "--locked")]
      (if (and (zero? code) (os/stat bin)) [bin nil] [nil (string "cargo build " judge-dir ": " out)]))))

(defn verdicts
  "Runs mldsa-judge over `jobs` ([kind file issuer-cert] each): a list of
  \"ok\" or \"error: ...\", one per job."
  [bin jobs]
  (def [_ out] (t/run bin ;(map string (mapcat identity jobs))))
  (filter |(not (empty? $)) (map string/trim (string/split "\n" out))))
