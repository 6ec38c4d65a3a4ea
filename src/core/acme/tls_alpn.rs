//! tls-alpn-01 (RFC 8737), without the network: the validator's TLS client
//! over memory, and the verdict on the certificate it was shown.
//!
//! As with http-01 and dns-01, Janet moves the bytes (`jsec/acme-server`
//! connects, writes what [`TlsAlpnClient::step`] hands back and feeds it what
//! it reads) while OpenSSL runs the handshake here: SNI is the identifier,
//! the only protocol offered is `acme-tls/1`, and no certificate chain is
//! verified (the challenge certificate is self-signed by design; what proves
//! control is the key authorization's digest inside it).
use std::io::{self, Read, Write};

use openssl::ssl::{HandshakeError, MidHandshakeSslStream, SslConnector, SslMethod, SslVerifyMode, SslVersion};

use super::problem::{Kind, Problem};
use crate::core::cert_info::CertInfo;
use crate::core::error::{CaError, CaResult};
use crate::core::general_names::{self, GeneralName};
use crate::core::digest;
use crate::core::oid;

/// The protocol name RFC 8737 §6.2 registers, as ALPN wire bytes (length first).
const ALPN_WIRE: &[u8] = b"\x0aacme-tls/1";
pub const ALPN: &str = "acme-tls/1";

/// id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31 (RFC 8737 §6.1), content octets.
const ACME_IDENTIFIER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f];

/// The largest handshake the client reads before giving up (a certificate
/// chain of a few kilobytes fits many times over).
const MAX_HANDSHAKE_BYTES: usize = 256 * 1024;

/// The socket, as OpenSSL sees it: bytes read so far, bytes to write.
#[derive(Default)]
struct Memory {
    inbox: Vec<u8>,
    outbox: Vec<u8>,
    received: usize,
}

impl Read for Memory {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.inbox.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.inbox.len());
        buf[..n].copy_from_slice(&self.inbox[..n]);
        self.inbox.drain(..n);
        Ok(n)
    }
}

impl Write for Memory {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the caller does next.
#[derive(Debug)]
pub enum Step {
    /// Write these bytes (maybe none), then read and call `step` again.
    Continue(Vec<u8>),
    /// The handshake is over: write these last bytes; the server chose
    /// `alpn` and showed `certificate` (DER, the leaf).
    Done { send: Vec<u8>, alpn: Option<String>, certificate: Vec<u8> },
}

enum State {
    Handshaking(MidHandshakeSslStream<Memory>),
    Finished,
}

/// One validation's TLS client.
pub struct TlsAlpnClient {
    state: State,
    /// The ClientHello, until the first `step` hands it out.
    hello: Vec<u8>,
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> CaError {
    CaError::resource(format!("tls-alpn-01 {what}: {e}"))
}

impl TlsAlpnClient {
    /// Starts a handshake with `sni` as the server name; the first `step`
    /// (with nothing read yet) hands out the ClientHello.
    pub fn start(sni: &str) -> CaResult<TlsAlpnClient> {
        // A host name (RFC 1123 letters, digits, hyphens, dots): rust-openssl
        // panics on a NUL, and SNI carries nothing else.
        let host_name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        if sni.is_empty() || sni.len() > 253 || !sni.bytes().all(host_name) {
            return Err(CaError::param(format!(
                "tls-alpn-01 server name must be a DNS name (letters, digits, '-', '.'), got {}",
                crate::core::error::shown(sni)
            )));
        }
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| tls_error("setup", e))?;
        b.set_verify(SslVerifyMode::NONE);
        b.set_min_proto_version(Some(SslVersion::TLS1_2)).map_err(|e| tls_error("setup", e))?;
        b.set_alpn_protos(ALPN_WIRE).map_err(|e| tls_error("setup", e))?;
        let mut config = b.build().configure().map_err(|e| tls_error("setup", e))?;
        config.set_verify_hostname(false);
        let ssl = config.into_ssl(sni).map_err(|e| tls_error("server name", e))?;
        match ssl.connect(Memory::default()) {
            Err(HandshakeError::WouldBlock(mut mid)) => {
                let hello = std::mem::take(&mut mid.get_mut().outbox);
                Ok(TlsAlpnClient { state: State::Handshaking(mid), hello })
            }
            Err(HandshakeError::SetupFailure(e)) => Err(tls_error("setup", e)),
            Err(HandshakeError::Failure(mid)) => Err(tls_error("handshake", mid.error())),
            Ok(_) => Err(tls_error("handshake", "finished before the server answered")),
        }
    }

