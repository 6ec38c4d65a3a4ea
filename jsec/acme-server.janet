# jsec/acme-server: an ACME server (RFC 8555, ARI RFC 9773) over HTTP, in Janet.
#
# The module (jsec/ca) verifies and decides: JWS, nonces, accounts, orders,
# challenges, finalization through the CA's own ca/sign-csr. This library
# moves bytes: it reads HTTP/1.1 requests, hands each to ca/acme-handle,
# writes the answer back, and performs the validations the answers ask for
# (an http-01 fetch, a dns-01 TXT look-up over UDP, a tls-alpn-01 handshake
# whose TLS runs in the module over this library's socket), reporting what it
# saw with ca/acme-validated. Janet has no TLS: serve plain HTTP on loopback and
# put a TLS proxy in front (see README, "ACME").
#
#     (import jsec/ca)
#     (import jsec/acme-server)
#     (def store (ca/open-store "ca.db"))
#     (def ca (ca/store-load store "root"))
#     (def acme (ca/acme-open "ca.db" {:base-url "https://acme.example:14000"
#                                      :allowed-domains ["example.com"]}))
#     (acme-server/serve ca acme "127.0.0.1" 14001)
#     (print "ACME directory: " (:directory-url acme))

(import jsec/ca)

(def max-header-bytes 16384)
(def max-body-bytes 65536)
(def read-timeout
  "Seconds a client may take to send a request."
  10)
(def validation-timeout
  "Seconds a validation (connect, answer) may take."
  10)
(def max-validation-bytes 16384)

(def- body-too-large (string "request body larger than " max-body-bytes " bytes"))

(defn- read-request
  "One HTTP/1.1 request from `stream` into `buf` (which may hold bytes read
  ahead): {:method :path :headers :body}, nil at a clean end of stream.
  Errors on a malformed or oversized request."
  [stream buf]
  (var end (string/find "\r\n\r\n" buf))
  (while (not end)
    (when (> (length buf) max-header-bytes) (error "headers too large"))
    (unless (:read stream 4096 buf read-timeout)
      (if (empty? buf) (break) (error "connection closed inside the headers")))
    (set end (string/find "\r\n\r\n" buf)))
  (when end
    (def lines (string/split "\r\n" (buffer/slice buf 0 end)))
    (def [method target version] (string/split " " (first lines)))
    (unless (and method target version (string/has-prefix? "HTTP/1." version))
      (error "bad request line"))
    (def headers @{})
    (each line (slice lines 1)
      (when-let [colon (string/find ":" line)]
        (put headers (string/ascii-lower (string/trim (string/slice line 0 colon)))
             (string/trim (string/slice line (+ colon 1))))))
    (when (headers "transfer-encoding") (error "chunked bodies are not supported"))
    (def n (if-let [cl (headers "content-length")] (scan-number cl) 0))
    (unless (and (int? n) (>= n 0)) (error "bad Content-Length"))
    (when (> n max-body-bytes) (error body-too-large))
    (def rest (buffer/slice buf (+ end 4)))
    (while (< (length rest) n)
      (unless (:read stream (- n (length rest)) rest read-timeout) (error "body cut short")))
    (def body (buffer/slice rest 0 n))
    # Keep what follows (a pipelined request) for the next call.
    (buffer/clear buf)
    (buffer/push buf (buffer/slice rest n))
    {:method method :path target :headers headers :body body
     :keep-alive (not= "close" (string/ascii-lower (get headers "connection" "")))}))

(def- reasons {200 "OK" 201 "Created" 204 "No Content" 400 "Bad Request" 403 "Forbidden"
               404 "Not Found" 405 "Method Not Allowed" 409 "Conflict" 413 "Payload Too Large"
               415 "Unsupported Media Type" 429 "Too Many Requests" 500 "Internal Server Error"})

(defn- write-response [stream status headers body head?]
  (def out (buffer "HTTP/1.1 " (string status) " " (get reasons status "Status") "\r\n"))
  (each [k v] headers (buffer/push out k ": " v "\r\n"))
  (buffer/push out "Content-Length: " (string (length body)) "\r\n\r\n")
  (unless head? (buffer/push out body))
  (:write stream out))

# --- validation --------------------------------------------------------------

(defn- http-get
  "GET `target` from host:port with Host `host-header`: {:status :location :body}
  or {:error :detail}. Bounded in time (`timeout` seconds) and size; redirects
  are reported, not followed."
  [host port host-header target timeout]
  (try
    (ev/with-deadline timeout
      (with [conn (net/connect host port)]
        (:write conn (string "GET " target " HTTP/1.1\r\nHost: " host-header
                             "\r\nUser-Agent: jsec-ca-acme-validator\r\nAccept: */*\r\nConnection: close\r\n\r\n"))
        (def buf @"")
        (while (and (< (length buf) max-validation-bytes) (:read conn 4096 buf)))
        (def end (string/find "\r\n\r\n" buf))
        (if (not end)
          {:error "connection" :detail (string "no complete HTTP answer from " host ":" port)}
          (let [lines (string/split "\r\n" (buffer/slice buf 0 end))
                status (scan-number (get (string/split " " (first lines)) 1 ""))
                headers (tabseq [line :in (slice lines 1) :let [c (string/find ":" line)] :when c]
                          (string/ascii-lower (string/trim (string/slice line 0 c)))
                          (string/trim (string/slice line (+ c 1))))]
            (if (int? status)
              {:status status :location (headers "location") :body (buffer/slice buf (+ end 4))}
              {:error "connection" :detail "malformed HTTP status line"})))))
    ([err]
      {:error "connection"
       :detail (if (= err "deadline expired")
                 (string "no answer from " host ":" port " within " timeout " s")
                 (string "fetching from " host ":" port ": " err))})))

