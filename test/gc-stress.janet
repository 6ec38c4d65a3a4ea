# 100,000 issue and sign calls with (gccollect) between batches: resident
# memory must stay flat, so nothing the module allocates outlives its value.
(import jsec/ca)
(import ./support/check :as t)

(defn rss-kib []
  (def line (find |(string/has-prefix? "VmRSS:" $) (string/split "\n" (slurp "/proc/self/status"))))
  (scan-number (first (peg/match '(* "VmRSS:" :s* (<- :d+)) line))))

(def root (ca/generate {:common-name "GC Root"}))
(def csr (do (def out (string (t/tmpdir "gc") "/gc.csr"))
             (t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
                        "-keyout" "/dev/null" "-subj" "/CN=gc.example" "-out" out)
             (slurp out)))

(def total 100000)
(def batch 5000)
(def samples @[])
(loop [b :range [0 (/ total batch)]]
  (repeat (/ batch 2)
    (:issue root {:common-name "gc.example" :san ["DNS:gc.example"]})
    (:sign-csr root csr))
  # every error path too: it must not leak what it had allocated
  (repeat 100
    (try (ca/issue root {:common-name "x" :san ["BAD:x"]}) ([_]))
    (try (ca/sign root "garbage") ([_])))
  (gccollect)
  (array/push samples (rss-kib)))

(def warm (samples 1))
(def end (last samples))
(printf "RSS after batch 2: %d KiB, after %d calls: %d KiB (growth %d KiB)" warm total end (- end warm))
(t/ok (< (- end warm) (* 16 1024)) (string/format "resident memory stays flat: %q" samples))
(t/same (ca/get-serial root) (int/s64 (inc total)) "every call used one serial")
(t/done "gc-stress")
