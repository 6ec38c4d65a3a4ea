# bench/profile.janet: loops for `valgrind --tool=callgrind` (issue 25).
#
#     JANET_PATH=build build/janet bench/profile.janet crl N REPS
#         a CA holding N revoked serials (1..N, one date), then REPS :generate-crl
#     JANET_PATH=build build/janet bench/profile.janet ocsp-parse REQUEST.der REPS
#         REPS ca/parse-ocsp-request of a DER request (e.g. from `openssl ocsp -reqout`)
#     JANET_PATH=build build/janet bench/profile.janet ocsp-create REPS
#         REPS ca/create-ocsp-response of a parsed request, with options (the option reading)
#     JANET_PATH=build build/janet bench/profile.janet issue REPS
#         REPS ca/issue with a few options
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
  "ocsp-create"
  (let [reps (scan-number (args 2))
        c (ca/generate {:common-name "Bench CA"})
        info @{:serial 5 :hash-algorithm :sha1 :hash-null true :nonce @"0123456789abcdef"
               :requests @[@{:serial 5}]}
        opts {:this-update 1800000000 :next-update 1800086400 :include-nonce true}]
    (repeat reps (ca/create-ocsp-response c info :good opts)))
  "issue"
  (let [reps (scan-number (args 2))
        c (ca/generate {:common-name "Bench CA"})
        opts {:common-name "leaf.example" :san ["DNS:leaf.example"] :days-valid 90
              :extended-key-usage :server-auth}]
    (repeat reps (ca/issue c opts)))
  (do
    (eprint "usage: bench/profile.janet crl N REPS | ocsp-parse REQUEST.der REPS | ocsp-create REPS | issue REPS")
    (os/exit 2)))
