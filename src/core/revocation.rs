//! The CA's revocation list: O(1) amortised revoke, duplicate detection by
//! hash lookup, revocation order preserved for `get-revoked` and CRLs. The
//! hash index is built when first needed: a store reading a million
//! revocations back for a CRL never looks one up.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::error::{CaError, CaResult};
use super::error::shown;
use super::serial::Serial;

/// CRLReason (RFC 5280 §5.3.1); value 7 is unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

pub const REASON_NAMES: &[(&str, Reason)] = &[
    ("unspecified", Reason::Unspecified),
    ("key-compromise", Reason::KeyCompromise),
    ("ca-compromise", Reason::CaCompromise),
    ("affiliation-changed", Reason::AffiliationChanged),
    ("superseded", Reason::Superseded),
    ("cessation-of-operation", Reason::CessationOfOperation),
    ("certificate-hold", Reason::CertificateHold),
    ("remove-from-crl", Reason::RemoveFromCrl),
    ("privilege-withdrawn", Reason::PrivilegeWithdrawn),
    ("aa-compromise", Reason::AaCompromise),
];

impl Reason {
    pub fn from_name(name: &str, what: &str) -> CaResult<Reason> {
        REASON_NAMES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r).ok_or_else(|| {
            let valid: Vec<String> = REASON_NAMES.iter().map(|(n, _)| format!(":{n}")).collect();
            CaError::param(format!("{what} {} is not a revocation reason; valid: {}", shown(name), valid.join(", ")))
        })
    }

    pub fn name(self) -> &'static str {
        REASON_NAMES.iter().find(|(_, r)| *r == self).map(|(n, _)| *n).unwrap_or("unspecified")
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The reason after a serial revoked for `self` is revoked again for
    /// `new`, or None when that change is refused. A revocation never goes
    /// backwards (RFC 5280 §5.3.1: relying parties act on keyCompromise):
    /// the same reason, or the default :unspecified, leaves it as it is; a
    /// hold becomes any permanent reason; any reason may become
    /// keyCompromise; nothing else changes.
    pub fn updated_to(self, new: Reason) -> Option<Reason> {
        match (self, new) {
            (old, n) if old == n => Some(old),
            (Reason::CertificateHold, n) => Some(n),
            (old, Reason::Unspecified) => Some(old),
            (_, Reason::KeyCompromise) => Some(Reason::KeyCompromise),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub serial: Serial,
    pub reason: Reason,
    /// Revocation time, Unix seconds.
    pub date: i64,
}

impl Revocation {
    /// The reason of an entry that names none (`:revoked [{:serial n}]`).
    pub const DEFAULT_REASON: Reason = Reason::Unspecified;
}

/// What recording a revocation does to the entry of its serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Insert(Revocation),
    /// The entry keeps its date (the first revocation's) and takes this reason.
    Update(Reason),
    /// A hold released (:remove-from-crl): the entry leaves later CRLs.
    Remove,
}

/// The rules every CA state applies when `r` is recorded for a serial whose
/// entry is `existing`: a revocation only strengthens ([`Reason::updated_to`]),
/// a permanent one never goes back on hold, and :remove-from-crl releases
/// only a hold.
pub fn change(existing: Option<&Revocation>, r: Revocation) -> CaResult<Change> {
    match (existing, r.reason) {
        (Some(e), Reason::RemoveFromCrl) if e.reason == Reason::CertificateHold => Ok(Change::Remove),
        (_, Reason::RemoveFromCrl) => Err(CaError::param(format!(
            ":remove-from-crl releases a :certificate-hold, but serial {} is not on hold",
            r.serial.to_hex()
        ))),
        (None, _) => Ok(Change::Insert(r)),
        (Some(e), Reason::CertificateHold) if e.reason != Reason::CertificateHold => Err(CaError::param(format!(
            "serial {} is revoked permanently (:{}); it cannot be put on :certificate-hold",
            r.serial.to_hex(),
            e.reason.name()
        ))),
        (Some(e), new) => match e.reason.updated_to(new) {
            Some(reason) if reason == e.reason => Ok(Change::Unchanged),
            Some(reason) => Ok(Change::Update(reason)),
            None => Err(CaError::param(format!(
                "serial {} is already revoked as :{}; its reason can change only to :key-compromise \
                 (or from :certificate-hold to a permanent reason), not to :{}",
                r.serial.to_hex(),
                e.reason.name(),
                new.name()
            ))),
        },
    }
}

