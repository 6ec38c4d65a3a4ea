# The jsec-ca command line as a library: the table of commands, the parsing
# of their options, help and dispatch. Each command is a module of its own,
# jsec/tool/COMMAND.janet, holding its help text, its options and `run`;
# what they share is jsec/tool/common.janet. bin/jsec-ca is `run` and
# nothing else:
#
#   (import jsec/tool)
#   (tool/run ["issue" "www.example.com" "--dir" "ca"])   # => 0, as `jsec-ca issue ...`
#
# or, without the command line, one command with options already parsed:
#
#   (import jsec/tool/issue)
#   (issue/run @{:dir "ca" :days 90} ["www.example.com"])  # errors instead of exit codes
#
# A command's own errors are [:usage message] (exit code 2) and [:fail
# message] (exit code 1); anything else (a [CA:...] error of the module) is
# a failure too.

(use ./tool/common)

(def- command-names
  "The commands, in the order `jsec-ca --help` lists them."
  ["init" "issue" "sign" "renew" "revoke" "crl" "list" "expiring" "export" "ocsp-serve" "acme-serve" "migrate"])

(def commands
  "Each command's module by name: its `summary` (a line for --help), `help`,
  `options` (as `parse-args` reads them, besides --dir and --store) and
  (run opts args)."
  (tabseq [name :in command-names] name (require (string "./tool/" name))))

(defn- part [command sym] (get-in commands [command sym :value]))

(def- default-dir (or (os/getenv "JSEC_CA_DIR") "ca"))

(def key-types
  "What --key-type accepts: the key types of ca/generate and ca/issue."
  ["ec-p256" "ec-p384" "ec-p521" "rsa-2048" "rsa-3072" "rsa-4096" "ed25519" "ml-dsa-44" "ml-dsa-65" "ml-dsa-87"])

# --- options ------------------------------------------------------------------

# An option's kind is one of
#   :flag       no value; true when given
#   :text       a value, as given
#   :count      a value, a positive whole number
#   :key-type   a value, one of `key-types`
# or [kind default] for a value taken when the option is not given. An option
# not given and without a default is absent (nil): the module's default holds.
(def- common-options {"dir" :text "store" :text})

(defn- value-of
  "The value of option `name` of kind `kind`, from its text; a usage error
  when it is not one."
  [name kind text]
  (case kind
    :text text
    :count (let [n (scan-number text)]
             (unless (and n (int? n) (pos? n))
               (usage-error "--%s must be a positive whole number, got %q" name text))
             n)
    :key-type (if (index-of text key-types)
                text
                (usage-error "--key-type must be one of %s, got %q" (string/join key-types ", ") text))
    (error (string/format "option --%s: unknown kind %v" name kind))))

(defn parse-args
  "Splits `args` by `spec` (option name → kind, see above) into an options
  table (keyword keys, values checked and converted, defaults filled in) and
  a list of positional arguments."
  [args spec]
  (def opts @{})
  (def positional @[])
  (var i 0)
  (while (< i (length args))
    (def arg (args i))
    (cond
      (index-of arg ["-h" "--help"]) (put opts :help true)
      (= arg "--") (do (array/concat positional (slice args (inc i))) (set i (length args)))
      (string/has-prefix? "--" arg)
      (let [[name inline] (string/split "=" (string/slice arg 2) 0 2)
            kind (spec name)
            kind (if (indexed? kind) (first kind) kind)]
        (case kind
          nil (usage-error "unknown option --%s" name)
          :flag (if inline
                  (usage-error "--%s takes no value, got %q" name inline)
                  (put opts (keyword name) true))
          (put opts (keyword name)
               (value-of name kind (or inline
                                       (do (++ i)
                                         (when (>= i (length args)) (usage-error "--%s needs a value" name))
                                         (args i)))))))
      (string/has-prefix? "-" arg) (usage-error "unknown option %s" arg)
      (array/push positional arg))
    (++ i))
  (eachp [name kind] spec
    (when (and (indexed? kind) (nil? (opts (keyword name))))
      (put opts (keyword name) (kind 1))))
  [opts positional])

# --- help ---------------------------------------------------------------------

(def- main-help-end ```
Every command takes --dir D (default: $JSEC_CA_DIR, else ./ca) and --help.
The CA lives in D/ca.db, or in the store at --store LOCATION (default:
$JSEC_CA_STORE), which several hosts may share:
  --store postgresql://USER@HOST:PORT/DB?sslmode=verify-full   (PostgreSQL;
      the password from PGPASSWORD or ~/.pgpass rather than the command line)
  --store 'host=HOST dbname=DB user=USER'                       (the same, as libpq writes it)
  --store FILE                                                  (SQLite)
Each host keeps its own D for the files it writes (certs/, root.crt).
Set JSEC_CA_PASSWORD to encrypt the CA keys (init, migrate) and to use them later.
Exit codes: 0 success, 1 failure, 2 usage error.
```)

(defn help
  "The help text of `command`, or of jsec-ca itself when nil."
  [&opt command]
  (if command
    (part command 'help)
    (string "Usage: jsec-ca COMMAND [options]\n\n"
            "A private certificate authority (in the spirit of mkcert and easy-rsa).\n\n"
            "Commands:\n"
            ;(seq [name :in command-names] (string/format "  %-12s%s\n" name (part name 'summary)))
            "\n" main-help-end)))

# --- running ------------------------------------------------------------------

(defn- dispatch
  "Runs the command line; returns the exit code."
  [args]
  (def command (first args))
  (cond
    (or (nil? command) (index-of command ["-h" "--help" "help"]))
    (do (print (help)) (if command 0 2))

    (not (commands command))
    (usage-error "unknown command %q (commands: %s)" command (string/join (sorted command-names) ", "))

    (let [[opts positional] (parse-args (slice args 1) (merge common-options (part command 'options)))]
      (if (opts :help)
        (print (help command))
        ((part command 'run) (merge-into @{:dir default-dir} opts) positional))
      0)))

(defn run
  "Runs the jsec-ca command line `args` (the arguments after the program
  name), printing what the command prints and its errors (to stderr), and
  returns the exit code: 0 success, 1 failure, 2 usage error."
  [args]
  (def code
    (try (dispatch args)
      ([err]
        (match err
          [:usage msg] (do (eprint "jsec-ca: " msg) (eprint "Run `jsec-ca --help` for usage.") 2)
          [:fail msg] (do (eprint "jsec-ca: " msg) 1)
          _ (do (eprint "jsec-ca: " err) 1)))))
  (flush)
  code)
