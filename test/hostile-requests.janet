# The corpus of hostile requests (test/support/make-hostile-csrs.py): every
# string type for every subject attribute, multi-valued RDNs, broken OIDs,
# BER booleans, non-DER lengths, odd versions, every SAN kind under permitted
# and excluded constraints of every kind, through :issue, :sign-csr with and
# without :copy-extensions, and generate-intermediate.
#
# Each case has an expected outcome (test/support/hostile-expected.txt, a
# line per case: its name, a tab, and "signed" or "refused [CA:CATEGORY]"),
# so a CA that refuses everything, or signs what it refused before, fails.
# The CA either refuses with a "[CA:" error (never a contained panic) of the
# expected category, or signs a certificate that
#   - OpenSSL (`openssl x509`), Go's crypto/x509 (strict parse) and Python
#     cryptography (every extension read) all load,
#   - pkilint lints with no ERROR or FATAL,
#   - whose chain through the (constrained) CA `openssl verify -x509_strict`,
#     Go's Verify and cryptography's verifier accept,
#   - that carries no name the request did not ask for,
# and no two certificates share an issuer and a serial. A case that yields a
# CA issues a probe leaf from it, judged the same way. The judges run once
# each over every certificate (a few findings that are limits of a judge are
# excused, narrowly and counted: test/support/judge-certs.py), and controls
# made elsewhere (test/support/make-judge-controls.py) show that each judge
# still rejects what it must. Every case's outcome is left in outcomes.txt in
# the test's temporary directory.
(import jsec/ca)
(import ./support/check :as t)
(import ./support/go-judge :as go)

(def dir (t/tmpdir "hostile-requests"))
(defn path [name] (string dir "/" name))

(let [[code out] (t/run "python3" "test/support/make-hostile-csrs.py" dir)]
  (unless (zero? code)
    (t/ok false (string "make-hostile-csrs.py: " out))
    (t/done "hostile-requests")))
(def manifest (parse (slurp (path "manifest.jdn"))))
(def cases (manifest :cases))

# --- the CAs the requests go to -----------------------------------------------

(def profiles (manifest :profiles))
(def root (ca/generate {:common-name (get-in profiles [:root :common-name]) :path-length 2}))
(def root-pem (t/write dir "ca-root.pem" (ca/get-cert root)))
(def cas @{"root" root})
(def chain-files @{"root" []})
(eachk p profiles
  (unless (= p :root)
    (def nc (get-in profiles [p :name-constraints]))
    (def inter (ca/generate-intermediate root {:common-name (get-in profiles [p :common-name]) :path-length 1
                                               :name-constraints nc}))
    (put cas (string p) inter)
    (put chain-files (string p) [(t/write dir (string "ca-" p ".pem") (ca/get-cert inter))])))

# --- asking ---------------------------------------------------------------------

(defn refusal
  "nil when `msg` is a proper refusal, else what is wrong with it."
  [msg]
  (cond
    (not (string/has-prefix? "[CA:" msg)) (string "an error without a [CA:...] category: " msg)
    (string/find "internal error" msg) (string "a contained panic: " msg)))

(def signed @[])      # {:kind :case/:probe/:ca/:control :name :pem :chain [files] :requested [...] or :any
                      #  (:root file, for controls)}
(def violations @{})  # name -> @[what ...]
(def refused @[])
(def probe-refused @[])
(def excused @[])     # judge findings set aside as limits of the judge (test/support/judge-certs.py)
(defn violation [name & what]
  (unless (violations name) (put violations name @[]))
  (array/push (violations name) (string ;what)))

(defn ask
  "Runs a case's call; returns [:signed pem new-ca-or-nil] or [:refused msg]."
  [c]
  (def the-ca (cas (c :ca)))
  (def opts (c :options))
  (try
    (case (c :call)
      "issue" [:signed ((ca/issue the-ca opts) :cert) nil]
      "sign-csr" [:signed (ca/sign the-ca (slurp (c :csr)) opts) nil]
      "generate-intermediate" (let [child (ca/generate-intermediate the-ca opts)]
                                [:signed (ca/get-cert child) child]))
    ([e] [:refused (string e)])))

(defn probe
  "Issues the case's probe leaf from the CA it made (a CA:TRUE request is
  loaded with its key first); records it for judging, or why there is none."
  [c pem child chain]
  (def probe-name (string (c :name) "/probe"))
  (def opts (c :probe))
  (def child-file (t/write dir (string (length signed) "-ca.pem") pem))
  (match (protect ((ca/issue (or child (ca/create pem (slurp (c :key)))) opts) :cert))
    [true leaf] (array/push signed {:kind :probe :name probe-name :pem leaf :chain [;chain child-file]
                                    :requested [(string "2.5.4.3=" (opts :common-name)) ;(get opts :san [])]})
    [false e] (do (array/push probe-refused (string probe-name ": " e))
                  (when-let [bad (refusal (string e))] (violation probe-name bad)))))

