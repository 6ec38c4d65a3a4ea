# The hostile-input matrix: every ca/ function and method, every argument
# position and option key, each given a value of every Janet type (the other
# arguments valid), in a child interpreter (test/support/hostile-child.janet)
# so that a crash shows as an abnormal exit instead of killing this test. A
# caught Rust panic counts as a failure too.
(import ./support/check :as t)
(import ./support/hostile-child :as hostile)

(def dir (t/tmpdir "hostile"))
(def child (string (os/cwd) "/test/support/hostile-child.janet"))
(def progress (string dir "/progress.log"))

(defn run-child
  "Runs the matrix with a time limit; returns [exit-code stdout]. Progress goes to a file."
  []
  (def log (file/open progress :w))
  (def p (os/spawn ["timeout" "300" (t/janet-exe) child "--run" dir]
                   :pe (merge (os/environ) {"JANET_PATH" (t/module-root) :out :pipe :err log})))
  (def out (string (or (:read (p :out) :all) "")))
  (def code (:wait p))
  (file/close log)
  [code out])

(def started (os/clock))
(def [code out] (run-child))
(def lines (string/split "\n" (string/trimr out)))
(def last-call (last (string/split "\n" (string/trimr (slurp progress)))))

(each line (filter |(string/has-prefix? "BAD" $) lines)
  (t/ok false (string "non-[CA:] error: " line)))
(t/ok (zero? code)
      (string/format "the child interpreter exits 0, got %d (%s); last call attempted: %s"
                     code (case code 124 "timed out" 139 "segfault" 134 "abort" "error") last-call))
(def [count] (peg/match ~(* "OK " (number :d+) -1) (or (last lines) "")))
(t/ok count (string "the child ends with \"OK <count>\", got: " (last lines)))
(printf "hostile: %d calls in %.1fs, each returned or raised a [CA:...] error" (or count 0) (- (os/clock) started))
(t/ok (and count (> count 10000)) "the matrix made over 10000 calls")

# A caught Rust panic fails the matrix: its marker is the one the edge raises.
(t/ok (string/find hostile/panic-marker (slurp "src/binding/edge.rs"))
      (string/format "src/binding/edge.rs raises %q for a caught panic, which the matrix counts as BAD"
                     hostile/panic-marker))

(t/done "hostile")
