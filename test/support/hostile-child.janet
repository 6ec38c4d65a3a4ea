# The hostile-input matrix, run in a child interpreter by test/hostile.janet:
#     build/janet test/support/hostile-child.janet --run WORKDIR [--quick]
# Every ca/ function, every method, every argument position and every option
# key gets a value of every Janet type. Each call must return or raise an error
# starting with "[CA:" that is not a caught Rust panic ("internal error in
# jsec/ca": contained, but still a bug). Each hostile value replaces one
# argument of a valid call, the others staying valid, so that it reaches the
# code for its position. Prints "at <call>" before each call (so a crash can
# be located), "BAD <call> -> <error>" per wrong error, and finally "OK <count>".
# Without --run it only defines things (jpm test runs test/support too).
(import jsec/ca)

(def option-keys
  [:common-name :organization :country :organizational-unit :locality :state :email :serial-number
   :subject :days-valid :key-type :serial :track-issued :path-length :name-constraints :crl-url
   :ocsp-url :ca-issuers-url :certificate-policies :revoked :crl-number :password :san :key-usage
   :extended-key-usage :ocsp-must-staple :not-before :not-after :copy-extensions :basic-constraints
   :next-update :revocation-time :revocation-reason :this-update :include-nonce
   :chain :name :legacy :key-password :truncate-to-issuer :busy-timeout :read-only :status :expires-before
   :expires-after :limit :offset :after :issued])

(def methods
  [:generate-intermediate :issue :issue-async :sign-csr :sign :get-cert :get-key :get-serial :set-serial
   :is-tracking :get-issued :revoke :get-revoked :generate-crl :crl :get-crl-number
   :parse-ocsp-request :create-ocsp-response :get-status :ocsp-error-response])

