# The measuring side of test/gc-stress.janet, run in a child interpreter with
# glibc's per-thread cache off (GLIBC_TUNABLES=glibc.malloc.tcache_count=0),
# so that glibc's mallinfo2 counts exactly the bytes malloc has handed out and
# not had back:
#     build/janet test/support/gc-child.janet --run WORKDIR
# Prints one Janet value per line (%j): {:tunables GLIBC_TUNABLES} first, then per kind
# of call (test/support/call-kinds.janet, after a known leak of 16 bytes a
# call) {:kind :calls :heap [a b c] :rss [a b c]}
# measured after a warm-up and after each of two windows of `calls` calls,
# with (gccollect) before each measurement, and last {:serials-used n
# :root-signed n}. Without --run it only defines things.
(import jsec/ca)
(import ./call-kinds)

(defn- ffi [name] (get-in root-env [(symbol "ffi/" name) :value]))

(defn- mallinfo2
  "glibc's mallinfo2 through Janet's FFI: ten size_t fields (hblkhd is 4, uordblks 7); nil without FFI or glibc."
  []
  (when-let [native (ffi "native")
             f ((ffi "lookup") (native) "mallinfo2")]
    # keep the struct type alive with the signature: in Janet 1.41 a
    # signature does not mark its return type, and a collection frees it
    (def result-type ((ffi "struct") ;(seq [_ :range [0 10]] :size)))
    (def types {:signature ((ffi "signature") :default result-type) :result result-type})
    (fn [] ((ffi "call") f (types :signature)))))

(defn- rss-kib []
  (def line (find |(string/has-prefix? "VmRSS:" $) (string/split "\n" (slurp "/proc/self/status"))))
  (scan-number (first (peg/match '(* "VmRSS:" :s* (<- :d+)) line))))

(defn- settle
  "Waits, up to 10 s, until this process has no thread but the interpreter's.
  A ca/issue-async worker thread exits just after handing its key back; one
  still exiting holds its thread-local memory (OpenSSL's, Rust's), which a
  measurement taken meanwhile would count as a leak."
  []
  (var waited 0)
  (while (and (> (length (os/dir "/proc/self/task")) 1) (< waited 10000))
    (++ waited)
    (ev/sleep 0.001)))

(defn- measure [dir]
  (def info (mallinfo2))
  (unless info
    (printf "%j" {:error "glibc mallinfo2 is not reachable through Janet's FFI"})
    (os/exit 1))
  (defn heap-bytes []
    (settle)
    (gccollect)
    (def i (info))
    (int/to-number (+ (i 4) (i 7))))
  (printf "%j" {:tunables (os/getenv "GLIBC_TUNABLES")})
  (def {:root root :kinds real-kinds} (call-kinds/make dir))
  # a known leak, so that the parent can see the measure is not blind
  (def kinds [["known leak: malloc(16) never freed" 500 |((ffi "malloc") 16) false] ;real-kinds])
  (def serial-start (int/to-number (ca/get-serial root)))
  (var root-signed 0)
  (each [name n thunk signs-on-root] kinds
    (defn run [count]
      (repeat count (thunk))
      (when signs-on-root (+= root-signed count)))
    (run (div n 2))
    (def a [(heap-bytes) (rss-kib)])
    (run n)
    (def b [(heap-bytes) (rss-kib)])
    (run n)
    (def c [(heap-bytes) (rss-kib)])
    (printf "%j" {:kind name :calls n :heap (map first [a b c]) :rss (map last [a b c])})
    (flush))
  (printf "%j" {:serials-used (- (int/to-number (ca/get-serial root)) serial-start) :root-signed root-signed}))

(defn main [_ & args]
  (when (= (first args) "--run")
    (measure (or (get args 1) "/tmp"))))
