# The store (issue 13): CAs saved into an SQLite store write through, load
# back with every serial, revocation and CRL number, answer status from the
# store as it is now, and every bad store is a clear [CA:...] error that
# changes nothing. Judged by openssl and Python cryptography. The checks
# every engine shows are in test/support/store-suite.janet (run on
# PostgreSQL by test/store-pg.janet); the file's own are here.
(import ./support/check :as t)
(import ./support/store-suite :as suite)
(import jsec/ca)

(def dir (t/tmpdir "store"))
(defn path [name] (string dir "/" name))
(defn file [name content] (t/write dir name content))
(def db (path "ca.db"))

(defn sqlite [& lines]
  (t/python (string "import sqlite3; c = sqlite3.connect('" db "'); " (string/join lines "; "))))

(suite/run dir db
  {:key-text (fn [name]
               (def [_ out] (sqlite (string "print(c.execute(\"select key_pem from ca where name='" name "'\").fetchone()[0])")))
               out)
   :schema-version (fn [v] (sqlite (string "c.execute('pragma user_version = " v "')") "c.commit()"))
   :hold-lock (fn [seconds]
                (def p (os/spawn ["python3" "-c" (string "import sqlite3, sys, time\n"
                                                         "c = sqlite3.connect('" db "', isolation_level=None)\n"
                                                         "c.execute('begin exclusive')\nprint('locked', flush=True)\n"
                                                         "time.sleep(" seconds ")\n")]
                                 :p {:out :pipe}))
                (:read (p :out) 7)
                p)
   :unreachable (path "missing-dir/x.db")})

# --- files that are no store ---------------------------------------------------------

(file "garbage.db" (string/repeat "not a database " 500))
(t/raises |(ca/open-store (path "garbage.db")) "a corrupt or foreign file" "[CA:PARSE]" "not a jsec-ca store")
(t/python (string "import sqlite3; c = sqlite3.connect('" (path "foreign.db") "'); c.execute('create table t (x)'); c.commit()"))
(t/raises |(ca/open-store (path "foreign.db")) "another application's SQLite database" "[CA:PARSE]" "another application")

# the file itself
(def [_ integrity] (t/python (string "import sqlite3; print(sqlite3.connect('" db "').execute('pragma integrity_check').fetchone()[0])")))
(t/same (string/trim integrity) "ok" "PRAGMA integrity_check")

(os/execute ["rm" "-rf" dir] :p)
(t/done "store")
