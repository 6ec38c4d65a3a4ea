# The module's tables, derived from one declaration per function (a line of a
# `registry!` table in src/binding/*.rs), checked against those declarations:
# the environment's bindings, their docstrings and source maps, and the method
# tables of ca/CA and ca/Store.
(import ./support/check :as t)
(import jsec/ca)

(def env (curenv))
(def bindings (sort (filter |(string/has-prefix? "ca/" $) (keys env))))

# Every registry! entry of the source, in file order: [file line name].
(def entry-peg (peg/compile ~(* (any (set " \t")) "\"" (capture (* "ca/" (some (if-not "\"" 1)))) "\" =>")))
(def declared @[])
(each file (sort (os/dir "src/binding"))
  (when (string/has-suffix? ".rs" file)
    (def path (string "src/binding/" file))
    (var in-table false)
    (eachp [i line] (string/split "\n" (slurp path))
      (cond
        (string/has-prefix? "registry! {" line) (set in-table true)
        (and in-table (string/has-prefix? "}" line)) (set in-table false)
        in-table (if-let [[name] (peg/match entry-peg line)]
                   (array/push declared [path (inc i) name])
                   (t/ok false (string path ":" (inc i) " is not a registry! entry: " line)))))))

(t/ok (> (length declared) 20) "registry! tables found in src/binding")
(t/same (sort (map |(symbol ($ 2)) declared)) bindings "every declared function is bound, and nothing else")
(t/same (length (distinct (map |($ 2) declared))) (length declared) "no function is declared twice")

(each [path line name] declared
  (def sym (symbol name))
  (def b (env sym))
  (when b
    (t/same (b :source-map) [path line 1] (string name ":source-map is its registry! line"))
    (def doc (or (b :doc) ""))
    (t/ok (or (string/has-prefix? (string "(" name " ") doc) (string/has-prefix? (string "(" name ")") doc))
          (string name "'s docstring starts with its signature"))))

# Methods: each reaches exactly one ca/ function, and every "Method form:
# (:m ..." of a docstring is a method reaching that docstring's function.
(def samples {"ca/CA" (ca/generate) "ca/Store" (ca/open-store ":memory:")
              "ca/Acme" (ca/acme-open ":memory:" {:base-url "https://acme.example"})})
(def method-owner @{})
(eachp [type sample] samples
  (def ms (keys sample))
  (t/same (length (distinct ms)) (length ms) (string type " lists each method once"))
  (each m ms
    (def owners (filter |(= (get sample m) (get-in env [$ :value])) bindings))
    (t/same (length owners) 1 (string "(:" m ") of " type " is one ca/ function"))
    (put method-owner [type m] (first owners))))
(each sym bindings
  (def doc (or (get-in env [sym :doc]) ""))
  (each form (drop 1 (string/split "Method form: (:" doc))
    (def m (keyword (first (peg/match ~(capture (some (if-not (set " )") 1))) form))))
    (t/ok (some |(= (method-owner [$ m]) sym) (keys samples))
          (string sym " documents (:" m ") and that method reaches it"))))
(t/same (tuple ;(map |(method-owner ["ca/CA" $]) [:sign-csr :sign :generate-crl :crl]))
        '[ca/sign ca/sign ca/crl ca/crl] "aliases share one cfunction")
(t/same (method-owner ["ca/Store" :save]) 'ca/store-save ":save is ca/store-save")

(t/done "registry")
