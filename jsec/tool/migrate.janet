# jsec-ca migrate: a CA directory of an older jsec-ca (state.jdn) moved into a store.
(import jsec/ca)
(use ./common)

(def summary "move a CA directory of an older jsec-ca (state.jdn) into ca.db")

(def help ```
Usage: jsec-ca migrate [--dir D] [--store LOCATION]

Moves a CA directory made by an older jsec-ca (state.jdn, root.key,
intermediate.key) into the store D/ca.db (or the empty one at --store): the CA keys (encrypted with
JSEC_CA_PASSWORD when set), the next serial (serials used or reserved before
stay used), the revocations with their dates and the next CRL number. The old
state is kept as D/state.jdn.migrated.

The certificates issued before the migration go into the store's index from
their files in D/certs (as `list`, `expiring` and `renew` show them), keep
their serials and status (OCSP, CRLs), and can be revoked.
```)

(def options {})

(defn- read-old-state
  "The state.jdn of an older jsec-ca in `dir`."
  [dir]
  (def file (state-file dir))
  (unless (os/stat file)
    (if (os/stat (store-file dir))
      (fail "%s keeps its CA in %s already: nothing to migrate" dir (store-file dir))
      (fail "no state.jdn in %s: nothing to migrate" dir)))
  (def state (try (parse (slurp file)) ([e] (fail "%s is corrupt: %s" file e))))
  (unless (and (dictionary? state) (state :next-serial) (dictionary? (state :issued)))
    (fail "%s is not a jsec-ca state file" file))
  (unless (= 1 (state :version))
    (fail "%s has version %v; this jsec-ca migrates version 1" file (state :version)))
  state)

(defn- old-ca
  "The CA `base` (root or intermediate) of an older jsec-ca directory."
  [dir base opts]
  (def key (read-file (path dir (string base ".key"))))
  (when (and (string/find "ENCRYPTED" key) (not (password)))
    (fail "%s is encrypted: set JSEC_CA_PASSWORD" (path dir (string base ".key"))))
  (ca/create (read-file (path dir (string base ".crt"))) key (merge opts (password-opts))))

(defn- next-unused
  "The first serial after every one the old state used, reserved or revoked:
  its next serial, and past any serial in its index or revocations."
  [state]
  (var next (int/s64 (state :next-serial)))
  (each s (array/concat (map int/s64 (keys (state :issued)))
                        (map |(int/s64 ($ :serial)) (state :revoked)))
    (when (>= s next) (set next (+ s 1))))
  next)

(defn run
  "Migrates the CA directory of `opts`."
  [opts args]
  (no-arguments "migrate" args)
  (def dir (opts :dir))
  (def state (read-old-state dir))
  (when (and (not (store-location opts)) (os/stat (store-file dir)))
    (fail "%s exists already (a migration that was interrupted?): move it away and run migrate again"
          (store-file dir)))
  (def signer-base (if (= (state :signer) "intermediate") "intermediate" "root"))
  (def revoked (map |{:serial (int/s64 ($ :serial)) :reason (keyword ($ :reason)) :date ($ :date)}
                    (state :revoked)))
  # Serials below a loaded CA's counter count as used, pending ones included;
  # the certificates still on disk join the index.
  (def old-certs (distinct (seq [[_ entry] :pairs (state :issued)
                                 :let [file (get entry :file)]
                                 :when (and file (os/stat file))]
                             (slurp file))))
  (def signer-opts {:serial (next-unused state)
                    :revoked revoked
                    :issued old-certs
                    :crl-number (int/s64 (state :crl-number))})
  (def sub (when (= signer-base "intermediate") (old-ca dir "intermediate" signer-opts)))
  (def root (old-ca dir "root" (if sub
                                 {:serial (int/s64 (or (state :root-next-serial) "2"))}
                                 signer-opts)))
  (def store (create-store opts))
  (def location (ca/store-location store))
  (ca/store-save store "root" root (password-opts))
  (when sub (ca/store-save store "intermediate" sub (password-opts)))
  (os/rename (state-file dir) (string (state-file dir) ".migrated"))
  (mkdirs (path dir "certs"))
  (printf "migrated %s into %s: next serial %s, %d revocation(s), next CRL number %s"
          dir location (string (signer-opts :serial)) (length revoked) (string (signer-opts :crl-number)))
  (printf "the old state is kept as %s.migrated" (state-file dir))
  (def before (length (keys (state :issued))))
  (printf "%d of the %d certificate(s) issued before are in the index (their files were in %s)"
          (length old-certs) before (path dir "certs"))
  (printf "the CA keys are now in %s: %s%s no longer used (keep a copy offline, or delete)"
          location (path dir "root.key")
          (if sub (string " and " (path dir "intermediate.key") " are") " is"))
  (unless (password) (print "note: the CA keys are not encrypted (set JSEC_CA_PASSWORD to encrypt them)")))