# the corpus CAs are judged too, and come first: a later certificate with the
# same issuer and serial as one of theirs is the one at fault
(eachp [p the-ca] cas
  (array/push signed {:kind :ca :name (string "ca/" p) :pem (ca/get-cert the-ca) :chain [] :requested :any}))

# What each case should do. A case added to the corpus (or renumbered: the
# number leads its name) needs its line; the failure says which line it wants.
(def expected-file "test/support/hostile-expected.txt")
(def expected
  (tabseq [line :in (string/split "\n" (slurp expected-file))
           :when (not (empty? line))
           :let [[name outcome] (string/split "\t" line)]]
    name outcome))
(defn verdict
  "An outcome as the expectations write it: signed, or refused [CA:CATEGORY]."
  [outcome]
  (match outcome
    [:signed] "signed"
    [:refused msg] (string "refused " (or (first (peg/match ~(<- (* "[CA:" (some (range "AZ")) "]")) msg))
                                          (string "without a category: " msg)))))
(t/same (sort (keys expected)) (sort (map |($ :name) cases))
        (string "every case of the corpus, and no other, has an expected outcome in " expected-file))

(def outcomes @[])    # one line per case, written to outcomes.txt for whoever reads a failure
(each c cases
  (def name (c :name))
  (def chain (chain-files (c :ca)))
  (def outcome (ask c))
  (array/push outcomes (string name "\t" (outcome 0) "\t" (if (= (outcome 0) :refused) (outcome 1) "")))
  (unless (= (verdict outcome) (expected name))
    (violation name "expected " (or (expected name) "nothing (no line in " expected-file ")")
               ", got " (verdict outcome) (if (= (outcome 0) :refused) (string ": " (outcome 1)) "")
               "\n    the line it would take: " name "\t" (verdict outcome)))
  (match outcome
    [:refused msg]
    (do (array/push refused name)
        (when-let [bad (refusal msg)] (violation name bad)))
    [:signed pem child]
    (do
      (array/push signed {:kind :case :name name :pem pem :chain chain :requested (c :requested)})
      (when (c :probe) (probe c pem child chain)))))

# certificates made elsewhere, each wrong in a way given judges must see
# (test/support/make-judge-controls.py); a good one no judge may object to
(let [[code out] (t/run "python3" "test/support/make-judge-controls.py" dir)]
  (t/ok (zero? code) (string "make-judge-controls.py: " out)))
(def controls (parse (slurp (path "controls.jdn"))))
(each c controls
  (array/push signed {:kind :control :name (c :name) :pem (slurp (c :cert)) :chain (c :chain) :root (c :root)
                      :requested (c :requested)}))

# --- judging --------------------------------------------------------------------

(defn chain-bundle
  "One PEM file holding the intermediates of a chain (nil for none)."
  [i files]
  (unless (empty? files)
    (if (one? (length files)) (first files)
        (t/write dir (string i "-chain.pem") (string/join (map slurp files))))))

(defn run-out
  "Runs argv; returns [code stdout], its stderr going to a file in `dir`."
  [& argv]
  (def err-file (path "stderr.log"))
  (with [err (file/open err-file :w)]
    (def p (os/spawn argv :p {:out :pipe :err err}))
    (def out (:read (p :out) :all))
    [(:wait p) (string (or out ""))]))

(def jobs @[])
(eachp [i s] signed
  (def bundle (chain-bundle i (s :chain)))
  (array/push jobs [(s :name) (t/write dir (string i ".pem") (s :pem)) [(get s :root root-pem)] (if bundle [bundle] [])]))

# OpenSSL: one `openssl verify` per chain for everything it accepts; what it
# does not accept is looked at again one by one, to say why.
(def openssl-ok @{})
(loop [[[roots inters] group] :pairs (group-by |[($ 2) ($ 3)] jobs)
       :let [files (map |($ 1) group)]
       chunk :in (partition 200 files)]
  (def [_ out] (run-out "openssl" "verify" "-x509_strict" "-CAfile" (first roots)
                        ;(if (empty? inters) [] ["-untrusted" (first inters)]) ;chunk))
  (each line (string/split "\n" out)
    (when (string/has-suffix? ": OK" line) (put openssl-ok (string/slice line 0 -5) true))))