#[derive(Debug, Clone, Default)]
pub struct RevocationList {
    entries: Vec<Revocation>,
    index: OnceCell<HashMap<Serial, usize>>,
}

/// Where each serial is in `entries`.
fn positions(entries: &[Revocation]) -> HashMap<Serial, usize> {
    entries.iter().enumerate().map(|(i, r)| (r.serial, i)).collect()
}

impl RevocationList {
    /// A list of entries already checked (as a store read them back).
    pub fn from_entries(entries: Vec<Revocation>) -> RevocationList {
        RevocationList { entries, index: OnceCell::new() }
    }

    fn index(&self) -> &HashMap<Serial, usize> {
        self.index.get_or_init(|| positions(&self.entries))
    }

    pub fn entries(&self) -> &[Revocation] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, serial: &Serial) -> Option<&Revocation> {
        self.index().get(serial).map(|i| &self.entries[*i])
    }

    /// Records a revocation under [`change`]'s rules. On error nothing changes.
    pub fn apply(&mut self, r: Revocation) -> CaResult<()> {
        let change = change(self.get(&r.serial), r)?;
        let mut index = self.index.take().unwrap_or_else(|| positions(&self.entries));
        match change {
            Change::Unchanged => {}
            Change::Insert(r) => {
                index.insert(r.serial, self.entries.len());
                self.entries.push(r);
            }
            Change::Update(reason) => {
                if let Some(i) = index.get(&r.serial).copied() {
                    self.entries[i].reason = reason;
                }
            }
            Change::Remove => {
                if let Some(i) = index.remove(&r.serial) {
                    self.entries.remove(i);
                    for (j, e) in self.entries.iter().enumerate().skip(i) {
                        index.insert(e.serial, j);
                    }
                }
            }
        }
        self.index = OnceCell::from(index);
        Ok(())
    }

    /// Applies a batch all-or-nothing: every entry is checked against the list
    /// as the batch would leave it before anything changes.
    pub fn apply_all(&mut self, batch: &[Revocation]) -> CaResult<()> {
        let mut trial = self.clone();
        for r in batch {
            trial.apply(*r)?;
        }
        *self = trial;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Serial {
        Serial::from_u64(n).unwrap()
    }

    #[test]
    fn hold_and_release() {
        let mut l = RevocationList::default();
        l.apply(Revocation { serial: s(1), reason: Reason::KeyCompromise, date: 10 }).unwrap();
        l.apply(Revocation { serial: s(2), reason: Reason::CertificateHold, date: 11 }).unwrap();
        l.apply(Revocation { serial: s(3), reason: Reason::Unspecified, date: 12 }).unwrap();
        assert!(l.apply(Revocation { serial: s(1), reason: Reason::Superseded, date: 13 }).is_err(), "no downgrade");
        l.apply(Revocation { serial: s(1), reason: Reason::Unspecified, date: 13 }).unwrap();
        assert_eq!(l.get(&s(1)).unwrap().reason, Reason::KeyCompromise, "the default reason keeps keyCompromise");
        l.apply(Revocation { serial: s(3), reason: Reason::KeyCompromise, date: 13 }).unwrap();
        assert_eq!(l.get(&s(3)).unwrap().reason, Reason::KeyCompromise, "escalation to keyCompromise");
        assert_eq!(l.len(), 3);
        assert_eq!(l.get(&s(3)).unwrap().date, 12, "an update keeps the first revocation's date");
        assert!(l.apply(Revocation { serial: s(1), reason: Reason::CertificateHold, date: 14 }).is_err());
        l.apply(Revocation { serial: s(9), reason: Reason::CertificateHold, date: 15 }).unwrap();
        l.apply(Revocation { serial: s(9), reason: Reason::KeyCompromise, date: 16 }).unwrap();
        assert!(l.apply(Revocation { serial: s(9), reason: Reason::RemoveFromCrl, date: 0 }).is_err());
        assert!(l.apply(Revocation { serial: s(3), reason: Reason::RemoveFromCrl, date: 0 }).is_err());
        l.apply(Revocation { serial: s(2), reason: Reason::RemoveFromCrl, date: 0 }).unwrap();
        assert_eq!(l.len(), 3);
        assert!(l.get(&s(2)).is_none());
    }
}
