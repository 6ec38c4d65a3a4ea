# Every snippet in docs/ERRORS.md raises the error its entry names: each
# ```janet block is run (after (import jsec/ca), with `csr` bound to a CSR
# made by openssl req) and its message must start with the text of the
# `> [CA:...]` line after the block.
(import ./support/check :as t)
(import ../docs/markdown :as md)
(import jsec/ca)

(def dir (t/tmpdir "errors"))
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (string dir "/req.key") "-subj" "/CN=example.com" "-out" (string dir "/req.csr"))
(def csr (slurp (string dir "/req.csr")))

(defn run-snippet
  "Runs `code` in a fresh environment on top of this one; [status value]."
  [code]
  (def f (fiber/new (fn [] (eval-string code)) :e (make-env (curenv))))
  (def value (resume f))
  [(fiber/status f) value])

(def blocks (filter |(= "janet" ($ :lang)) (md/code-blocks (slurp "docs/ERRORS.md"))))
(t/ok (>= (length blocks) 60) (string "ERRORS.md has its snippets, found " (length blocks)))

(each {:code code :expect expect :heading heading} blocks
  (def what (string "ERRORS.md \"" heading "\": " (string/trim code)))
  (when (t/ok expect (string what ": has a `> [CA:...]` line after the block"))
    (def [status value] (run-snippet code))
    (t/ok (and (= status :error) (string/has-prefix? expect (string value)))
          (string/format "%s\n  expected an error starting %q\n  got %s %q" what expect status value))))

# Each category of errors the module raises on bad input has entries.
(def text (slurp "docs/ERRORS.md"))
(each cat ["PARAM" "PARSE" "VERIFY" "CONFIG" "RESOURCE"]
  (t/ok (string/find (string "> [CA:" cat "]") text) (string "ERRORS.md shows a [CA:" cat "] error")))
(t/ok (string/find "## SSL" text) "ERRORS.md explains [CA:SSL]")

(os/execute ["rm" "-rf" dir] :p)
(t/done "errors")
