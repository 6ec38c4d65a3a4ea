# Go's crypto/x509 as a judge of certificates: strict DER parsing and Verify
# (test/support/x509judge/main.go, standard library only). The judge is built
# into build/ the first time a test asks for it, and again when its source
# changes. Helpers only define things: jpm runs every file under test/.

(def source "test/support/x509judge/main.go")
(def binary "build/x509judge")

(defn- modified [path]
  (when-let [st (os/stat path)] (st :modified)))

(defn- run-env
  "Runs argv with `env` added to the environment; returns [code output]."
  [env & argv]
  (def p (os/spawn argv :pe (merge (os/environ) env {:out :pipe :err :out})))
  (def out (:read (p :out) :all))
  (def code (:wait p))
  [code (string (or out ""))])

(defn build
  "Builds the judge when it is missing or older than its source; returns
  [path nil], or [nil message] when Go is missing or the build fails. The Go
  cache lives under build/ so that a read-only HOME does not matter."
  []
  (def built (modified binary))
  (cond
    (not (modified source)) [nil (string source " not found (run from the repository root)")]
    (and built (>= built (modified source))) [binary nil]
    (let [cache (string (os/cwd) "/build/go-cache")
          tmp (string binary ".tmp-" (math/rng-int (math/rng (os/cryptorand 8)) 2000000000))
          [code out] (try (run-env {"HOME" cache "GOCACHE" (string cache "/build") "GOPATH" (string cache "/path")
                                    "GO111MODULE" "off" "GOFLAGS" "" "CGO_ENABLED" "0"}
                                   "go" "build" "-o" tmp source)
                          ([e] [-1 (string "cannot run go (scripts/setup installs golang-go): " e)]))]
      (if (zero? code)
        (do (os/rename tmp binary) [binary nil])
        (do (when (os/stat tmp) (os/rm tmp)) [nil (string "go build " source ": " out)])))))

(defn judge
  "Runs the Go judge once over `jobs`, a list of [name cert-file roots
  intermediates] (roots and intermediates: lists of PEM files; no roots means
  parse only), writing the job list into `dir`. Returns a table mapping each
  name to \"ok\", \"parse: <error>\" or \"verify: <error>\"; a name the judge
  said nothing about maps to nothing. Raises when the judge cannot be built
  or cannot run: a judge that cannot judge has failed."
  [jobs dir]
  (def [exe err] (build))
  (unless exe (error err))
  (def jobs-file (string dir "/x509judge.jobs"))
  (spit jobs-file (string/join (map (fn [[name cert roots inters]]
                                      (string/join [name cert (string/join roots ",") (string/join inters ",")] "\t"))
                                    jobs)
                               "\n"))
  (def p (os/spawn [exe "-jobs" jobs-file] :p {:out :pipe :err :pipe}))
  (def out (string (or (:read (p :out) :all) "")))
  (def errs (string (or (:read (p :err) :all) "")))
  (def code (:wait p))
  (unless (<= 0 code 1) (error (string "x509judge exited " code ": " errs)))
  (def verdicts @{})
  (each line (string/split "\n" out)
    (when-let [tab (string/find "\t" line)]
      (put verdicts (string/slice line 0 tab) (string/slice line (inc tab)))))
  verdicts)
