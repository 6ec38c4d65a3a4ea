# What the commands of jsec-ca (jsec/tool/*.janet) share: their errors, the
# files they write, the store they open and the names they print. Only
# defines things.
#
# A CA directory holds ca.db, the store (ca/open-store): the root CA saved as
# "root" and, with --intermediate, the intermediate as "intermediate", each
# with its key (encrypted with JSEC_CA_PASSWORD when set), serial counter,
# index of issued certificates, revocations and CRL number. The CAs loaded
# from it write through: a serial is reserved in a committed transaction
# before anything is signed with it, and each issued certificate is in the
# index before the tool writes its files, so neither a crash nor two
# invocations at once can make a serial repeat. Beside the store: root.crt
# (and intermediate.crt), the trust anchor to hand out, and certs/ with what
# the tool issued. With --store LOCATION (or JSEC_CA_STORE) the store is
# there instead, e.g. a PostgreSQL database that several hosts share.

(import jsec/ca)

# How long a command waits for another one's write transaction (ms).
(def- busy-timeout 30000)
# Index rows read per ca/store-find call (pages follow each other by :after,
# so each costs the same wherever it starts); a page of 10,000 rows holds
# about 15 MB.
(def- page-size 10000)

# --- errors and exit codes -------------------------------------------------

(defn usage-error
  "A mistake in the command line: exit code 2."
  [fmt & args]
  (error [:usage (string/format fmt ;args)]))

(defn fail
  "A failure: exit code 1."
  [fmt & args]
  (error [:fail (string/format fmt ;args)]))

(defn no-arguments
  "A usage error unless `command` was given no positional arguments."
  [command args]
  (unless (empty? args) (usage-error "%s takes no arguments, got %q" command (first args))))

# --- files -------------------------------------------------------------------

(defn path [& parts] (string/join parts "/"))

(defn mkdirs
  "Creates `dir` and its parents."
  [dir]
  (var acc (if (string/has-prefix? "/" dir) "" "."))
  (each part (filter |(not (empty? $)) (string/split "/" dir))
    (set acc (string acc "/" part))
    (os/mkdir acc)))

(defn split-path
  "[directory stem] of a file path, without a .crt/.pem extension."
  [file]
  (def slash (last (string/find-all "/" file)))
  (def base (if slash (string/slice file (inc slash)) file))
  [(if slash (string/slice file 0 slash) ".")
   (->> base (string/replace ".crt" "") (string/replace ".pem" ""))])

