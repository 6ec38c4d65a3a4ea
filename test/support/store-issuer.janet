# A child for the store's crash and concurrency tests:
#     janet test/support/store-issuer.janet --run DB NAME COUNT
# loads CA NAME from the store DB and issues COUNT certificates, printing
# "got SERIAL" after each one it was handed (flushed), so the parent knows
# exactly which certificates a caller received before it was killed.
# Without --run it only defines things (jpm test runs test/support too).
(import jsec/ca)

(defn- serial-of [pem]
  (def p (os/spawn ["openssl" "x509" "-noout" "-serial"] :p {:in :pipe :out :pipe}))
  (:write (p :in) pem)
  (:close (p :in))
  (def out (string (:read (p :out) :all)))
  (:wait p)
  (string/trim (string/slice out (length "serial="))))

(defn main [_ & args]
  (when (= (first args) "--run")
    (def [_ db name count] args)
    (def authority (ca/store-load (ca/open-store db {:busy-timeout 30000}) name))
    (for i 0 (scan-number count)
      (def issued (:issue authority {:common-name (string "c" i ".example")}))
      # the hex serial openssl reads from the certificate the call returned
      (printf "got %s" (serial-of (issued :cert)))
      (flush))))
