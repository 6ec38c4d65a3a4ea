# docs/gen-api.janet: renders docs/API.md from the docstrings of jsec/ca.
#
#   JANET_PATH=build build/janet docs/gen-api.janet [OUT]   (or: bash scripts/gen-docs)
#
# Writes OUT (default: stdout). test/docs.janet imports `render` and fails
# when the committed docs/API.md differs from it.

(import jsec/ca)
(import ./markdown :as md)

(def methods
  "Every method of ca/CA, in the order the module registers them: a ca/CA
  lists its methods under `keys`, as Janet's own files do."
  (keys (ca/generate)))

(def groups
  "Sections of the reference; a binding in none of them lands in \"Other\"
  (in registration order: by its :source-map, the line of its registry! entry)."
  [["Constructors" '[ca/generate ca/generate-intermediate ca/create]]
   ["Issuing" '[ca/issue ca/issue-async ca/sign]]
   ["The CA's certificate and key" '[ca/get-cert ca/get-key]]
   ["Serial counter and tracking" '[ca/get-serial ca/set-serial ca/is-tracking ca/get-issued]]
   ["Revocation and CRLs" '[ca/revoke ca/get-revoked ca/crl ca/get-crl-number]]
   ["OCSP" '[ca/parse-ocsp-request ca/create-ocsp-response ca/get-status ca/ocsp-error-response]]
   ["Export" '[ca/pkcs12]]
   ["The store" '[ca/open-store ca/store-save ca/store-load ca/store-cas ca/store-find ca/store-close]]
   ["Introspection" '[ca/version]]])

(def- repo-root
  (let [here (os/realpath (dyn :current-file "docs/gen-api.janet"))]
    (string/slice here 0 (- (length here) (length "/docs/gen-api.janet")))))

(def- env
  "This file's environment, where (import jsec/ca) put the ca/ bindings."
  (curenv))

(defn ca-bindings
  "Sorted symbols of every ca/ binding in this environment."
  []
  (->> (keys env)
       (filter |(string/has-prefix? "ca/" $))
       sort))

(defn- value-of [sym] (get-in env [sym :value]))

(defn- doc-of [sym] (or (get-in env [sym :doc]) ""))

(defn- guide-files
  "examples/guide-*.janet, sorted."
  []
  (def dir (string repo-root "/examples"))
  (->> (or (os/dir dir) [])
       (filter |(and (string/has-prefix? "guide-" $) (string/has-suffix? ".janet" $)))
       sort))

(defn- method-names
  "The methods that reach the same cfunction as `sym`."
  [sym sample]
  (filter |(= (get sample $) (value-of sym)) methods))

(defn- used-in
  "Guide examples whose code calls `sym` or one of its methods."
  [sym sample]
  (def needles [(string "(" sym " ")
                ;(map |(string "(" $ " ") (method-names sym sample))])
  (filter (fn [file]
            (def code (slurp (string repo-root "/examples/" file)))
            (some |(string/find $ code) needles))
          (guide-files)))

(defn- raising-call
  "The function a snippet's last line calls: the one that raises."
  [code]
  (def last-line (last (filter |(not (empty? $)) (string/split "\n" code))))
  (first (peg/match ~(* "(" (capture (some (if-not (set " )") 1)))) last-line)))

(defn- error-headings
  "Headings of the docs/ERRORS.md entries whose snippets end calling `sym`, in order."
  [sym]
  (def text (slurp (string repo-root "/docs/ERRORS.md")))
  (->> (md/code-blocks text)
       (filter |(and (= "janet" ($ :lang)) (= (string sym) (raising-call ($ :code)))))
       (map |($ :heading))
       distinct))

(def- bullet-peg
  (peg/compile ~(* "* " (capture (some (if-not " - " 1))) " - " (capture (any 1)))))

(defn- render-line
  "One docstring line as Markdown: option names in bullets become code, `<` is escaped."
  [line]
  (def safe (string/replace-all "<" "&lt;" line))
  (if-let [[names rest] (peg/match bullet-peg safe)]
    (string "* " (string/join (map |(string "`" (string/trim $) "`") (string/split "," names)) ", ")
            " - " rest)
    safe))

(defn- bullet? [line] (or (string/has-prefix? "* " line) (string/has-prefix? "  " line)))

(defn- render-lines
  "Docstring body lines as Markdown, with a blank line after each bullet list."
  [lines]
  (def out @[])
  (var in-list false)
  (each line lines
    (when (and in-list (not (empty? line)) (not (bullet? line)))
      (array/push out ""))
    (set in-list (and (not (empty? line)) (bullet? line)))
    (array/push out (render-line line)))
  out)

(defn- split-doc
  "Docstring → [signature body-lines]."
  [doc]
  (def lines (string/split "\n" (string/trim doc)))
  [(first lines) (drop-while empty? (drop 1 lines))])

(defn- render-binding [sym sample]
  (def [signature body] (split-doc (doc-of sym)))
  (def buf @"")
  (buffer/push buf "### `" sym "`\n\n```janet\n" signature "\n```\n\n")
  (each line (render-lines body) (buffer/push buf line "\n"))
  (def ms (method-names sym sample))
  (unless (empty? ms)
    (buffer/push buf "\nMethods: " (string/join (map |(string "`(:" $ " ...)`") ms) ", ") ".\n"))
  (def errors (error-headings sym))
  (unless (empty? errors)
    (buffer/push buf "\nErrors ([ERRORS.md](ERRORS.md)): "
                 (string/join (map |(string "\"" (string/replace-all "`" "" $) "\"") errors) "; ") ".\n"))
  (def examples (used-in sym sample))
  (unless (empty? examples)
    (buffer/push buf "\nExamples: "
                 (string/join (map |(string "[" $ "](../examples/" $ ")") examples) ", ") ".\n"))
  (buffer/push buf "\n")
  buf)

(defn- render-methods [sample]
  (def buf @"| method | module function |\n|---|---|\n")
  (each m methods
    (def target (find |(= (get sample m) (value-of $)) (ca-bindings)))
    (buffer/push buf "| `:" m "` | " (if target (string "`" target "`") "**none**") " |\n"))
  buf)

(def- intro ```
# jsec/ca API reference

<!-- Generated by scripts/gen-docs (docs/gen-api.janet) from the module's own
     docstrings. Do not edit by hand: change the docstring, then regenerate. -->

`(import jsec/ca)` binds every function under the `ca/` prefix. A CA is an
abstract value of type `ca/CA`; every operation on a CA is both a module
function and a method reaching the same code, so `(ca/issue ca opts)` is
`(:issue ca opts)`. Options are a table or a struct; lists are an array or a
tuple; where a keyword is expected, a string of the same name works too.
Times are Unix seconds or ISO 8601 UTC strings such as "2030-01-15T10:30:00Z".

Worked, runnable examples: [GUIDE.md](GUIDE.md). Every error: [ERRORS.md](ERRORS.md).

```)

(def- errors-section ```
## Errors

Every failure is a Janet error (catch it with `try`), with a message of the
form `[CA:CATEGORY] message: detail`, where CATEGORY is one of CONFIG, PARAM,
PARSE, SSL, VERIFY, RESOURCE and the message names the argument or option at
fault. A wrong argument type or count is a `[CA:PARAM]` error naming the
function and argument. [ERRORS.md](ERRORS.md) lists every error the module
raises, when it happens and how to fix it, each with a snippet that produces it.
```)

(defn render
  "The text of docs/API.md."
  []
  (def sample (ca/generate))
  (def buf (buffer intro))
  (def seen @{})
  (each [title syms] groups
    (buffer/push buf "## " title "\n\n")
    (each sym syms
      (when (value-of sym)
        (put seen sym true)
        (buffer/push buf (render-binding sym sample)))))
  (def others (sort-by |[(get-in env [$ :source-map]) $] (filter |(not (seen $)) (ca-bindings))))
  (unless (empty? others)
    (buffer/push buf "## Other\n\n")
    (each sym others (buffer/push buf (render-binding sym sample))))
  (buffer/push buf "## Methods of `ca/CA`\n\n" (render-methods sample) "\n" errors-section)
  (string buf))

(defn main [_ &opt out]
  (if out
    (spit out (render))
    (prin (render))))
