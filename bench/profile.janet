# bench/profile.janet: loops for `valgrind --tool=callgrind` (issue 25).
#
#     JANET_PATH=build build/janet bench/profile.janet crl N REPS
#         a CA holding N revoked serials (1..N, one date), then REPS :generate-crl
#     JANET_PATH=build build/janet bench/profile.janet ocsp-parse REQUEST.der REPS
#         REPS ca/parse-ocsp-request of a DER request (e.g. from `openssl ocsp -reqout`)
#
# Instructions per operation: run twice with different REPS under callgrind
# and divide the difference of the totals by the difference of REPS (the setup
# cancels out), e.g. for a CRL of 100,000 entries
#
#     for r in 1 3; do JANET_PATH=build valgrind --tool=callgrind --callgrind-out-file=crl.$r.out \
#         build/janet bench/profile.janet crl 100000 $r; done
#
# The floors the same way: target/release/examples/bench_floor --rounds 1 crl-100000=1 (and =3),
# ocsp-parse=1000 (and =11000), ocsp-parse-160=...; each runs its operation iterations + 1 times
# (one warm-up), crl-N once more for its byte count.

(import jsec/ca)

(def args (dyn :args))
(def op (get args 1))
(case op
  "crl"
  (let [n (scan-number (args 2))
        reps (scan-number (args 3))
        c (ca/generate {:common-name "Bench CA"})]
    (for serial 1 (inc n) (:revoke c serial))
    (repeat reps (:generate-crl c)))
  "ocsp-parse"
  (let [req (slurp (args 2))
        reps (scan-number (args 3))]
    (repeat reps (ca/parse-ocsp-request req)))
  (do
    (eprint "usage: bench/profile.janet crl N REPS | ocsp-parse REQUEST.der REPS")
    (os/exit 2)))
