# Child processes the same way on every Janet the suite runs on (1.36+).
# Only defines things.

(defn merged
  "argv run through sh with its stderr joined to its stdout, in order, and in
  directory `dir` when given: Janet 1.36 and 1.37's os/spawn lack {:err :out}
  and {:cd dir}. The child keeps sh's pid (exec)."
  [argv &opt dir]
  (if dir
    ["sh" "-c" `cd "$1" && shift && exec "$@" 2>&1` "sh" dir ;argv]
    ["sh" "-c" `exec "$@" 2>&1` "sh" ;argv]))