(defn- getpid
  "This process's id: os/getpid where Janet has it (1.36 and 1.37 lack it), else
  /proc/self's target or the parent of a child shell."
  []
  (if-let [getpid (get (dyn 'os/getpid) :value)]
    (getpid)
    (or (scan-number (or (try (os/readlink "/proc/self") ([_] nil)) ""))
        (let [p (os/spawn ["sh" "-c" "echo $PPID"] :p {:out :pipe})
              out (string (or (:read (p :out) :all) ""))]
          (:wait p)
          (scan-number (string/trim out))))))

(defn write-atomically
  "Writes `content` to `file` through a temporary file in the same directory,
  then renames it over `file`, so that `file` is always whole."
  [file content &opt mode]
  (def tmp (string file ".tmp-" (getpid)))
  (def stream (os/open tmp :wctx (or mode 8r644)))
  (defer (:close stream)
    (:write stream content))
  (os/rename tmp file))

(defn read-file
  "The contents of `file`, or a failure naming it."
  [file]
  (or (try (slurp file) ([_] nil))
      (fail "cannot read %s" file)))

# --- the store ---------------------------------------------------------------

(defn store-file [dir] (path dir "ca.db"))
(defn state-file [dir] (path dir "state.jdn"))

(defn password [] (let [p (os/getenv "JSEC_CA_PASSWORD")] (when (not= p "") p)))
(defn password-opts [] (if (password) {:password (password)} {}))

(defn store-location
  "Where the CA of these options lives when not in D/ca.db: --store, else
  $JSEC_CA_STORE; nil for D/ca.db."
  [opts]
  (def env (os/getenv "JSEC_CA_STORE"))
  (or (opts :store) (when (and env (not= env "")) env)))

(defn- store-args
  "How a command line names the store of these options, for the hints in messages."
  [opts]
  (if (store-location opts) "--store LOCATION" (string "--dir " (opts :dir))))

(defn open-store
  "The store of these options (--store, else D/ca.db, which must exist)."
  [opts &opt read-only]
  (def dir (opts :dir))
  (def location (or (store-location opts) (store-file dir)))
  (unless (or (store-location opts) (os/stat location))
    (if (os/stat (state-file dir))
      (fail "%s holds a CA of an older jsec-ca (state.jdn): run `jsec-ca migrate --dir %s` first" dir dir)
      (fail "no CA in %s: run `jsec-ca init --dir %s` first" dir dir)))
  (ca/open-store location {:busy-timeout busy-timeout :read-only (truthy? read-only)}))

(defn create-store
  "A new, empty store for these options (D/ca.db is made mode 600: it holds
  the CA keys); fails when it already holds a CA."
  [opts]
  (def file (store-file (opts :dir)))
  (unless (or (store-location opts) (os/stat file))
    (try (:close (os/open file :wcx 8r600)) ([_] nil)))
  (def store (ca/open-store (or (store-location opts) file) {:busy-timeout busy-timeout}))
  (unless (empty? (ca/store-cas store))
    (fail "%s already holds a CA; choose another %s" (ca/store-location store)
          (if (store-location opts) "--store" "--dir")))
  store)

(defn signer-name
  "The name in `store` of the CA that signs: the intermediate, when there is one."
  [store opts]
  (def cas (ca/store-cas store))
  (cond
    (index-of "intermediate" cas) "intermediate"
    (index-of "root" cas) "root"
    (fail "no CA in %s: run `jsec-ca init %s` first" (ca/store-location store) (store-args opts))))

(defn load-ca
  "The CA `name` from `store`, writing through, its key opened with JSEC_CA_PASSWORD."
  [store name]
  (try (ca/store-load store name (password-opts))
    ([err fib]
      (if (and (not (password)) (string/find "encrypted" (string err)))
        (fail "the CA keys in %s are encrypted: set JSEC_CA_PASSWORD" (ca/store-location store))
        (propagate err fib)))))

(defn with-signer
  "Opens the store of these options, loads the signing CA and calls (f store name signer)."
  [opts f]
  (def store (open-store opts))
  (def name (signer-name store opts))
  (f store name (load-ca store name)))

(defn each-row
  "Calls (f row) for each certificate of CA `name` in `store` that matches
  `filters` (as ca/store-find takes them), by serial, a page at a time."
  [store name filters f]
  (var after nil)
  (var more true)
  (while more
    (def rows (ca/store-find store name (merge filters {:limit page-size} (if after {:after after} {}))))
    (each row rows (f row))
    (when (not (empty? rows)) (set after ((last rows) :serial)))
    (set more (= (length rows) page-size))))

(defn serial-of
  "The serial of `cert`, just issued by `signer` (CA `name` in `store`) after
  its counter read `before`, as a decimal string. ca/sign hands back the PEM
  alone; the serial lies between `before` and the counter now (other
  processes may have taken some in between), and the index row with this PEM
  tells which."
  [store name signer before cert]
  (def after (ca/get-serial signer))
  (def pem (string/trim cert))
  (var found nil)
  (var s (int/s64 before))
  (while (and (nil? found) (< s after))
    (when-let [row (first (ca/store-find store name {:serial s}))]
      (when (= pem (string/trim (row :cert))) (set found (string (row :serial)))))
    (++ s))
  (or found (fail "the certificate was issued but is not in the index of %s" name)))

# --- names and dates ---------------------------------------------------------

(def- ipv4 (peg/compile ~(* (repeat 3 (* (between 1 3 :d) ".")) (between 1 3 :d) -1)))

(defn san-entry
  "A NAME from the command line as a :san entry: IP, email or DNS."
  [name]
  (cond
    (or (peg/match ipv4 name) (string/find ":" name)) (string "IP:" name)
    (string/find "@" name) (string "email:" name)
    (string "DNS:" name)))

(defn file-base
  "A file name for a certificate named `name`."
  [name]
  (->> (string/replace-all "*" "_wildcard" name)
       (peg/replace-all ~(if-not (+ :w (set ".@_-")) 1) "_")
       string))

(defn iso-date [t]
  (def d (os/date t))
  (string/format "%04d-%02d-%02d" (d :year) (inc (d :month)) (inc (d :month-day))))

(defn usages
  "The :extended-key-usage of a certificate for `names`: serverAuth, or
  clientAuth with --client; emailProtection too for an email address."
  [opts names]
  (def eku @[(if (opts :client) "clientAuth" "serverAuth")])
  (when (some |(string/find "@" $) names) (array/push eku "emailProtection"))
  (string/join eku ","))

(defn display-name
  "What list shows for an index row: its subject, without the CN= of a CN alone."
  [row]
  (def subject (row :subject))
  (if (and (string/has-prefix? "CN=" subject) (not (string/find ", " subject)))
    (string/slice subject 3)
    subject))

# --- writing what was issued -------------------------------------------------

(defn write-leaf
  "Writes cert, key (when given) and chain files to `out` as `base`; returns
  the paths written."
  [out base cert key chain]
  (mkdirs out)
  (def crt (path out (string base ".crt")))
  (def key-file (path out (string base ".key")))
  (def chain-file (path out (string base "-chain.pem")))
  (when key (write-atomically key-file key 8r600))
  (write-atomically crt cert)
  (write-atomically chain-file (string cert chain))
  (if key [crt key-file chain-file] [crt chain-file]))

(defn chain-pem
  "The CA certificates that go after a leaf of `signer`: the intermediate, if it signs."
  [name signer]
  (if (= name "intermediate") (ca/get-cert signer) ""))

(defn issue-leaf
  "Issues one certificate with subject CN `cn` for the :san entries `sans`
  with `signer` (--days, --key-type and --client of `opts`), writes its files
  to `out`; returns [serial files]."
  [store name signer cn sans opts out]
  (def before (ca/get-serial signer))
  # :days-valid and :key-type nil (not given): the module's defaults.
  (def issued (ca/issue signer {:common-name cn
                                :san sans
                                :days-valid (opts :days)
                                :key-type (opts :key-type)
                                :extended-key-usage (usages opts sans)}))
  # ca/issue returns the serial with the certificate (:serial, an int/s64);
  # a module that does not yet leaves it to the index search of serial-of.
  (def serial (if-let [s (issued :serial)]
                (string s)
                (serial-of store name signer before (issued :cert))))
  [serial (write-leaf out (file-base cn) (issued :cert) (issued :key) (chain-pem name signer))])

(defn print-files [files]
  (each f files (print "  " f)))