    /// Feeds bytes read from the server (none on the first call).
    pub fn step(&mut self, input: &[u8]) -> CaResult<Step> {
        if !self.hello.is_empty() {
            if !input.is_empty() {
                return Err(CaError::param("tls-alpn-01: the server spoke before the ClientHello was sent"));
            }
            return Ok(Step::Continue(std::mem::take(&mut self.hello)));
        }
        let State::Handshaking(mut mid) = std::mem::replace(&mut self.state, State::Finished) else {
            return Err(CaError::param("tls-alpn-01: this handshake is already over"));
        };
        let memory = mid.get_mut();
        memory.received += input.len();
        if memory.received > MAX_HANDSHAKE_BYTES {
            return Err(tls_error("handshake", format!("the server sent more than {MAX_HANDSHAKE_BYTES} bytes")));
        }
        memory.inbox.extend_from_slice(input);
        match mid.handshake() {
            Ok(mut stream) => {
                let send = std::mem::take(&mut stream.get_mut().outbox);
                let ssl = stream.ssl();
                let alpn = ssl.selected_alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned());
                let certificate = ssl
                    .peer_certificate()
                    .ok_or_else(|| tls_error("handshake", "the server showed no certificate"))?
                    .to_der()
                    .map_err(|e| tls_error("certificate", e))?;
                Ok(Step::Done { send, alpn, certificate })
            }
            Err(HandshakeError::WouldBlock(mut mid)) => {
                let send = std::mem::take(&mut mid.get_mut().outbox);
                self.state = State::Handshaking(mid);
                Ok(Step::Continue(send))
            }
            Err(HandshakeError::Failure(mid)) => Err(tls_error("handshake", mid.error())),
            Err(HandshakeError::SetupFailure(e)) => Err(tls_error("handshake", e)),
        }
    }
}

