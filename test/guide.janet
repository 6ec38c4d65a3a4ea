# docs/GUIDE.md and examples/guide-*.janet: every ```janet block of the guide
# is, word for word, the example file named by the `<!-- example: PATH -->`
# line before it; every example runs (child interpreter, temporary working
# directory, output directory as first argument) and exits 0.
(import ./support/check :as t)
(import ../docs/markdown :as md)

(def blocks (filter |(= "janet" ($ :lang)) (md/code-blocks (slurp "docs/GUIDE.md"))))
(def named @{})
(each {:code code :example path} blocks
  (when (t/ok path (string "guide block names its example file:\n" code))
    (put named path true)
    (def file (slurp path))
    (t/ok (= (string file) code)
          (string "docs/GUIDE.md's block for " path " differs from the file; copy the file into the guide"))))

(def examples
  (->> (os/dir "examples")
       (filter |(and (string/has-prefix? "guide-" $) (string/has-suffix? ".janet" $)))
       sort
       (map |(string "examples/" $))))
(t/ok (>= (length examples) 6) "the guide has its examples")
(each path examples
  (t/ok (named path) (string path " appears in docs/GUIDE.md"))
  (def work (t/tmpdir "guide"))
  (def [code out] (t/run-in {"JANET_PATH" (t/module-root)} work
                            (t/janet-exe) (os/realpath path) (string work "/out")))
  (t/ok (zero? code) (string/format "%s exits 0, got %d:\n%s" path code out))
  (os/execute ["rm" "-rf" work] :p))

(t/done "guide")
