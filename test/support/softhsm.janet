# A SoftHSM2 token of the test's own: a token directory under the test's temp
# directory, SOFTHSM2_CONF pointing at its config (set in this process, so the
# module and every child inherit it). Only defines things.

(import ./check :as t)

(def module-paths ["/usr/lib/softhsm/libsofthsm2.so" "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"])

(defn module-path
  "The SoftHSM2 PKCS#11 library, or nil."
  []
  (find os/stat module-paths))

(defn missing
  "Why a SoftHSM2 token cannot be had here (nil when it can)."
  []
  (cond
    (not (module-path)) "libsofthsm2.so is not installed (scripts/setup installs softhsm2)"
    (not (zero? (first (t/run "softhsm2-util" "--version")))) "softhsm2-util is not installed"
    (not (string/find "Usage: pkcs11-tool" (get (t/run "pkcs11-tool" "--help") 1))) "pkcs11-tool is not installed (scripts/setup installs opensc)"))

(defn token
  "Initializes a token labelled `label` with user PIN `pin` in a fresh token
  directory under `dir`, and points SOFTHSM2_CONF at it. Returns a table:
  :module, :conf, :label, :pin, :pin-file, and :uri, a function of an object
  label (and optional extra query text) giving the key's PKCS#11 URI with
  pin-source."
  [dir label pin]
  (def tokens (string dir "/tokens"))
  (os/mkdir tokens)
  (def conf (t/write dir "softhsm2.conf"
                     (string "directories.tokendir = " tokens "\nobjectstore.backend = file\nlog.level = ERROR\n")))
  (os/setenv "SOFTHSM2_CONF" conf)
  (def [code out] (t/run "softhsm2-util" "--init-token" "--free" "--label" label "--so-pin" "so-secret-4711" "--pin" pin))
  (unless (zero? code) (error (string "softhsm2-util --init-token: " out)))
  (def pin-file (t/write dir "pin" pin))
  (def module (module-path))
  @{:module module :conf conf :tokens tokens :label label :pin pin :pin-file pin-file
    :uri (fn [object &opt extra]
           (string "pkcs11:token=" label ";object=" object "?module-path=" module "&pin-source=file:" pin-file
                   (or extra "")))})

(defn tool
  "Runs pkcs11-tool on the token's module with args; returns [code output]."
  [tok & args]
  (t/run "pkcs11-tool" "--module" (tok :module) ;args))
