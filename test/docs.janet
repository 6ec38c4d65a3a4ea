# docs/API.md is generated from the module's docstrings (docs/gen-api.janet):
# fails when the committed file differs from what the generator produces now.
(import ./support/check :as t)
(import ../docs/gen-api :as gen)

(def committed (string (slurp "docs/API.md")))
(def fresh (gen/render))

(defn first-difference
  "Line number and the two lines where `a` and `b` first differ."
  [a b]
  (def la (string/split "\n" a))
  (def lb (string/split "\n" b))
  (def i (or (find-index |(not= (get la $) (get lb $)) (range (max (length la) (length lb)))) 0))
  [(inc i) (get la i) (get lb i)])

(unless (t/ok (= committed fresh) "docs/API.md matches the docstrings")
  (def [line old new] (first-difference committed fresh))
  (eprintf "docs/API.md is stale (first difference at line %d):\n  committed: %q\n  generated: %q" line old new)
  (eprint "Regenerate it with: bash scripts/gen-docs"))

# Every ca/ binding and every method is documented.
(each sym (gen/ca-bindings)
  (t/ok (string/find (string "### `" sym "`") fresh) (string sym " has a section")))
(each m gen/methods
  (t/ok (string/find (string "| `:" m "` | `ca/") fresh) (string "method " m " maps to a ca/ function")))
(t/ok (string/find "(ERRORS.md)" fresh) "API.md links ERRORS.md")

(t/done "docs")
