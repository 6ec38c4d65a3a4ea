# Nothing the module allocates outlives its value. Each kind of call
# (test/support/call-kinds.janet: issuing, signing, revocation, CRLs, OCSP,
# key export and loading, and every error path) runs in two windows of a few
# thousand calls after a warm-up, in a child interpreter
# (test/support/gc-child.janet) where glibc's mallinfo2 counts the bytes in
# use exactly. A leak grows both windows; a cache filling up, at most one. So
# the smaller growth of the two, per call, must stay under 1 byte: a leak of
# 16 bytes per call, or of one small block every few calls, fails (a window
# measures its own bookkeeping as well: some 80 bytes). Resident memory is
# checked too, coarsely: the garbage collector's peaks move it by MiBs.
(import ./support/check :as t)

(def dir (t/tmpdir "gc"))
(def child (string (os/cwd) "/test/support/gc-child.janet"))
(def [code out]
  (t/run-in {"JANET_PATH" (t/module-root) "GLIBC_TUNABLES" "glibc.malloc.tcache_count=0"} nil
            "timeout" "600" (t/janet-exe) child "--run" dir))
(t/ok (zero? code) (string/format "the measuring child exits 0, got %d: %s" code out))
(def reports (seq [line :in (string/split "\n" (string/trim out)) :when (string/has-prefix? "{" line)]
               (parse line)))

# (with glibc's per-thread cache on, freed blocks it holds count as in use:
# noise of up to a few hundred KiB, which could only fail this test, never pass it)
(t/same (get (first reports) :tunables) "glibc.malloc.tcache_count=0"
        "the child runs with glibc's per-thread cache off, so mallinfo2 counts exactly")

(def [known-leak & kinds] (filter |($ :kind) reports))
(let [{:calls n :heap [a b c]} (or known-leak {:calls 1 :heap [0 0 0]})
      per-call (/ (min (- b a) (- c b)) n)]
  (t/ok (>= per-call 16)
        (string/format "the measure sees a known leak of malloc(16) a call: %.2f bytes a call" per-call)))
(t/ok (>= (length kinds) 30) (string/format "every kind of call was measured, got %d" (length kinds)))
(var rss-growth 0)
(each {:kind kind :calls n :heap [a b c] :rss [ra rb rc]} kinds
  (def per-call (/ (min (- b a) (- c b)) n))
  (printf "gc-stress: %-40s %5d calls a window: heap +%d then +%d bytes (%.2f bytes a call), RSS +%d then +%d KiB"
          kind n (- b a) (- c b) per-call (- rb ra) (- rc rb))
  (t/ok (< per-call 1)
        (string/format "%s: the bytes in use grow by %d, then %d, over two windows of %d calls (%.2f bytes a call)"
                       kind (- b a) (- c b) n per-call))
  (+= rss-growth (max 0 (- rc rb))))
(t/ok (< rss-growth (* 16 1024))
      (string/format "resident memory stays flat: the second windows add %d KiB in all" rss-growth))

(def {:serials-used used :root-signed signed} (or (find |($ :serials-used) reports) {}))
(t/ok (and signed (= used signed)) (string/format "every certificate root signed used one serial: %q of %q" used signed))
(t/done "gc-stress")
