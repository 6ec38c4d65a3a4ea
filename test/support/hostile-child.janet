# The hostile-input matrix, run in a child interpreter by test/hostile.janet:
#     build/janet test/support/hostile-child.janet --run WORKDIR
# Every ca/ function, every method, every argument position and every option
# key gets a value of every Janet type. Each call must return or raise an error
# starting with "[CA:". Prints "at <call>" before each call (so a crash can be
# located), "BAD <call> -> <error>" per wrong error, and finally "OK <count>".
# Without --run it only defines things (jpm test runs test/support too).
(import jsec/ca)

(def option-keys
  [:common-name :organization :country :organizational-unit :locality :state :email :serial-number
   :subject :days-valid :key-type :serial :track-issued :path-length :name-constraints :crl-url
   :ocsp-url :ca-issuers-url :certificate-policies :revoked :crl-number :password :san :key-usage
   :extended-key-usage :ocsp-must-staple :not-before :not-after :copy-extensions :basic-constraints
   :next-update :revocation-time :revocation-reason :this-update :include-nonce
   :chain :name :legacy :key-password])

(def methods
  [:generate-intermediate :issue :sign-csr :sign :get-cert :get-key :get-serial :set-serial
   :is-tracking :get-issued :revoke :get-revoked :generate-crl :crl :get-crl-number
   :parse-ocsp-request :create-ocsp-response :get-status :ocsp-error-response])

(defn- hostile-values
  "[label value] pairs, one or more per Janet type."
  [a-ca]
  [["nil" nil] ["true" true] ["false" false] ["0" 0] ["-1" -1] ["1.5" 1.5] ["nan" math/nan]
   ["inf" math/inf] ["-inf" math/-inf] ["1e300" 1e300] ["\"\"" ""]
   ["1MiB-string" (string/repeat "A" (* 1024 1024))] ["\"garbage\"" "garbage"] ["@\"buffer\"" @"buffer"]
   [":kw" :kw] ["'sym" 'sym] ["[]" []] ["@[]" @[]] ["{}" {}] ["@{}" @{}] ["function" (fn [] 1)]
   ["fiber" (fiber/new (fn [] 1))] ["(int/s64 -5)" (int/s64 -5)] ["(int/u64 5)" (int/u64 5)]
   ["peg" (peg/compile "a")] ["file" stdout] ["a-ca" a-ca]])

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
  (def info (try (ca/parse-ocsp-request der)
              ([_] {:issuer-name-hash @"0000" :issuer-key-hash @"0000" :serial (int/s64 5) :nonce nil})))
  {:ca the-ca :cert (ca/get-cert the-ca) :key (ca/get-key the-ca) :csr (slurp (string dir "/csr.pem"))
   :der der :info info})

(defn- base-calls
  "Each function with valid arguments, and the position of its options (or nil)."
  [fx]
  (def c (fx :ca))
  {'ca/generate [[{}] 0]
   'ca/generate-intermediate [[c {}] 1]
   'ca/create [[(fx :cert) (fx :key) {}] 2]
   'ca/issue [[c {:common-name "h.example"}] 1]
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
   'ca/pkcs12 [[(fx :cert) (fx :key) {:password "pw"}] 2]})

(defn- nested-options
  "[key value] pairs that hide `v` inside the lists and tables options take."
  [v]
  [;(mapcat |[[$ [v]] [$ @["DNS:ok.example" v]]]
            [:san :key-usage :extended-key-usage :certificate-policies :crl-url :ocsp-url
             :ca-issuers-url :subject :revoked :chain])
   [:subject [[v "x"]]] [:subject [["CN" v]]] [:subject [["CN"]]] [:subject @[@["CN" "x" v]]]
   [:revoked [{:serial v}]] [:revoked [{:serial 5 :reason v}]] [:revoked [{:serial 5 :date v}]]
   [:revoked [@{:serial 5 v 1}]] [:name-constraints {:permitted [v]}] [:name-constraints {:excluded v}]
   [:name-constraints @{:permitted ["DNS:.example.com"] :excluded [v]}]])

(defn- describe-arg [x labels]
  (or (labels x)
      (let [s (string/format "%q" x)] (if (> (length s) 60) (string (string/slice s 0 57) "...") s))))

(defn- run-matrix [dir]
  (def fx (make-fixtures dir))
  (def values (hostile-values (fx :ca)))
  (def labels (tabseq [[label v] :in values :when (not (nil? v))] v label))
  (put labels (fx :ca) "a-ca")
  (def calls (base-calls fx))
  (var count 0)
  (var bad 0)
  (defn attempt [desc f]
    (++ count)
    (eprint "at " desc)
    (eflush)
    (try (f)
      ([e]
        (unless (and (string? e) (string/has-prefix? "[CA:" e))
          (++ bad)
          (printf "BAD %s -> %q" desc e)))))
  (defn call-desc [head args]
    (string "(" head " " (string/join (map |(describe-arg $ labels) args) " ") ")"))
  # Every public function found in the module's environment.
  (def fns (sort (filter |(and (symbol? $) (string/has-prefix? "ca/" $) (cfunction? (get-in (curenv) [$ :value])))
                         (keys (curenv)))))
  (when (< (length fns) (length calls))
    (++ bad)
    (printf "BAD found only %d ca/ functions: %q" (length fns) fns))
  (each name fns
    (unless (calls name) (printf "BAD no base call for %s" name) (++ bad))
    (def f (get-in (curenv) [name :value]))
    (def [base opt-pos] (or (calls name) [[] nil]))
    (attempt (call-desc name []) |(f))
    (for pos 0 4
      (each [_ v] values
        (def args (array/concat (seq [i :range [0 pos]] (get base i)) @[v]))
        (attempt (call-desc name args) |(f ;args))))
    (when opt-pos
      (def base-opts (get base opt-pos))
      (each key option-keys
        (each [_ v] values
          (def args (array ;base))
          (put args opt-pos (merge base-opts @{key v}))
          (attempt (call-desc name args) |(f ;args))))
      # Hostile values inside list and table options.
      (each [_ v] values
        (each [key wrapped] (nested-options v)
          (def args (array ;base))
          (put args opt-pos (merge base-opts @{key wrapped}))
          (attempt (call-desc name args) |(f ;args))))))
  # Every method: the receiver is a valid CA, the other positions hostile.
  (each m methods
    (each [_ v] values
      (for pos 0 3
        (def args (array/concat (seq [i :range [0 pos]] nil) @[v]))
        (attempt (call-desc m [(fx :ca) ;args]) |(m (fx :ca) ;args)))))
  (if (zero? bad)
    (printf "OK %d" count)
    (printf "FAILED %d of %d calls raised a non-[CA:] error" bad count))
  (os/exit (if (zero? bad) 0 1)))

(defn main [_ & args]
  (when (= (first args) "--run")
    (run-matrix (or (get args 1) "/tmp"))))
