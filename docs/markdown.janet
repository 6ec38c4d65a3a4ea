# docs/markdown.janet: the fenced code blocks of a Markdown file, for the
# docs generator and the docs tests (test/errors.janet, test/guide.janet).

(def- example-peg (peg/compile ~(* "<!-- example:" (any " ") (capture (some (if-not (+ " " "-->") 1))))))

(defn- fence-lang
  "The language of an opening fence line, or nil."
  [line]
  (when (string/has-prefix? "```" line)
    (string/trim (string/slice line 3))))

(defn code-blocks
  "Every fenced block of `text` as a table:
  :lang, :code (with its final newline), :heading (the last ### or ## heading
  before it), :example (the path of a `<!-- example: PATH -->` line just before
  it, or nil) and :expect (the text of a `> ` line right after it, or nil)."
  [text]
  (def lines (string/split "\n" text))
  (def blocks @[])
  (var heading nil)
  (var i 0)
  (def n (length lines))
  (defn prev-nonblank [j]
    (var k (dec j))
    (while (and (>= k 0) (empty? (string/trim (lines k)))) (-- k))
    (when (>= k 0) (lines k)))
  (while (< i n)
    (def line (lines i))
    (cond
      (string/has-prefix? "#" line)
      (set heading (string/trim (string/triml line "#")))

      (fence-lang line)
      (let [lang (fence-lang line)
            start i
            body @[]]
        (++ i)
        (while (and (< i n) (not (string/has-prefix? "```" (lines i))))
          (array/push body (lines i))
          (++ i))
        (var j (inc i))
        (while (and (< j n) (empty? (string/trim (lines j)))) (++ j))
        (def after (when (< j n) (lines j)))
        (def before (prev-nonblank start))
        (array/push blocks
                    @{:lang lang
                      :code (string (string/join body "\n") "\n")
                      :heading heading
                      :example (when before (first (peg/match example-peg before)))
                      :expect (when (and after (string/has-prefix? "> " after))
                                (string/trim (string/slice after 2)))})))
    (++ i))
  blocks)