(defn- dns-txt
  "TXT records of `name` from the DNS server [host port] over UDP."
  [[host port] name timeout]
  (def id (math/floor (* 65536 (math/random))))
  (try
    (ev/with-deadline timeout
      (with [conn (net/connect host port :datagram)]
        (:write conn (ca/acme-dns-query name id))
        (def answer (:read conn 4096))
        (if answer
          (ca/acme-dns-answer answer id)
          {:error "dns" :detail "no DNS answer"})))
    ([err]
      {:error "dns" :detail (if (= err "deadline expired")
                              (string "no DNS answer from " host ":" port " within " timeout " s")
                              (string "DNS look-up failed: " err))})))

(defn- tls-alpn-hello
  "A TLS handshake with host:port offering only ALPN acme-tls/1, SNI
  `server-name`: {:alpn :certificate} or {:error :detail}. Bounded in time
  (`timeout` seconds); ca/acme-tls-step bounds the bytes."
  [host port server-name timeout]
  (try
    (ev/with-deadline timeout
      (with [conn (net/connect host port)]
        (def client (ca/acme-tls-client server-name))
        (var step (ca/acme-tls-step client nil))
        (while (not (step :certificate))
          (:write conn (step :send))
          (def got (:read conn 16384))
          (unless got (error "the server closed the connection during the handshake"))
          (set step (ca/acme-tls-step client got)))
        (:write conn (step :send))
        {:alpn (step :alpn) :certificate (step :certificate)}))
    ([err]
      (cond
        (= err "deadline expired") {:error "connection" :detail (string "no TLS answer from " host ":" port " within " timeout " s")}
        (string/has-prefix? "[CA:" (string err)) {:error "tls" :detail (string err)}
        {:error "connection" :detail (string "connecting to " host ":" port ": " err)}))))

(defn validate
  "Performs one validation that ca/acme-handle asked for and reports it.
  Options: :http-01-port (80), :tls-alpn-01-port (443), :validation-address
  (connect there instead of the identifier's address; http-01 and
  tls-alpn-01), :dns-server [host port] (required for dns-01),
  :validation-timeout (seconds, default 10), :always-valid (TEST ONLY, for
  benchmarks: look nothing up; with ca/acme-open's :validation-always-valid
  every challenge passes)."
  [acme v &opt opts]
  (default opts {})
  (def timeout (or (opts :validation-timeout) validation-timeout))
  (def seen
    (cond
      (opts :always-valid) {:status 200 :body ""}
      (case (v :type)
        "http-01" (http-get (or (opts :validation-address) (v :identifier))
                            (or (opts :http-01-port) 80) (v :identifier) (v :target) timeout)
        "tls-alpn-01" (tls-alpn-hello (or (opts :validation-address) (v :identifier))
                                      (or (opts :tls-alpn-01-port) 443) (v :target) timeout)
        "dns-01" (if-let [server (opts :dns-server)]
                   (dns-txt server (v :target) timeout)
                   {:error "dns" :detail "this server has no DNS server configured for dns-01"})
        {:error "connection" :detail (string "unsupported challenge " (v :type))})))
  (ca/acme-validated acme (v :challenge) seen))

# --- serving -----------------------------------------------------------------

(defn handle
  "Answers one parsed request {:method :path :headers :body}: the response
  table of ca/acme-handle. Validations it asks for run in new fibers."
  [ca acme req &opt opts]
  (def r (ca/acme-handle ca acme {:method (req :method) :path (req :path)
                                  :content-type (get-in req [:headers "content-type"])
                                  :body (req :body)}))
  (each v (r :validations)
    (ev/spawn
      (try (validate acme v opts)
        ([err] (eprint "acme-server: validation " (v :challenge) ": " err)))))
  r)

(defn handler
  "A connection handler for net/server serving ACME for `ca` with the
  ca/Acme `acme`; `opts` as `validate` takes them. Keep-alive connections."
  [ca acme &opt opts]
  (fn [stream]
    (def buf @"")
    (try
      (while true
        (def req (read-request stream buf))
        (unless req (break))
        (def r (handle ca acme req opts))
        (write-response stream (r :status) (r :headers) (r :body) (= (req :method) "HEAD"))
        (unless (req :keep-alive) (break)))
      ([err]
        (def status (if (= err body-too-large) 413 400))
        (protect (write-response stream status [["Content-Type" "application/problem+json"] ["Connection" "close"]]
                                 (string `{"type":"urn:ietf:params:acme:error:malformed","detail":`
                                         (describe (string err)) `,"status":` status `}`) false))))
    (:close stream)))

(defn serve
  "Serves ACME on host:port (plain HTTP; put TLS in front) until the
  returned server is closed. Returns the net/server."
  [ca acme host port &opt opts]
  (net/server host port (handler ca acme opts)))
