# Every examples/*.janet runs to a clean exit in a child interpreter, writing
# into a temporary folder.
(import ./support/check :as t)

# Children import the module this process found (build/, under jpm test too).
(def child-env {"JANET_PATH" (t/module-root)})

(def examples
  (->> (os/dir "examples")
       (filter |(string/has-suffix? ".janet" $))
       sort))

(t/ok (index-of "demo.janet" examples) "examples/demo.janet exists")

(each name examples
  (def dir (t/tmpdir (string "example-" (string/replace ".janet" "" name))))
  (def [code out] (t/run-in child-env nil "timeout" "120" (t/janet-exe) (string "examples/" name) dir))
  (t/ok (zero? code) (string/format "examples/%s exits 0, got %d:\n%s" name code out)))

(def demo-dir (t/tmpdir "example-demo-files"))
(t/run-in child-env nil (t/janet-exe) "examples/demo.janet" demo-dir)
(each file ["root.pem" "intermediate.pem" "server.pem" "server.key" "chain.pem"]
  (t/ok (os/stat (string demo-dir "/" file)) (string "the demo writes " file)))
(let [[code out] (t/openssl "verify" "-x509_strict" "-verify_hostname" "localhost" "-verify_ip" "127.0.0.1"
                            "-CAfile" (string demo-dir "/root.pem")
                            "-untrusted" (string demo-dir "/intermediate.pem") (string demo-dir "/server.pem"))]
  (t/ok (zero? code) (string "the demo's server certificate verifies for localhost and 127.0.0.1: " out)))
(let [[code out] (t/openssl "verify" "-x509_strict" "-CAfile" (string demo-dir "/root.pem")
                            "-untrusted" (string demo-dir "/chain.pem") (string demo-dir "/server.pem"))]
  (t/ok (zero? code) (string "chain.pem supplies the intermediate: " out)))
(t/same (string (slurp (string demo-dir "/chain.pem")))
        (string (slurp (string demo-dir "/server.pem")) (slurp (string demo-dir "/intermediate.pem")))
        "chain.pem is the server certificate followed by the intermediate")
(let [[_ cert-key] (t/openssl "x509" "-noout" "-pubkey" "-in" (string demo-dir "/server.pem"))
      [_ key-key] (t/openssl "pkey" "-pubout" "-in" (string demo-dir "/server.key"))]
  (t/same key-key cert-key "server.key belongs to server.pem"))

(t/done "examples")
