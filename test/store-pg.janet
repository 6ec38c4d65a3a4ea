# The store on PostgreSQL (issue 15): everything the SQLite store shows
# (test/support/store-suite.janet), run again on a throwaway PostgreSQL
# cluster; then what only a server store has: URLs and passwords (from the
# URL or PGPASSWORD, never shown in a message), TLS as sslmode says
# (verify-full against the CA that certified the server, a wrong root or
# name refused), versioned migrations (a newer schema refused, a foreign
# schema never taken for a store, several processes creating one store at
# once), and read-only opens of an empty database.
(import ./support/check :as t)
(import ./support/pg)
(import ./support/store-suite :as suite)
(import jsec/ca)

(pg/require "store-pg")

(def dir (t/tmpdir "store-pg"))
(defn file [name content] (t/write dir name content))

(with [c (pg/start dir) pg/stop]
  (def url (c :primary))
  (def password (c :password))
  (def bare (string/replace (string ":" password "@") "@" url)) # no password in it
  (def port (c :port))
  (defn url-for [db &opt query] (string "postgresql://jsec:" password "@127.0.0.1:" port "/" db (or query "")))
  (pg/sql c "CREATE DATABASE suite OWNER jsec")

  (suite/run dir (url-for "suite")
    {:key-text (fn [name] (pg/sql c (string "SELECT key_pem FROM jsec_ca.ca WHERE name = '" name "'") :primary "suite"))
     :schema-version (fn [v] (pg/sql c (string "DELETE FROM jsec_ca.schema_version WHERE version > " v "; "
                                                 "INSERT INTO jsec_ca.schema_version (version) VALUES (" v ") ON CONFLICT DO NOTHING")
                                     :primary "suite"))
     :hold-lock (fn [seconds]
                  (def p (pg/sql-proc c ["BEGIN" "LOCK TABLE jsec_ca.issued IN EXCLUSIVE MODE" `\echo locked`
                                         (string "SELECT pg_sleep(" seconds ")") "COMMIT"] "suite"))
                  (def seen @"")
                  (while (not (string/find "locked" seen))
                    (unless (:read (p :out) 64 seen) (error (string "the locker did not lock: " seen))))
                  p)
     :unreachable "postgresql://jsec@127.0.0.1:1/jsec"})

  # --- locations and passwords ----------------------------------------------------

  (def store (ca/open-store url))
  (t/same (string store) (string "<ca/Store \"postgresql://jsec@127.0.0.1:" port "/jsec\">")
          "a PostgreSQL store shows its URL without the password")
  (ca/store-save store "root" (ca/generate {:common-name "PG Root"}))
  (t/same (ca/store-cas (ca/open-store (string "postgres://jsec:" password "@127.0.0.1:" port "/jsec"))) @["root"]
          "postgres:// is the same store")
  (def [code out] (t/run-in {"PGPASSWORD" password "JANET_PATH" (t/module-root)} nil (t/janet-exe) "-e"
                            (string `(import jsec/ca) (print (length (ca/store-cas (ca/open-store "` bare `"))))`)))
  (t/same [code (string/trim out)] [0 "1"] "the password may come from PGPASSWORD")
  (let [msg (t/raises |(ca/open-store (string "postgresql://jsec:wrong-password-123@127.0.0.1:" port "/jsec"))
                      "a wrong database password" "[CA:CONFIG]" "password authentication failed"
                      (string "postgresql://jsec@127.0.0.1:" port "/jsec"))]
    (t/ok (not (string/find "wrong-password-123" msg)) (string "the message never shows the password: " msg)))
  (let [msg (t/raises |(ca/open-store (string "postgresql://jsec:" password "@127.0.0.1:1/jsec"))
                      "a server that is not there" "[CA:RESOURCE]" "cannot reach the database" "postgresql://jsec@127.0.0.1:1/jsec")]
    (t/ok (not (string/find password msg)) (string "nor the right one: " msg)))
  (t/same (ca/store-location store) (string "postgresql://jsec@127.0.0.1:" port "/jsec")
          "ca/store-location: the URL without the password")
  (t/same (:location store) (ca/store-location store) "the :location method")

  # libpq's key=value connection string names the same store, shown the same way
  (def conninfo (string "host=127.0.0.1 port=" port " dbname=jsec user=jsec password='" password "' sslmode=prefer"))
  (let [s (ca/open-store conninfo)]
    (t/same (ca/store-cas s) @["root"] "a libpq connection string opens the same store")
    (t/same (:location s) (string "postgresql://jsec@127.0.0.1:" port "/jsec")
            "a connection string shows as its URL, without the password"))
  (t/ok (not (os/stat (string "host=127.0.0.1 port=" port " dbname=jsec"))) "no SQLite file named like a connection string")
  (let [msg (t/raises |(ca/open-store (string "host=127.0.0.1 port=" port " dbname=jsec user=jsec password=wrong-pass-123"))
                      "a connection string with a wrong password" "[CA:CONFIG]" "password authentication failed")]
    (t/ok (not (string/find "wrong-pass-123" msg)) (string "the message never shows its password: " msg)))
  (t/raises |(ca/open-store "host=127.0.0.1 colour=blue") "an unknown keyword" "[CA:PARAM]" "colour")
  (t/raises |(ca/open-store "host='127.0.0.1") "an unclosed quote" "[CA:PARAM]" "quote")

  # the password file, as libpq reads it: PGPASSFILE, ?passfile=, ~/.pgpass; never when others may read it
  (def passfile (t/write dir "pgpass" (string "# test\nother.example:*:*:*:nope\n127.0.0.1:" port ":jsec:jsec:" password "\n")))
  (os/chmod passfile 8r600)
  (defn cas-with [env location]
    (def [code out] (t/run-in (merge {"JANET_PATH" (t/module-root) "PGPASSWORD" ""} env) nil (t/janet-exe) "-e"
                              (string `(import jsec/ca) (print (length (ca/store-cas (ca/open-store "` location `"))))`)))
    [code (string/trim out)])
  (t/same (cas-with {"PGPASSFILE" passfile} bare) [0 "1"] "the password may come from PGPASSFILE")
  (let [[code out] (cas-with {"HOME" dir} bare)]
    (t/ok (and (not= code 0) (string/find "[CA:CONFIG]" out)) (string "no password anywhere: the login fails: " out)))
  (t/write dir ".pgpass" (slurp passfile))
  (os/chmod (string dir "/.pgpass") 8r600)
  (t/same (cas-with {"HOME" dir} bare) [0 "1"] "the password may come from ~/.pgpass")
  (t/same (cas-with {} (string bare "?passfile=" passfile)) [0 "1"] "the password may come from ?passfile=")
  (t/same (cas-with {} (string "host=127.0.0.1 port=" port " dbname=jsec user=jsec passfile=" passfile)) [0 "1"]
          "a connection string may name the password file")
  (os/chmod passfile 8r644)
  (let [[code out] (cas-with {"PGPASSFILE" passfile} bare)]
    (t/ok (and (not= code 0) (string/find "[CA:CONFIG]" out)) (string "a password file others may read is not used: " out)))

  (t/raises |(ca/open-store (url-for "jsec" "?sslmode=sometimes")) "a bad sslmode" "[CA:PARAM]" "sslmode")
  (t/raises |(ca/open-store (url-for "jsec" "?colour=blue")) "an unknown URL option" "[CA:PARAM]" "colour")
  (t/raises |(ca/open-store (url-for "nosuchdb")) "a database that does not exist" "[CA:CONFIG]" "nosuchdb")
  (t/raises |(ca/open-store "mysql://x@localhost/db") "another kind of URL" "[CA:PARAM]" "postgresql://")
  # odd URLs are [CA:...] errors, never a crash, and never show what looks like a password
  (each odd ["postgresql://" "postgres://@" "postgresql://:@:/" "postgresql://u:p4ssw0rd@[::1"
             "postgresql://u:p4ssw0rd@127.0.0.1:1/db?sslmode" "postgresql://h/db?%zz=1" "postgresql://h/db?&&=&"
             "postgresql://u:p4ssw0rd@127.0.0.1:0/db" "postgresql://u:p4ssw0rd@127.0.0.1:1/d\0b"
             "POSTGRESQL://u:p4ssw0rd@127.0.0.1:1/db" "postgresql://u:p4ssw0rd@127.0.0.1:1/db?sslmode=verify-full&sslcert=x"
             (string "postgresql://u:p4ssw0rd@127.0.0.1:1/" (string/repeat "x" 5000))]
    (def [ok msg] (protect (ca/open-store odd)))
    (t/ok (and (not ok) (t/refusal? msg)
               (not (string/find "p4ssw0rd" msg)))
          (string/format "an odd URL %q is a clear error: %q" (string/slice odd 0 (min 80 (length odd))) msg)))

  # --- TLS, as sslmode says --------------------------------------------------------

  (def tls-root (ca/generate {:common-name "DB TLS Root"}))
  (def server (:issue tls-root {:common-name "db.example" :san ["DNS:db.example" "IP:127.0.0.1"]
                                :extended-key-usage :server-auth}))
  (def other-root (ca/generate {:common-name "Some Other Root"}))
  (def named-only (:issue tls-root {:common-name "elsewhere.example" :san ["DNS:elsewhere.example"]
                                    :extended-key-usage :server-auth}))
  (def root-pem (file "tls-root.pem" (ca/get-cert tls-root)))
  (def other-pem (file "other-root.pem" (ca/get-cert other-root)))
  (pg/tls c (file "server.crt" (server :cert)) (file "server.key" (server :key)))
  (defn tls-sessions []
    (scan-number (pg/sql c "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE s.ssl AND a.application_name = 'jsec-ca'")))
  (def before-tls (tls-sessions))
  (def verified (ca/open-store (url-for "jsec" (string "?sslmode=verify-full&sslrootcert=" root-pem))))
  (t/same (ca/store-cas verified) @["root"] "sslmode=verify-full with the root that certified the server")
  (t/ok (> (tls-sessions) before-tls) "and the server sees a TLS session (pg_stat_ssl)")
  (def before-require (tls-sessions))
  (def required (ca/open-store (url-for "jsec" "?sslmode=require")))
  (t/same (ca/store-cas required) @["root"]
          "sslmode=require connects without checking the certificate, as libpq does")
  (t/ok (> (tls-sessions) before-require) "and the server sees its session encrypted (pg_stat_ssl)")
  (t/raises |(ca/open-store (url-for "jsec" (string "?sslmode=verify-ca&sslrootcert=" other-pem)))
            "a server certificate from another root" "[CA:RESOURCE]" "certificate verify failed")
  (t/raises |(ca/open-store (url-for "jsec" (string "?sslmode=verify-ca&sslrootcert=" dir "/missing.pem")))
            "a root file that is not there" "[CA:SSL]" "sslrootcert")
  (pg/tls c (file "named.crt" (named-only :cert)) (file "named.key" (named-only :key)))
  (t/same (ca/store-cas (ca/open-store (url-for "jsec" (string "?sslmode=verify-ca&sslrootcert=" root-pem))))
          @["root"] "verify-ca checks the chain, not the name")
  (t/raises |(ca/open-store (url-for "jsec" (string "?sslmode=verify-full&sslrootcert=" root-pem)))
            "verify-full refuses a certificate for another name" "[CA:RESOURCE]" "certificate verify failed")

  # --- schema versions ---------------------------------------------------------------

  (t/same (pg/sql c "SELECT version FROM jsec_ca.schema_version ORDER BY version") "1"
          "the schema records the migrations applied")
  (pg/sql c "CREATE DATABASE foreign_app OWNER jsec")
  (pg/sql c "CREATE SCHEMA jsec_ca AUTHORIZATION jsec; CREATE TABLE jsec_ca.ca (x int)" :primary "foreign_app")
  (t/raises |(ca/open-store (url-for "foreign_app")) "another application's jsec_ca schema" "[CA:PARSE]" "not a jsec-ca store")
  (pg/sql c "CREATE DATABASE empty OWNER jsec")
  (t/raises |(ca/open-store (url-for "empty") {:read-only true}) "an empty database opened read-only" "[CA:CONFIG]" "read-only")
  (t/same (pg/sql c "SELECT count(*) FROM pg_namespace WHERE nspname = 'jsec_ca'" :primary "empty") "0"
          "and nothing was written to it")
  # several processes open one new store at once: one creates it, the others find it
  (pg/sql c "CREATE DATABASE fresh OWNER jsec")
  (def openers (seq [i :range [0 4]]
                 (os/spawn [(t/janet-exe) "-e" (string `(import jsec/ca) (def s (ca/open-store "` (url-for "fresh") `")) `
                                                       `(ca/store-save s "ca` i `" (ca/generate)) (print "saved")`)]
                           :pe (merge (os/environ) {"JANET_PATH" (t/module-root) :out :pipe :err :pipe}))))
  (def results (seq [p :in openers] [(:wait p) (string (:read (p :out) :all)) (string (:read (p :err) :all))]))
  (t/ok (all |(zero? (first $)) results) (string/format "four processes create and use one new store at once: %q" results))
  (t/same (length (ca/store-cas (ca/open-store (url-for "fresh")))) 4 "all four CAs are in it")
  (t/same (pg/sql c "SELECT count(*) FROM jsec_ca.schema_version" :primary "fresh") "1" "migrated once"))

(os/execute ["rm" "-rf" dir] :p)
(t/done "store-pg")
