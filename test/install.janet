# The installed layout: jsec/ca.so and every jsec/**/*.janet under a syspath
# and the jsec-ca script in a bin directory, the way every install route lays
# them out (README, "Install"); then `(import jsec/ca)` from a script outside
# the repository and the installed tool. The routes themselves, with the real
# jpm, janet --install and janet-pm: scripts/test-packaging.
(import ./support/check :as t)
(import ./support/child)

(def tmp (t/tmpdir "install"))
(def syspath (string tmp "/syspath"))
(def bindir (string tmp "/bin"))
(def elsewhere (string tmp "/elsewhere"))
(each d [syspath (string syspath "/jsec") bindir elsewhere] (os/mkdir d))

(def module (string (t/module-root) "/jsec/ca.so"))
(spit (string syspath "/jsec/ca.so") (slurp module))
(defn- janet-files [dir]
  (mapcat |(let [path (string dir "/" $)]
             (case (os/stat path :mode)
               :directory (janet-files path)
               :file (if (string/has-suffix? ".janet" path) [path] [])
               []))
          (os/dir dir)))
(def library (janet-files "jsec"))
(t/ok (index-of "jsec/ocsp-responder.janet" library) "jsec/ holds the OCSP responder library")
(each file library
  (def parts (string/split "/" file))
  (for i 1 (length parts)
    (os/mkdir (string/join [syspath ;(slice parts 0 i)] "/")))
  (spit (string syspath "/" file) (slurp file)))
(spit (string bindir "/jsec-ca") (slurp "bin/jsec-ca"))
(os/chmod (string bindir "/jsec-ca") 8r755)

(def script (t/write elsewhere "use.janet" ```
(import jsec/ca)
(def root (ca/generate {:common-name "Installed Root"}))
(def leaf (ca/issue root {:common-name "installed.example"}))
(print (if (string/has-prefix? "-----BEGIN CERTIFICATE-----" (leaf :cert)) "installed-ok" "bad"))
```))

(def env {"JANET_PATH" syspath})
(let [[code out] (t/run-in env elsewhere (t/janet-exe) script)]
  (t/ok (and (zero? code) (string/find "installed-ok" out))
        (string "(import jsec/ca) from outside the repository: " out)))

# Every module of the library loads from the syspath.
(each file library
  (def name (string/slice file 0 -7))
  (let [[code out] (t/run-in env elsewhere (t/janet-exe) "-e" (string/format "(require %j) (print :loaded)" name))]
    (t/ok (and (zero? code) (string/find "loaded" out)) (string/format "(require %j) from the syspath: %s" name out))))

(let [[code out] (t/run-in env elsewhere (t/janet-exe) (string bindir "/jsec-ca") "--help")]
  (t/ok (and (zero? code) (string/find "Usage: jsec-ca" out)) (string "installed jsec-ca --help: " out)))

(let [[code out] (t/run-in env elsewhere (t/janet-exe) (string bindir "/jsec-ca") "init" "--dir" "ca")]
  (t/ok (and (zero? code) (os/stat (string elsewhere "/ca/root.crt"))) (string "installed jsec-ca init: " out)))

# The installed tool finds the installed OCSP responder library.
(let [p (os/spawn (child/merged [(t/janet-exe) (string bindir "/jsec-ca") "ocsp-serve" "--port" (string (+ 20000 (math/floor (* 12000 (math/random))))) "--dir" "ca"] elsewhere)
                  :pe (merge (os/environ) env {:out :pipe}))
      banner (string (or (try (ev/with-deadline 10 (:read (p :out) 1024)) ([_] nil)) ""))]
  (t/ok (string/find "answering OCSP" banner) (string "installed jsec-ca ocsp-serve starts: " banner))
  (os/proc-kill p true))

# Nothing from the repository leaks in: without the syspath the import fails.
(let [[code _] (t/run-in {"JANET_PATH" (string tmp "/empty")} elsewhere (t/janet-exe) script)]
  (t/ok (not (zero? code)) "the script does not find jsec/ca without the syspath"))

(os/execute ["rm" "-rf" tmp] :p)
(t/done "install")