(each [name file roots inters] jobs
  (unless (openssl-ok file)
    (def [x509-code x509-out] (t/openssl "x509" "-noout" "-in" file))
    (unless (zero? x509-code) (violation name "openssl x509 cannot load it: " x509-out))
    (def [_ verify-out] (t/openssl "verify" "-x509_strict" "-CAfile" (first roots)
                                   ;(if (empty? inters) [] ["-untrusted" (first inters)]) file))
    (violation name "openssl verify -x509_strict: " verify-out)))

(def go-verdicts (go/judge jobs dir))
(spit (path "py.jobs") (string/join (map |(string/join [($ 0) ($ 1) (string/join ($ 2) ",") (string/join ($ 3) ",")] "\t") jobs) "\n"))
(def py-verdicts @{})
(let [[code out] (run-out "python3" "test/support/judge-certs.py" (path "py.jobs"))]
  (t/ok (zero? code) (string "judge-certs.py runs: " (slurp (path "stderr.log"))))
  (each v (parse-all out) (put py-verdicts (v :name) v)))

(defn canonical
  "A name as the comparison sees it: DNS names and email domains in lower case."
  [n]
  (cond
    (string/has-prefix? "DNS:" n) (string/ascii-lower n)
    (string/has-prefix? "email:" n)
    (if-let [at (last (string/find-all "@" n))]
      (string (string/slice n 0 at) (string/ascii-lower (string/slice n at)))
      n)
    n))

(def by-issuer-serial @{})
(each s signed
  (def name (s :name))
  (def g (go-verdicts name))
  (unless (= g "ok") (violation name "go x509: " (or g "no verdict")))
  (def py (py-verdicts name))
  (if (nil? py)
    (violation name "python judge: no verdict")
    (do
      (if (= (py :load) "ok")
        (do
          (unless (= (py :pkilint) "ok") (violation name "pkilint: " (py :pkilint)))
          (unless (or (= (py :verify) "ok") (string/has-prefix? "not judged: " (py :verify)))
            (violation name "cryptography verifier: " (py :verify)))
          (each why (py :excused) (array/push excused (merge why {:case name}))))
        (violation name "cryptography cannot load it: " (py :load)))
      (unless (= (s :requested) :any)
        (def asked (tabseq [n :in (s :requested)] (canonical n) true))
        (each n (py :names)
          (unless (asked (canonical n)) (violation name "carries a name not requested: " (describe n)))))
      (when (= (py :load) "ok")
        (def key (string (py :issuer) " #" (py :serial)))
        (if-let [other (by-issuer-serial key)]
          (violation name "same issuer and serial as " other ": " key)
          (put by-issuer-serial key name))))))

# --- verdict --------------------------------------------------------------------

(defn clean? [s] (nil? (violations (s :name))))
(def case-certs (filter |(= ($ :kind) :case) signed))
(printf "hostile-requests: %d cases, %d refused, %d signed and accepted by all judges, %d signed and not"
        (length cases) (length refused) (count clean? case-certs) (count |(not (clean? $)) case-certs))
(printf "expected: %d signed, %d refused"
        (count |(= "signed" $) (values expected)) (count |(string/has-prefix? "refused" $) (values expected)))
(printf "also judged: %d probe leaves from the CAs the corpus made, %d corpus CA certificates, %d controls; %d probes refused"
        (count |(= ($ :kind) :probe) signed) (count |(= ($ :kind) :ca) signed) (length controls)
        (length probe-refused))
(printf "judge findings excused as limits of the judge (%d), by kind: %s" (length excused)
        (string/join (map (fn [[k n]] (string n " " k)) (pairs (frequencies (map |($ :kind) excused)))) ", "))
(unless (empty? probe-refused)
  (printf "probe leaves refused: %s" (string/join probe-refused "; ")))
(spit (path "outcomes.txt") (string/join outcomes "\n"))
(printf "every case's outcome: %s" (path "outcomes.txt"))

# the controls: every judge expected to object did, and none objects to the good one
(each c controls
  (def seen (get violations (c :name) []))
  (if (empty? (c :expect))
    (t/ok (empty? seen) (string "no judge objects to the good " (c :name) ": " (string/join seen "; ")))
    (each judge (c :expect)
      (t/ok (find |(string/has-prefix? judge $) seen)
            (string "the judge \"" judge "\" rejects " (c :name) "; it saw: " (string/join seen "; "))))))

(printf "violations (%d cases and certificates):" (count |(not (string/has-prefix? "control/" $)) (keys violations)))
(t/ok (>= (length cases) 200) (string "the corpus has at least 200 cases, has " (length cases)))
(each s [;cases ;(filter |(or (= ($ :kind) :probe) (= ($ :kind) :ca)) signed)]
  (def v (violations (s :name)))
  (t/ok (nil? v) (string (s :name) "\n    " (string/join (or v []) "\n    "))))
(t/done "hostile-requests")