(def- ffi?
  "Whether this Janet has FFI (the build scripts/build makes does): then
  pointers and buffers over foreign memory join the hostile values."
  (truthy? (get-in root-env ['ffi/malloc :value])))

(defn- pointer-values []
  (if-not ffi? []
    (let [malloc (get-in root-env ['ffi/malloc :value])
          pointer-buffer (get-in root-env ['ffi/pointer-buffer :value])
          p (malloc 64)
          foreign (pointer-buffer p 64 0)]
      (buffer/push foreign "garbage")
      [["pointer" p] ["foreign-buffer" foreign] ["empty-foreign-buffer" (pointer-buffer p 0 0)]])))

(defn- hostile-values
  "[label value] pairs, one or more per Janet type, and PEM/DER of the wrong kind."
  [fx]
  [["nil" nil] ["true" true] ["false" false] ["0" 0] ["-1" -1] ["1.5" 1.5] ["nan" math/nan]
   ["inf" math/inf] ["-inf" math/-inf] ["1e300" 1e300] ["\"\"" ""]
   ["1MiB-string" (string/repeat "A" (* 1024 1024))] ["\"garbage\"" "garbage"] ["@\"buffer\"" @"buffer"]
   ["\"a\\0b\"" "a\0b"] [":kw" :kw] ["'sym" 'sym] ["[]" []] ["@[]" @[]] ["{}" {}] ["@{}" @{}]
   ["function" (fn [] 1)] ["cfunction print" print] ["cfunction os/time" os/time]
   ["fiber" (fiber/new (fn [] 1))] ["(int/s64 -5)" (int/s64 -5)] ["(int/u64 5)" (int/u64 5)]
   ["peg" (peg/compile "a")] ["file" stdout] ["rng" (math/rng 1)] ["channel" (ev/chan)]
   ;(pointer-values)
   ["a-ca" (fx :ca)] ["key-pem" (fx :key)] ["csr-pem" (fx :csr)] ["ocsp-request-der" (fx :der)]])

(defn- openssl [& args]
  (os/execute ["openssl" ;args] :px {:out (file/open "/dev/null" :w) :err (file/open "/dev/null" :w)}))

(defn- make-fixtures
  "A CA, its PEMs, a CSR and an OCSP request, in `dir`."
  [dir]
  (def the-ca (ca/generate {:common-name "Hostile Root"}))
  (spit (string dir "/root.pem") (ca/get-cert the-ca))
  (openssl "req" "-new" "-newkey" "ec" "-pkeyopt" "ec_paramgen_curve:P-256" "-nodes"
           "-keyout" (string dir "/csr.key") "-subj" "/CN=hostile.example" "-out" (string dir "/csr.pem"))
  (openssl "ocsp" "-issuer" (string dir "/root.pem") "-serial" "5" "-reqout" (string dir "/req.der"))
  (def der (slurp (string dir "/req.der")))
  (def info (ca/parse-ocsp-request der))
  (def store-path (string dir "/hostile.db"))
  (def store (ca/open-store store-path))
  (ca/store-save store "h" (ca/generate {:common-name "Hostile Stored Root"}))
  (def acme (ca/acme-open ":memory:" {:base-url "https://acme.example" :allowed-domains ["example.com"]}))
  (def dns-query (ca/acme-dns-query "_acme-challenge.example.com" 7))
  {:ca the-ca :cert (ca/get-cert the-ca) :key (ca/get-key the-ca) :csr (slurp (string dir "/csr.pem"))
   :der der :info info :store store :store-path store-path :closable (ca/open-store store-path)
   :acme acme :dns-query dns-query :tls (ca/acme-tls-client "example.com")})

(defn- base-calls
  "Each function with valid arguments, and the position of its options (or nil)."
  [fx]
  (def c (fx :ca))
  {'ca/generate [[{}] 0]
   'ca/generate-intermediate [[c {}] 1]
   'ca/create [[(fx :cert) (fx :key) {}] 2]
   'ca/issue [[c {:common-name "h.example"}] 1]
   # Waits on the event loop, which this script's main fiber (and the `try`
   # fibers the matrix calls in) reach: no wrapper needed.
   'ca/issue-async [[c {:common-name "h.example"}] 1]
   'ca/sign [[c (fx :csr) {}] 2]
   'ca/get-cert [[c] nil]
   'ca/get-key [[c {}] 1]
   'ca/get-serial [[c] nil]
   'ca/set-serial [[c 1000] nil]
   'ca/is-tracking [[c] nil]
   'ca/get-issued [[c] nil]
   'ca/revoke [[c 5 :key-compromise] nil]
   'ca/get-revoked [[c] nil]
   'ca/crl [[c {}] 1]
   'ca/get-crl-number [[c] nil]
   'ca/parse-ocsp-request [[(fx :der)] nil]
   'ca/create-ocsp-response [[c (fx :info) :good {}] 3]
   'ca/get-status [[c 5] nil]
   'ca/ocsp-error-response [[:internal-error] nil]
   # The fewest key-derivation iterations: 600,000 (the default) take a second a call, fifty under valgrind.
   'ca/pkcs12 [[(fx :cert) (fx :key) {:password "pw" :iterations 1000}] 2]
   'ca/open-store [[(fx :store-path) {}] 1]
   'ca/store-save [[(fx :store) "fresh" c {}] 3]
   'ca/store-load [[(fx :store) "h" {}] 2]
   'ca/store-cas [[(fx :store)] nil]
   'ca/store-find [[(fx :store) "h" {}] 2]
   'ca/store-location [[(fx :store)] nil]
   'ca/store-close [[(fx :closable)] nil]
   'ca/version [[] nil]
   'ca/acme-open [[":memory:" {:base-url "https://acme.example"}] 1]
   'ca/acme-handle [[c (fx :acme) {:method "GET" :path "/directory"}] 2]
   # No challenge is pending without an account and an order (JWS-signed
   # requests): the valid call names an authorization the server does not know,
   # which is a [CA:PARAM] error (see `expected-refusals`).
   'ca/acme-validated [[(fx :acme) "authz/1" {:status 200 :body "token"}] 2]
   'ca/acme-directory-url [[(fx :acme)] nil]
   'ca/acme-dns-query [["example.com" 7] nil]
   'ca/acme-dns-answer [[(fx :dns-query) 7] nil]
   'ca/acme-tls-client [["example.com"] nil]
   # Each call gets a fresh client (see `fresh-tls`): a failed handshake ends one.
   'ca/acme-tls-step [[(fx :tls) nil] nil]})

(def- expected-refusals
  "Base calls that cannot succeed without state a test cannot make by hand,
  with the [CA:...] error they must raise."
  {'ca/acme-validated "[CA:PARAM] no authorization"})

(defn- method-calls
  "Each method with valid arguments after the receiver (a valid CA)."
  [fx]
  (def calls (base-calls fx))
  (defn after-ca [name] (tuple/slice (first (calls name)) 1))
  {:generate-intermediate (after-ca 'ca/generate-intermediate)
   :issue (after-ca 'ca/issue) :issue-async (after-ca 'ca/issue-async) :sign-csr (after-ca 'ca/sign) :sign (after-ca 'ca/sign)
   :get-cert [] :get-key (after-ca 'ca/get-key) :get-serial [] :set-serial (after-ca 'ca/set-serial)
   :is-tracking [] :get-issued [] :revoke (after-ca 'ca/revoke) :get-revoked []
   :generate-crl (after-ca 'ca/crl) :crl (after-ca 'ca/crl) :get-crl-number []
   :parse-ocsp-request [(fx :der)] :create-ocsp-response (after-ca 'ca/create-ocsp-response)
   :get-status (after-ca 'ca/get-status) :ocsp-error-response [:internal-error]})

(defn- with-option
  "`opts` with `key` set to `v`; :subject replaces :common-name (the two
  cannot be combined, and a hostile :subject must reach the subject parser)."
  [opts key v]
  (def merged (merge opts @{key v}))
  (when (= key :subject) (put merged :common-name nil))
  merged)

(defn- with-arg
  "`base` with `v` at `pos` (appended when `pos` is past its end); the other
  arguments stay valid, so the call gets past the arity check to `pos`."
  [base pos v]
  (def args (array ;base))
  (if (< pos (length args)) (put args pos v) (array/push args v))
  args)

(defn- nested-options
  "[key value] pairs that hide `v` inside the lists and tables options take."
  [v]
  [;(mapcat |[[$ [v]] [$ @["DNS:ok.example" v]]]
            [:san :key-usage :extended-key-usage :certificate-policies :crl-url :ocsp-url
             :ca-issuers-url :subject :revoked :chain])
   [:subject [[v "x"]]] [:subject [["CN" v]]] [:subject [["CN"]]] [:subject @[@["CN" "x" v]]]
   [:revoked [{:serial v}]] [:revoked [{:serial 5 :reason v}]] [:revoked [{:serial 5 :date v}]]
   [:revoked [@{:serial 5 v 1}]] [:name-constraints {:permitted [v]}] [:name-constraints {:excluded v}]
   [:name-constraints @{:permitted ["DNS:example.com"] :excluded [v]}]])

(defn- describe-arg [x labels]
  (or (labels x)
      (let [s (string/format "%q" x)] (if (> (length s) 60) (string (string/slice s 0 57) "...") s))))

(def panic-marker
  "What src/binding/edge.rs puts in the error it raises for a caught Rust panic."
  "internal error in jsec/ca")

(defn- panic? [e] (and (string? e) (string/find panic-marker e)))

(def quick-labels
  "The values of the quick matrix (one or so per kind of value), which
  test/memcheck.janet runs under valgrind, where the whole one is too slow."
  ["nil" "false" "-1" "1.5" "\"garbage\"" "@\"buffer\"" ":kw" "@[]" "@{}" "cfunction print"
   "(int/s64 -5)" "pointer" "a-ca" "csr-pem"])

(defn- run-matrix [dir quick]
  # ca/open-store creates the files hostile locations name: keep them in `dir`.
  (os/cd dir)
  (def fx (make-fixtures dir))
  (def values (if quick
                (filter |(index-of (first $) quick-labels) (hostile-values fx))
                (hostile-values fx)))
  (def labels (tabseq [[label v] :in values :when (not (nil? v))] v label))
  # Under valgrind (quick) the ACME functions keep their hostile arguments but
  # not the sweep of every option key: each ca/acme-open builds an SQLite
  # store, and 14 values x every key of the module made the run outlast its limit.
  (def calls (if quick
               (merge (base-calls fx)
                      (tabseq [name :in ['ca/acme-open 'ca/acme-handle 'ca/acme-validated]]
                        name [(first ((base-calls fx) name)) nil]))
               (base-calls fx)))
  (def mcalls (method-calls fx))
  (var count 0)
  (var bad 0)
  (defn attempt [desc f]
    (++ count)
    (eprint "at " desc)
    (eflush)
    (try (f)
      ([e]
        (cond
          (panic? e) (do (++ bad) (printf "BAD %s -> caught a Rust panic: %q" desc e))
          (not (and (string? e) (string/has-prefix? "[CA:" e)))
          (do (++ bad) (printf "BAD %s -> %q" desc e))))))
  (defn call-desc [head args]
    (string "(" head " " (string/join (map |(describe-arg $ labels) args) " ") ")"))
  # The valid calls must succeed, or the hostile variants test nothing past them.
  (defn check-base [desc f &opt refusal]
    (try (do (f) (when refusal (++ bad) (printf "BAD the call %s should raise %q" desc refusal)))
      ([e] (unless (and refusal (string/has-prefix? refusal (string e)))
             (++ bad) (printf "BAD the valid call %s fails: %q" desc e)))))
  # Every public function found in the module's environment.
  (def fns (sort (filter |(and (symbol? $) (string/has-prefix? "ca/" $) (cfunction? (get-in (curenv) [$ :value])))
                         (keys (curenv)))))
  (when (< (length fns) (length calls))
    (++ bad)
    (printf "BAD found only %d ca/ functions: %q" (length fns) fns))
  # A CA certifies at most one CA of each name (two would share issuer names
  # and serials), so every generate-intermediate gets a parent of its own
  # wherever the fixture CA would be the parent.
  (defn own-parent [args] (if (= (first args) (fx :ca)) [(ca/generate) ;(slice args 1)] args))
  # A store name is saved once, and a saved CA belongs to its store: each
  # store-save gets a name and a CA of its own wherever the valid ones stand.
  (var saved 0)
  (defn own-name-and-ca [args]
    (def args (array ;args))
    (when (= (get args 1) "fresh") (put args 1 (string "fresh-" (++ saved))))
    (when (= (get args 2) (fx :ca)) (put args 2 (ca/generate)))
    args)
  # A TLS client whose handshake failed stays finished: each ca/acme-tls-step
  # gets a fresh client wherever the valid one stands.
  (defn fresh-tls [args]
    (if (= (first args) (fx :tls)) [(ca/acme-tls-client "example.com") ;(slice args 1)] args))
  (each name fns
    (unless (calls name) (printf "BAD no base call for %s" name) (++ bad))
    (def f (let [raw (get-in (curenv) [name :value])]
             (case name
               'ca/generate-intermediate (fn [& args] (raw ;(own-parent args)))
               'ca/store-save (fn [& args] (raw ;(own-name-and-ca args)))
               'ca/acme-tls-step (fn [& args] (raw ;(fresh-tls args)))
               raw)))
    (def [base opt-pos] (or (calls name) [[] nil]))
    (check-base (call-desc name base) |(f ;base) (expected-refusals name))
    (attempt (call-desc name []) |(f))
    # each position, the others valid; one past the end is an extra argument
    (for pos 0 (+ 1 (length base))
      (each [_ v] values
        (def args (with-arg base pos v))
        (attempt (call-desc name args) |(f ;args))))
    (when opt-pos
      (def base-opts (get base opt-pos))
      (each key option-keys
        (each [_ v] values
          (def args (with-arg base opt-pos (with-option base-opts key v)))
          (attempt (call-desc name args) |(f ;args))))
      # Hostile values inside list and table options.
      (each [_ v] values
        (each [key wrapped] (nested-options v)
          (def args (with-arg base opt-pos (with-option base-opts key wrapped)))
          (attempt (call-desc name args) |(f ;args))))))
  # The OCSP request info: each field hostile, the others valid; also each
  # field of its first :requests entry.
  (def info (fx :info))
  (def first-request (get-in info [:requests 0]))
  (defn try-info [hostile-info]
    (def args [(fx :ca) hostile-info :good {}])
    (attempt (call-desc 'ca/create-ocsp-response args) |(ca/create-ocsp-response ;args)))
  (each [_ v] values
    (each key [;(sort (keys info)) :extra]
      (try-info (merge info @{key v})))
    (each key [;(sort (keys first-request)) :extra]
      (try-info (merge info @{:requests @[(merge first-request @{key v})]})))
    (try-info (merge info @{:requests @[v]})))
  # Every method: the receiver is a valid CA; each other position hostile, the rest valid.
  (each m methods
    (def base (or (mcalls m) (do (printf "BAD no base call for the method %s" m) (++ bad) [])))
    (defn receiver [] (if (= m :generate-intermediate) (ca/generate) (fx :ca)))
    (check-base (call-desc m [(fx :ca) ;base]) |(m (receiver) ;base))
    (for pos 0 (+ 1 (length base))
      (each [_ v] values
        (def args (with-arg base pos v))
        (attempt (call-desc m [(fx :ca) ;args]) |(m (receiver) ;args)))))
  # Every ca/Store method: the receiver a valid store, each other position hostile.
  (each [m base] [[:save ["fresh" (fx :ca) {}]] [:load ["h" {}]] [:cas []] [:find ["h" {}]] [:location []] [:close []]]
    (def receiver (if (= m :close) (fx :closable) (fx :store)))
    (defn call [args] (m receiver ;(if (= m :save) (slice (own-name-and-ca [receiver ;args]) 1) args)))
    (check-base (call-desc m [receiver ;base]) |(call base))
    (for pos 0 (+ 1 (length base))
      (each [_ v] values
        (def args (with-arg base pos v))
        (attempt (call-desc m [receiver ;args]) |(call args)))))
  # the foreign memory behind the pointer values (so valgrind sees no leak)
  (when-let [[_ p] (find |(= (first $) "pointer") values)]
    ((get-in root-env ['ffi/free :value]) p))
  (if (zero? bad)
    (printf "OK %d" count)
    (printf "FAILED %d of %d calls raised a non-[CA:] error or a caught panic" bad count))
  (os/exit (if (zero? bad) 0 1)))

(defn main [_ & args]
  (when (= (first args) "--run")
    (run-matrix (or (get args 1) "/tmp") (= (get args 2) "--quick"))))
