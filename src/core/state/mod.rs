//! The state a CA keeps between calls: its serial counter and the serials it
//! used, the index of what it issued, its revocations and its CRL number.
//!
//! Issuance talks to that state only through [`CaState`], so it never knows
//! where the state lives: in memory ([`memory::MemoryState`], the documented
//! default) or in a store that several processes share
//! ([`crate::core::store`]). Every engine applies the same rules, which live
//! here and in [`crate::core::revocation`], not in the engines.

pub mod memory;

use super::cert_info::CertInfo;
use super::error::{CaError, CaResult};
use super::general_names::{self, GeneralName};
use super::names;
use super::oid;
use super::revocation::{Revocation, RevocationList};
use super::serial::Serial;

/// One past the largest counter serial: serials are handed to Janet as int/s64,
/// and the next serial after the last one must fit too.
pub const MAX_COUNTER: u64 = i64::MAX as u64;

/// What the index keeps of an issued certificate besides its DER.
#[derive(Debug, Clone)]
pub struct IssuedMeta {
    /// "CN=www.example.com, O=Example", for listing and searching.
    pub subject: String,
    /// The SAN entries, "DNS:x" form.
    pub sans: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
}

/// Everything a state holds, to move it into another (a store).
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The counter's next value.
    pub next_serial: u64,
    /// Serials below this one count as used, and as possibly issued.
    pub history_below: u64,
    /// Serials used at or above `history_below` (explicit ones).
    pub used: Vec<Serial>,
    /// DER of the issued certificates known (when tracking), oldest first.
    pub issued: Vec<Vec<u8>>,
    pub revocations: Vec<Revocation>,
    pub crl_number: u64,
    pub crl_number_from_clock: bool,
}

/// What a CA knows of a serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialStatus {
    Revoked(Revocation),
    Good,
    /// The CA never issued it.
    Unknown,
}

/// A serial's status from what a store holds for it: its revocation, else
/// good below `history_below` (serials used before the store kept an
/// index), else as its index row says, read only when needed (`pending`:
/// None when there is no row). A reserved serial whose certificate was never
/// recorded was never handed out: unknown.
pub fn stored_status(
    serial: &Serial,
    revoked: Option<Revocation>,
    history_below: u64,
    pending: impl FnOnce() -> CaResult<Option<bool>>,
) -> CaResult<SerialStatus> {
    if let Some(r) = revoked {
        return Ok(SerialStatus::Revoked(r));
    }
    if serial.to_i64().is_some_and(|n| (n as u64) < history_below) {
        return Ok(SerialStatus::Good);
    }
    Ok(if pending()? == Some(false) { SerialStatus::Good } else { SerialStatus::Unknown })
}

/// The state behind one CA. Methods that change state are all-or-nothing:
/// on error nothing changed (a store rolls back its transaction).
pub trait CaState {
    /// The serial the counter hands out next.
    fn next_serial(&mut self) -> CaResult<u64>;
    /// Moves the counter (used serials are still skipped).
    fn set_serial(&mut self, n: u64) -> CaResult<()>;
    /// Takes a serial for a certificate about to be signed: the counter's next
    /// unused one, or `explicit` after [`check_explicit`]. A persistent engine
    /// commits the reservation before returning, so that no other process and
    /// no restart can hand the serial out again, whatever happens next.
    fn reserve_serial(&mut self, explicit: Option<Serial>) -> CaResult<Serial>;
    /// Records the certificate signed with a serial from `reserve_serial`;
    /// it is in the index (committed) when this returns. `meta` describes it
    /// for an index that keeps more than the DER (computed only when asked:
    /// issuing in memory does not pay for it).
    fn record_issued(&mut self, serial: Serial, der: &[u8], meta: &dyn Fn() -> CaResult<IssuedMeta>) -> CaResult<()>;
    fn is_tracking(&self) -> bool;
    /// DER of the issued certificates, oldest first, or None when not tracking.
    fn issued(&mut self) -> CaResult<Option<&[Vec<u8>]>>;
    /// Records a revocation under the rules of [`RevocationList::apply`].
    fn revoke(&mut self, r: Revocation) -> CaResult<()>;
    /// Every revocation, in revocation order, as the state is now.
    fn revocations(&mut self) -> CaResult<&RevocationList>;
    /// The status of `serial` as the state is now.
    fn status(&mut self, serial: &Serial) -> CaResult<SerialStatus>;
    /// The number the next CRL will carry.
    fn crl_number(&mut self) -> CaResult<u64>;
    /// Runs `sign` with the next CRL number and the revocations, and advances
    /// the number only when `sign` succeeded (atomically, for a store).
    fn with_next_crl(&mut self, sign: &mut dyn FnMut(u64, &RevocationList) -> CaResult<Vec<u8>>) -> CaResult<Vec<u8>>;
    /// All of it, to move it elsewhere.
    fn snapshot(&mut self) -> CaResult<Snapshot>;
}

/// What the index keeps of a certificate, read from its DER.
pub fn describe(der: &[u8]) -> CaResult<IssuedMeta> {
    let info = CertInfo::parse(der)?;
    let sans = match info.extension(oid::SAN) {
        Some(e) => general_names::decode_all(&e.value, "subjectAltName")?.iter().map(GeneralName::describe).collect(),
        None => Vec::new(),
    };
    Ok(IssuedMeta {
        subject: names::display_name(&info.subject_der),
        sans,
        not_before: info.not_before,
        not_after: info.not_after,
    })
}

/// An explicit serial must be unused (by the counter or explicitly). One
/// ahead of the counter is taken, and the engine moves the counter past it
/// ([`counter_after_explicit`]): the counter never reaches it, and a counter
/// saved afterwards (the documented persistence pattern) is the moved one.
pub fn check_explicit(s: &Serial, used: bool) -> CaResult<()> {
    if used {
        return Err(CaError::param(format!(":serial {} was already used by this CA", s.to_hex())));
    }
    Ok(())
}

/// Where the counter goes after the explicit serial `s` was taken when it
/// stood at `next`: past `s` when `s` lies in the counter's range at or ahead
/// of it, else nowhere (None).
pub fn counter_after_explicit(s: &Serial, next: u64) -> Option<u64> {
    let n = s.to_i64()? as u64;
    (n >= next && n < MAX_COUNTER).then_some(n + 1)
}

/// A counter value the CA may set or start from.
pub fn check_counter(n: u64, what: &str) -> CaResult<u64> {
    if n == 0 || n >= MAX_COUNTER {
        Err(CaError::param(format!("{what} must be between 1 and {}, got {n}", MAX_COUNTER - 1)))
    } else {
        Ok(n)
    }
}

/// The counter's value as a serial, or an error when it is exhausted.
pub fn counter_serial(n: u64) -> CaResult<Serial> {
    if n >= MAX_COUNTER {
        return Err(CaError::resource("the serial counter is exhausted"));
    }
    Serial::from_u64(n)
}
