# test-timeout: 300
# Each function's options as its docstring documents them and as its reader
# reads them agree. The keys a function accepts are the keys its reader asks
# for (src/binding/values.rs, Opts::parse), and its unknown-option error lists
# them: "<fn> has no option :k; valid: :a, :b, ...". That list must be the set
# of option keywords the docstring documents, for every ca/ function with an
# options argument (`opts` or `filters` in its signature).
#
# How a docstring documents options: a line "Options:" (or "Filters:", or
# "Options (table or struct):") followed by bullets "* :a, :b - text" (two-space
# continuation lines); every keyword before a bullet's " - " is documented.
# "Options: as ca/other ..." documents ca/other's options, plus the bullets
# that follow.
#
# And every documented key is accepted on every path: each key with a value of
# each kind, beside the valid base call, is never called an unknown option.
(import ./support/check :as t)
(import jsec/ca)

(def env (curenv))
(defn doc-of [name] (or (get-in env [(symbol name) :doc]) ""))

(def kw-peg (peg/compile ~(any (+ (* ":" (capture (some (+ (range "az" "09") "-")))) 1))))

(defn- section-start [line]
  (or (string/has-prefix? "Options:" line) (string/has-prefix? "Filters:" line)
      (string/has-prefix? "Options (" line)))

(defn documented
  "The option keywords the docstring of `name` documents, as strings."
  [name]
  (def found @{})
  (var in-section false)
  (each line (string/split "\n" (doc-of name))
    (cond
      (section-start line)
      (do (set in-section true)
          (when-let [[other] (peg/match ~(* "Options: as " (capture (* "ca/" (some (+ (range "az") "-"))))) line)]
            (each k (documented other) (put found k true))))
      (and in-section (string/has-prefix? "* " line))
      (let [head (first (string/split " - " (string/slice line 2)))]
        (each k (peg/match kw-peg head) (put found k true)))
      (and in-section (string/has-prefix? "  " line)) nil
      (set in-section false)))
  (sort (keys found)))

(defn option-position
  "The index of the `opts` or `filters` parameter in the signature of `name`, or nil."
  [name]
  (def sig (first (string/split "\n" (doc-of name))))
  (def params (filter |(not= $ "&opt") (drop 1 (string/split " " (string/trim sig "()")))))
  (find-index |(or (= $ "opts") (= $ "filters")) params))

# Valid calls, the options at their position.
(def dir (t/tmpdir "options"))
(def c (ca/generate {:common-name "Options Root"}))
(def cert (ca/get-cert c))
(def key (ca/get-key c))
(t/openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (string dir "/csr.key") "-subj" "/CN=options.example" "-out" (string dir "/csr.pem"))
(def csr (slurp (string dir "/csr.pem")))
(def store (ca/open-store (string dir "/options.db")))
(ca/store-save store "saved" (ca/generate {:common-name "Options Saved"}))
(var fresh 0)
(def base-calls
  {"ca/generate" (fn [] [[{}] 0])
   "ca/generate-intermediate" (fn [] [[(ca/generate) {}] 1])
   "ca/create" (fn [] [[cert key {}] 2])
   "ca/issue" (fn [] [[c {:common-name "o.example"}] 1])
   "ca/issue-async" (fn [] [[c {:common-name "o.example"}] 1])
   "ca/sign" (fn [] [[c csr {}] 2])
   "ca/get-key" (fn [] [[c {}] 1])
   "ca/crl" (fn [] [[c {}] 1])
   "ca/create-ocsp-response" (fn [] [[c {:serial 5} :good {}] 3])
   "ca/pkcs12" (fn [] [[cert key {:password "pw" :iterations 1000}] 2])
   "ca/open-store" (fn [] [[":memory:" {}] 1])
   "ca/store-save" (fn [] [[store (string "fresh-" (++ fresh)) (ca/generate) {}] 3])
   "ca/store-load" (fn [] [[store "saved" {}] 2])
   "ca/store-find" (fn [] [[store "saved" {}] 2])
   "ca/acme-open" (fn [] [[":memory:" {:base-url "https://acme.example"}] 1])})

(def with-options (sort (filter |(option-position $) (map string (filter |(string/has-prefix? "ca/" $) (keys env))))))
(t/same with-options (sort (keys base-calls)) "the functions with an options argument are those this test calls")
(each name with-options
  (t/same (option-position name) (get ((base-calls name)) 1) (string name ": its options are where its signature says")))

(defn call-with
  "Calls `name`'s valid call with `extra` merged into its options; the error message or nil."
  [name extra]
  (def [args pos] ((base-calls name)))
  (def args (array ;args))
  (put args pos (merge (args pos) extra))
  (try (do ((get-in env [(symbol name) :value]) ;args) nil) ([e] (string e))))

(defn valid-keys
  "The keys of `name`'s unknown-option error, as strings."
  [name]
  (def msg (call-with name {:no-such-option true}))
  (def prefix (string "[CA:PARAM] " name " has no option :no-such-option; valid: "))
  (when (t/ok (and msg (string/has-prefix? prefix msg)) (string/format "%s refuses an unknown option, got %q" name msg))
    (map |(string/slice $ 1) (string/split ", " (string/slice msg (length prefix))))))

(each name with-options
  (def valid (valid-keys name))
  (when valid
    (t/same (length (distinct valid)) (length valid) (string name ": the valid list names each key once"))
    (def doc (documented name))
    (def read-undocumented (filter |(not (index-of $ doc)) (sort (distinct valid))))
    (def documented-unread (filter |(not (index-of $ valid)) doc))
    (t/ok (and (empty? read-undocumented) (empty? documented-unread))
          (string/format "%s: its reader and its docstring disagree; read but not documented: %q; documented but not read: %q"
                         name read-undocumented documented-unread))
    # Every accepted key, with a value of each kind, is never called unknown.
    (each k valid
      (each v [true false 0 1 "x" :x @[] @{} ["DNS:o.example"]]
        (def msg (call-with name {(keyword k) v}))
        (t/ok (not (and msg (string/find "has no option" msg)))
              (string/format "%s accepts :%s = %q on every path, got %q" name k v msg))))))

(t/done "options")
