# An OCSP responder (RFC 6960) over HTTP with Janet's own net/server.
#
# As a script:
#   janet examples/ocsp-responder.janet --port 8888 --cert ca.pem --key ca.key
#         --serial NEXT [--host 127.0.0.1] [--revoke SERIAL[:REASON[:UNIX-TIME]]]...
#   janet examples/ocsp-responder.janet --port 8888 --store ca.db --ca NAME [--password P]
#         [--revoked FILE.jdn] [--responder-cert r.pem --responder-key r.key]
#         [--path /ocsp/] [--max-seconds N] [--cache-seconds N]
# answers POST (body = DER request, Content-Type application/ocsp-request)
# and GET /<URL-encoded base64 of the DER request> (RFC 6960 appendix A)
# with application/ocsp-response, from the CA's own revocation list.
# --serial is the CA's next serial (ca/get-serial): serials below it are answered
# from the revocation list, others :unknown, since the CA never issued them;
# --store/--ca answer for the CA saved in a store (ca/open-store), live: a
# revocation another process commits is in the very next answer;
# --revoked reads a JDN list like [{:serial 5 :reason :key-compromise :date 1700000000}];
# --responder-* sign with a delegated responder certificate (EKU OCSPSigning);
# --max-seconds exits after N seconds (a safety net for test harnesses).
# Status is read at every request; the signed answer to a request without a
# nonce is reused for up to `cache-seconds` (1; --cache-seconds 0 signs every
# answer) for the same certificate and status, so a revocation still answers
# at once.
#
# As a library:
#   (import ./ocsp-responder :as responder)
#   (responder/serve ca "127.0.0.1" 8888)      # returns the server stream
#   (responder/answer ca der)                  # DER response for a DER request

(import jsec/ca)

# ---------------------------------------------------------------- OCSP: the dozen lines

# Signing is the costliest step of an answer. A request without a nonce
# asks for nothing unique, so its answer may be reused for a moment, as
# RFC 5019 allows for pre-produced responses. Status is still read at every
# request and is part of the key: a revocation answers revoked at once.
(var cache-seconds
  "How long an answer to a request without a nonce is reused (0: never)."
  1)
(def- cache-entries 4096)
# Only small requests are kept (a one-certificate request is about 100
# bytes): 4096 entries of large ones would let a client fill memory.
(def- cache-request-bytes 1024)

(defn response-cache
  "A table for `answer` to keep recent answers in."
  []
  @{})

(defn- cached-answer [cache ca der info opts]
  (def statuses (tabseq [r :in (info :requests)] (r :serial) (freeze (ca/get-status ca (r :serial)))))
  (def key [(string der) ;(map |(statuses ($ :serial)) (info :requests))])
  (def now (os/clock :monotonic))
  (def hit (cache key))
  (if (and hit (< (- now (hit 0)) cache-seconds))
    (hit 1)
    (let [response (ca/create-ocsp-response ca info |(statuses $) opts)]
      (when (>= (length cache) cache-entries) (table/clear cache))
      (put cache key [now response])
      response)))

(defn answer
  "The DER OCSP response to the DER request `der`, from `ca`'s revocation list.
  A request that does not parse gets malformedRequest; a failure while signing, internalError.
  With `cache` (a table from `response-cache`), see there."
  [ca der &opt opts cache]
  (def info (try (ca/parse-ocsp-request ca der) ([_] nil)))
  (if (nil? info)
    (ca/ocsp-error-response :malformed-request)
    (try
      (if (and cache (nil? (info :nonce)) (<= (length der) cache-request-bytes))
        (cached-answer cache ca der info opts)
        (ca/create-ocsp-response ca info |(ca/get-status ca $) opts))
      ([err] (eprint "ocsp-responder: " err) (ca/ocsp-error-response :internal-error)))))

# ---------------------------------------------------------------- minimal HTTP/1.0-1.1

(def max-header-bytes 16384)
(def max-body-bytes 65536)
(def read-timeout 5)

(def- b64-index
  (let [t @{}]
    (eachp [i c] "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" (put t c i))
    (put t (chr "-") 62) # base64url too
    (put t (chr "_") 63)
    t))

(defn base64-decode
  "Decodes standard or URL-safe base64 (padding optional); errors on other characters."
  [s]
  (def out @"")
  (var acc 0)
  (var bits 0)
  (each c s
    (unless (or (= c (chr "=")) (= c (chr "\r")) (= c (chr "\n")))
      (def v (get b64-index c))
      (unless v (error "not base64"))
      (set acc (bor (blshift acc 6) v))
      (+= bits 6)
      (when (>= bits 8)
        (-= bits 8)
        (buffer/push-byte out (band (brshift acc bits) 0xff))
        (set acc (band acc (- (blshift 1 bits) 1))))))
  out)

(defn url-decode
  "Decodes %XX escapes ('+' stays '+', as in a URL path)."
  [s]
  (def out @"")
  (var i 0)
  (while (< i (length s))
    (def c (s i))
    (if (= c (chr "%"))
      (let [h (and (<= (+ i 3) (length s)) (scan-number (string/slice s (+ i 1) (+ i 3)) 16))]
        (unless (and h (>= h 0)) (error "bad %-escape"))
        (buffer/push-byte out h)
        (+= i 3))
      (do (buffer/push-byte out c) (++ i))))
  out)