/// RFC 8737 §3: the server chose `acme-tls/1`, and its certificate names
/// exactly `identifier` (one dNSName, nothing else) and carries a critical
/// acmeIdentifier extension holding SHA-256 of the key authorization.
pub fn judge(identifier: &str, key_authorization: &str, alpn: Option<&str>, certificate: &[u8]) -> Result<(), Problem> {
    if alpn != Some(ALPN) {
        return Err(Problem::new(Kind::Tls, format!("the server did not choose ALPN \"{ALPN}\" (it chose {alpn:?})")));
    }
    let bad = |detail: String| Problem::new(Kind::IncorrectResponse, detail);
    let extensions = CertInfo::extensions_of(certificate)
        .map_err(|e| bad(format!("the challenge certificate does not parse: {}", e.message)))?;
    let extension = |oid: &[u8]| extensions.iter().find(|e| e.oid == oid);
    let san = extension(oid::SAN).ok_or_else(|| bad("the challenge certificate has no subjectAltName".into()))?;
    let names = general_names::decode_all(&san.value, "subjectAltName").map_err(|e| bad(e.message))?;
    match names.as_slice() {
        [GeneralName::Dns(d)] if d.eq_ignore_ascii_case(identifier) => {}
        _ => {
            let shown: Vec<String> = names.iter().map(GeneralName::describe).collect();
            return Err(bad(format!("the challenge certificate must name exactly DNS:{identifier}, it names {shown:?}")));
        }
    }
    let ext = extension(ACME_IDENTIFIER)
        .ok_or_else(|| bad("the challenge certificate has no acmeIdentifier extension".into()))?;
    if !ext.critical {
        return Err(bad("the acmeIdentifier extension must be critical".into()));
    }
    // Authorization ::= OCTET STRING (SIZE (32))
    let want = digest::sha256(key_authorization.as_bytes());
    let mut expected = vec![0x04, 0x20];
    expected.extend_from_slice(&want);
    if ext.value != expected {
        return Err(bad("the acmeIdentifier extension does not hold SHA-256 of the key authorization".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};

    use openssl::asn1::{Asn1Object, Asn1OctetString, Asn1Time};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::ssl::{select_next_proto, AlpnError, SslAcceptor, SslMethod};
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509Extension, X509};

    use super::*;

    const KA: &str = "token.thumbprint";

    /// A challenge certificate: `names` in its SAN, `digest_of` hashed into
    /// acmeIdentifier (critical when `critical`), or no acmeIdentifier.
    fn challenge_cert(names: &[&str], digest_of: Option<&str>, critical: bool) -> (X509, PKey<Private>) {
        let key = PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap()).unwrap();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap()).unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap()).unwrap();
        let mut san = SubjectAlternativeName::new();
        for n in names {
            san.dns(n);
        }
        let san = san.build(&b.x509v3_context(None, None)).unwrap();
        b.append_extension(san).unwrap();
        if let Some(ka) = digest_of {
            let mut value = vec![0x04, 0x20];
            value.extend_from_slice(&digest::sha256(ka.as_bytes()));
            let oid = Asn1Object::from_str("1.3.6.1.5.5.7.1.31").unwrap();
            let ext = X509Extension::new_from_der(&oid, critical, &Asn1OctetString::new_from_bytes(&value).unwrap()).unwrap();
            b.append_extension(ext).unwrap();
        }
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn verdict(names: &[&str], digest_of: Option<&str>, critical: bool, alpn: Option<&str>) -> Result<(), Kind> {
        let (cert, _) = challenge_cert(names, digest_of, critical);
        judge("a.example.com", KA, alpn, &cert.to_der().unwrap()).map_err(|p| p.kind)
    }

    #[test]
    fn judges_the_challenge_certificate() {
        assert_eq!(verdict(&["a.example.com"], Some(KA), true, Some(ALPN)), Ok(()));
        assert_eq!(verdict(&["A.Example.COM"], Some(KA), true, Some(ALPN)), Ok(()));
        assert_eq!(verdict(&["a.example.com"], Some(KA), true, None), Err(Kind::Tls));
        assert_eq!(verdict(&["a.example.com"], Some(KA), true, Some("h2")), Err(Kind::Tls));
        assert_eq!(verdict(&["a.example.com"], Some("other.key-authorization"), true, Some(ALPN)), Err(Kind::IncorrectResponse));
        assert_eq!(verdict(&["a.example.com"], Some(KA), false, Some(ALPN)), Err(Kind::IncorrectResponse));
        assert_eq!(verdict(&["a.example.com"], None, true, Some(ALPN)), Err(Kind::IncorrectResponse));
        assert_eq!(verdict(&["b.example.com"], Some(KA), true, Some(ALPN)), Err(Kind::IncorrectResponse));
        assert_eq!(verdict(&["a.example.com", "b.example.com"], Some(KA), true, Some(ALPN)), Err(Kind::IncorrectResponse));
        assert_eq!(judge("a.example.com", KA, Some(ALPN), b"\x30\x03\x02\x01\x00").map_err(|p| p.kind), Err(Kind::IncorrectResponse));
    }

    /// The client over a real socket against an OpenSSL server that answers
    /// acme-tls/1 with a challenge certificate, the caller's loop as
    /// jsec/acme-server runs it.
    #[test]
    fn handshakes_over_a_socket() {
        let (cert, key) = challenge_cert(&["a.example.com"], Some(KA), true);
        let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        acceptor.set_private_key(&key).unwrap();
        acceptor.set_certificate(&cert).unwrap();
        acceptor.set_alpn_select_callback(|_, client| select_next_proto(ALPN_WIRE, client).ok_or(AlpnError::ALERT_FATAL));
        let acceptor = acceptor.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (sock, _) = listener.accept().unwrap();
            let mut tls = acceptor.accept(sock).unwrap();
            let sni = tls.ssl().servername(openssl::ssl::NameType::HOST_NAME).map(String::from);
            let _ = tls.write_all(b"");
            sni
        });
        let mut sock = TcpStream::connect(addr).unwrap();
        let mut client = TlsAlpnClient::start("a.example.com").unwrap();
        let mut input = Vec::new();
        let (alpn, der) = loop {
            match client.step(&input).unwrap() {
                Step::Continue(send) => {
                    sock.write_all(&send).unwrap();
                    let mut buf = [0u8; 16384];
                    let n = sock.read(&mut buf).unwrap();
                    assert!(n > 0, "the server closed the connection");
                    input = buf[..n].to_vec();
                }
                Step::Done { send, alpn, certificate } => {
                    sock.write_all(&send).unwrap();
                    break (alpn, certificate);
                }
            }
        };
        assert_eq!(server.join().unwrap().as_deref(), Some("a.example.com"), "SNI is the identifier");
        assert_eq!(alpn.as_deref(), Some(ALPN));
        assert_eq!(der, cert.to_der().unwrap());
        assert!(judge("a.example.com", KA, alpn.as_deref(), &der).is_ok());
        assert!(client.step(b"").is_err(), "a finished client refuses more steps");
    }
}
