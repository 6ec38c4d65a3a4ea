//! What `ca/parse-ocsp-request` hands back, read out of OpenSSL's parsed
//! request with OpenSSL's own accessors (rust-openssl wraps none of them):
//! the `ocsp-parse` floors of bench/bench_floor.rs (copied into Rust values)
//! and bench/floor_janet.rs (into the module's Janet result).

use std::os::raw::{c_int, c_long, c_uchar};

use openssl_sys::{ASN1_INTEGER, ASN1_OBJECT, ASN1_OCTET_STRING, ASN1_STRING, OCSP_CERTID, OCSP_ONEREQ, OCSP_REQUEST, X509_EXTENSION};

extern "C" {
    fn OCSP_request_onereq_count(req: *mut OCSP_REQUEST) -> c_int;
    fn OCSP_request_onereq_get0(req: *mut OCSP_REQUEST, i: c_int) -> *mut OCSP_ONEREQ;
    fn OCSP_onereq_get0_id(one: *mut OCSP_ONEREQ) -> *mut OCSP_CERTID;
    fn OCSP_id_get0_info(
        name_hash: *mut *mut ASN1_OCTET_STRING,
        md: *mut *mut ASN1_OBJECT,
        key_hash: *mut *mut ASN1_OCTET_STRING,
        serial: *mut *mut ASN1_INTEGER,
        cid: *mut OCSP_CERTID,
    ) -> c_int;
    fn OCSP_REQUEST_get_ext_by_NID(req: *mut OCSP_REQUEST, nid: c_int, lastpos: c_int) -> c_int;
    fn OCSP_REQUEST_get_ext(req: *mut OCSP_REQUEST, loc: c_int) -> *mut X509_EXTENSION;
    fn ASN1_INTEGER_get_int64(out: *mut i64, a: *const ASN1_INTEGER) -> c_int;
    fn ASN1_get_object(pp: *mut *const c_uchar, len: *mut c_long, tag: *mut c_int, class: *mut c_int, max: c_long) -> c_int;
}

/// The serial as the module returns it: a 64-bit integer, else "0x" and its hex.
pub enum Serial {
    Small(i64),
    Hex(String),
}

pub struct Request {
    pub hash: &'static str,
    pub issuer_name_hash: Vec<u8>,
    pub issuer_key_hash: Vec<u8>,
    pub serial: Serial,
}

pub struct Fields {
    pub requests: Vec<Request>,
    pub nonce: Option<Vec<u8>>,
}

/// A serial as OpenSSL holds it: a 64-bit integer, or the INTEGER's octets
/// (positive: the parser refuses a negative serial's "0x" form).
pub enum SerialRef<'a> {
    Small(i64),
    Octets(&'a [u8]),
}

/// One single request's fields, borrowed from the parsed request.
pub struct RequestRef<'a> {
    pub hash: &'static str,
    pub issuer_name_hash: &'a [u8],
    pub issuer_key_hash: &'a [u8],
    pub serial: SerialRef<'a>,
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes "0x" and the lowercase hex of `octets` into `out` (room for
/// 2 + 2 * octets.len() bytes); returns the length written.
pub fn write_hex(octets: &[u8], out: &mut [u8]) -> usize {
    out[0] = b'0';
    out[1] = b'x';
    for (i, b) in octets.iter().enumerate() {
        out[2 + 2 * i] = DIGITS[usize::from(b >> 4)];
        out[3 + 2 * i] = DIGITS[usize::from(b & 15)];
    }
    2 + 2 * octets.len()
}

fn bytes<'a>(s: *const ASN1_STRING) -> &'a [u8] {
    // SAFETY: a string of the live request being read; read_with ties the
    // slice to its borrow of that request ('a).
    unsafe { std::slice::from_raw_parts(openssl_sys::ASN1_STRING_get0_data(s), openssl_sys::ASN1_STRING_length(s) as usize) }
}

/// Every field of every single request, and the nonce's octets (the OCTET
/// STRING inside its extnValue), copied out: what a raw OpenSSL caller
/// needs to answer with what `ca/parse-ocsp-request` returns.
pub fn read(req: &openssl::ocsp::OcspRequestRef) -> Fields {
    let mut requests = Vec::with_capacity(1);
    let nonce = read_with(req, |r| {
        let serial = match r.serial {
            SerialRef::Small(n) => Serial::Small(n),
            SerialRef::Octets(octets) => {
                let mut hex = String::with_capacity(2 + 2 * octets.len());
                hex.push_str("0x");
                for b in octets {
                    hex.push(DIGITS[usize::from(b >> 4)] as char);
                    hex.push(DIGITS[usize::from(b & 15)] as char);
                }
                Serial::Hex(hex)
            }
        };
        requests.push(Request {
            hash: r.hash,
            issuer_name_hash: r.issuer_name_hash.to_vec(),
            issuer_key_hash: r.issuer_key_hash.to_vec(),
            serial,
        });
    })
    .map(<[u8]>::to_vec);
    Fields { requests, nonce }
}

/// Hands every single request's fields to `on_request`, in order, and
/// returns the nonce's octets (the OCTET STRING inside its extnValue, or
/// the extnValue itself when it holds none), all borrowed from `req`:
/// OpenSSL's accessors, no copy.
pub fn read_with<'a>(req: &'a openssl::ocsp::OcspRequestRef, mut on_request: impl FnMut(RequestRef<'a>)) -> Option<&'a [u8]> {
    use foreign_types::ForeignTypeRef;
    let req = req.as_ptr();
    // SAFETY: `req` is a live parsed request; every pointer read is its own (get0).
    unsafe {
        let count = OCSP_request_onereq_count(req);
        for i in 0..count {
            let id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
            let (mut name, mut md, mut key, mut serial) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
            assert_eq!(OCSP_id_get0_info(&mut name, &mut md, &mut key, &mut serial, id), 1);
            let hash = match openssl_sys::OBJ_obj2nid(md) {
                openssl_sys::NID_sha1 => "sha1",
                openssl_sys::NID_sha224 => "sha224",
                openssl_sys::NID_sha256 => "sha256",
                openssl_sys::NID_sha384 => "sha384",
                openssl_sys::NID_sha512 => "sha512",
                _ => "other",
            };
            // A wider INTEGER goes straight to its octets: ASN1_INTEGER_get_int64
            // would refuse it by raising an error on the thread's queue.
            let octets = bytes(serial as *const ASN1_STRING);
            let mut small = 0i64;
            let serial = if octets.len() <= 8 && ASN1_INTEGER_get_int64(&mut small, serial) == 1 {
                SerialRef::Small(small)
            } else {
                SerialRef::Octets(octets)
            };
            on_request(RequestRef {
                hash,
                issuer_name_hash: bytes(name as *const ASN1_STRING),
                issuer_key_hash: bytes(key as *const ASN1_STRING),
                serial,
            });
        }
        let at = OCSP_REQUEST_get_ext_by_NID(req, openssl_sys::NID_id_pkix_OCSP_Nonce, -1);
        (at >= 0).then(|| {
            let value = bytes(openssl_sys::X509_EXTENSION_get_data(OCSP_REQUEST_get_ext(req, at)) as *const ASN1_STRING);
            let mut p = value.as_ptr();
            let (mut len, mut tag, mut class) = (0, 0, 0);
            let r = ASN1_get_object(&mut p, &mut len, &mut tag, &mut class, value.len() as c_long);
            if r & 0x80 == 0 && tag == 4 && class == 0 {
                std::slice::from_raw_parts(p, len as usize)
            } else {
                value
            }
        })
    }
}