(defn- read-request
  "Reads one HTTP request: [method target version headers body], or nil when the peer sent nothing."
  [stream]
  (def buf @"")
  (var end nil)
  (while (not end)
    (when (> (length buf) max-header-bytes) (error "headers too large"))
    (unless (:read stream 4096 buf read-timeout)
      (if (empty? buf) (break) (error "connection closed inside the headers")))
    (set end (string/find "\r\n\r\n" buf)))
  (when end
    (def lines (string/split "\r\n" (string/slice buf 0 end)))
    (def [method target version] (string/split " " (first lines)))
    (unless (and method target version (string/has-prefix? "HTTP/1." version))
      (error "bad request line"))
    (def headers @{})
    (each line (slice lines 1)
      (when-let [colon (string/find ":" line)]
        (put headers (string/ascii-lower (string/trim (string/slice line 0 colon)))
             (string/trim (string/slice line (+ colon 1))))))
    (def body (buffer/slice buf (+ end 4)))
    (when (= method "POST")
      (when (headers "transfer-encoding") (error "chunked bodies are not supported"))
      (def n (scan-number (or (headers "content-length") "")))
      (unless (and (int? n) (<= 0 n max-body-bytes)) (error "bad or missing Content-Length"))
      (while (< (length body) n)
        (unless (:read stream (- n (length body)) body read-timeout) (error "body cut short")))
      (buffer/popn body (- (length body) n)))
    [method target version headers body]))

(defn- reply [stream version status ctype body]
  # one write: a second one is a second trip through the TCP stack
  (:write stream (buffer version " " status "\r\n"
                         "Content-Type: " ctype "\r\n"
                         "Content-Length: " (length body) "\r\n"
                         "Connection: close\r\n\r\n" body)))

(defn handler
  "A net/server connection handler answering OCSP over HTTP for `ca`. It never raises:
  bad HTTP gets a 400, anything unexpected a 500, and the connection is closed."
  [ca &opt opts path]
  (default path "/")
  (def cache (when (pos? cache-seconds) (response-cache)))
  (fn [stream]
    (defer (:close stream)
      (try
        (when-let [[method target version _ body] (read-request stream)]
          (def der
            (case method
              "POST" body
              "GET" (try
                      (base64-decode (url-decode (string/slice target (length path))))
                      ([_] nil))
              :other))
          (cond
            (= der :other) (reply stream version "405 Method Not Allowed" "text/plain" "POST or GET\n")
            (and (= method "GET") (not (string/has-prefix? path target)))
            (reply stream version "404 Not Found" "text/plain" "no such path\n")
            (reply stream version "200 OK" "application/ocsp-response"
                   (if der (answer ca der opts cache) (ca/ocsp-error-response :malformed-request)))))
        ([err]
          (eprint "ocsp-responder: " err)
          (protect (reply stream "HTTP/1.0" "400 Bad Request" "text/plain" "bad request\n")))))))

(defn serve
  "Starts the responder on host:port (net/server); returns the server stream."
  [ca host port &opt opts path]
  (net/server host port (handler ca opts path)))

# ---------------------------------------------------------------- command line

(defn- revoke-arg
  "SERIAL[:REASON[:UNIX-TIME]] -> {:serial :reason :date}; SERIAL is decimal or 0x-hex."
  [s]
  (def [serial reason date] (string/split ":" s))
  @{:serial (if (string/has-prefix? "0x" serial) serial (or (scan-number serial) (error (string "bad serial " serial))))
    :reason (keyword (or reason "unspecified"))
    :date (if date (or (scan-number date) (error (string "bad time " date))) (os/time))})

(defn main [& args]
  (def o @{:host "127.0.0.1" :revoked @[] :path "/"})
  (var i 1)
  (while (< i (length args))
    (def flag (args i))
    (def value (get args (+ i 1)))
    (unless value (error (string flag " needs a value")))
    (case flag
      "--port" (put o :port (scan-number value))
      "--host" (put o :host value)
      "--path" (put o :path value)
      "--serial" (put o :serial (or (scan-number value) (error (string "bad serial " value))))
      "--store" (put o :store value)
      "--ca" (put o :ca value)
      "--password" (put o :password value)
      "--cert" (put o :cert (slurp value))
      "--key" (put o :key (slurp value))
      "--revoke" (array/push (o :revoked) (revoke-arg value))
      "--revoked" (array/concat (o :revoked) (parse (slurp value)))
      "--responder-cert" (put o :responder-cert (slurp value))
      "--responder-key" (put o :responder-key (slurp value))
      "--max-seconds" (put o :max-seconds (scan-number value))
      "--cache-seconds" (set cache-seconds (or (scan-number value) (error (string "bad seconds " value))))
      (error (string "unknown flag " flag)))
    (+= i 2))
  (unless (and (o :port) (or (and (o :cert) (o :key)) (and (o :store) (o :ca))))
    (eprint "usage: janet examples/ocsp-responder.janet --port P --cert ca.pem --key ca.key --serial NEXT [--host H] [--path /]")
    (eprint "       [--revoke SERIAL[:REASON[:TIME]]]... [--revoked file.jdn] [--responder-cert c --responder-key k]")
    (eprint "       [--max-seconds N]")
    (eprint "   or: janet examples/ocsp-responder.janet --port P --store ca.db --ca NAME [--password P]")
    (os/exit 2))
  (def ca (if (o :store)
            (ca/store-load (ca/open-store (o :store) {:read-only true}) (o :ca)
                           (if (o :password) {:password (o :password)} {}))
            (ca/create (o :cert) (o :key) {:serial (get o :serial 1) :revoked (o :revoked)})))
  (def opts (when (o :responder-cert) {:responder {:cert (o :responder-cert) :key (o :responder-key)}}))
  (serve ca (o :host) (o :port) opts (o :path))
  (when-let [n (o :max-seconds)]
    (ev/spawn (ev/sleep n) (os/exit 0)))
  (printf "ocsp-responder: listening on http://%s:%d%s" (o :host) (o :port) (o :path))
  (flush))
