//! State held in the CA value itself (the documented default): lost with the
//! process unless the caller saves it (`ca/get-serial`, `ca/get-revoked`,
//! `ca/get-crl-number`) and restores it through `ca/create`.

use super::super::error::CaResult;
use super::super::revocation::{Revocation, RevocationList};
use super::super::serial::{Serial, UsedSerials};
use super::super::time;
use super::{check_counter, check_explicit, counter_after_explicit, counter_serial, CaState, IssuedMeta, SerialStatus, Snapshot, MAX_COUNTER};

#[derive(Debug, Default)]
pub struct MemoryState {
    next_serial: u64,
    /// Serials this CA has put on certificates (its own, when self-issued, included).
    used_serials: UsedSerials,
    tracking: bool,
    issued: Vec<Vec<u8>>,
    revocations: RevocationList,
    crl_number: u64,
    /// Loaded without a known CRL number: numbers are also at least the time in
    /// microseconds, so a restarted CA never reissues a number it has used.
    crl_number_from_clock: bool,
    /// Serials below this one may have been issued before this CA was loaded.
    earlier_serials_below: u64,
}

/// How a memory state starts.
pub struct Start {
    pub next_serial: u64,
    pub tracking: bool,
    pub revocations: RevocationList,
    /// None: unknown (a loaded CA), numbered from the clock.
    pub crl_number: Option<u64>,
    /// A CA loaded from elsewhere may have issued serials below its counter.
    pub loaded: bool,
    /// The CA's own serial, when it is self-issued (it shares the issuer name).
    pub own_serial: Option<Serial>,
    /// Certificates issued before (checked by the caller to be this CA's).
    pub issued: Vec<Vec<u8>>,
}

impl MemoryState {
    pub fn new(start: Start) -> CaResult<MemoryState> {
        let next_serial = check_counter(start.next_serial, ":serial")?;
        let mut used_serials = UsedSerials::default();
        if let Some(s) = start.own_serial {
            used_serials.insert(s);
        }
        for der in &start.issued {
            used_serials.insert(super::super::cert_info::CertInfo::parse(der)?.serial);
        }
        Ok(MemoryState {
            next_serial,
            used_serials,
            tracking: start.tracking,
            issued: start.issued,
            revocations: start.revocations,
            crl_number: start.crl_number.unwrap_or(1),
            crl_number_from_clock: start.loaded && start.crl_number.is_none(),
            earlier_serials_below: if start.loaded { next_serial } else { 0 },
        })
    }

    fn next_free(&self) -> u64 {
        // At most MAX_COUNTER (still an int/s64), which counter_serial reports as exhausted.
        self.used_serials.next_free(self.next_serial).min(MAX_COUNTER)
    }

    fn current_crl_number(&self) -> u64 {
        if self.crl_number_from_clock {
            self.crl_number.max(time::now_micros())
        } else {
            self.crl_number
        }
    }
}

impl CaState for MemoryState {
    fn next_serial(&mut self) -> CaResult<u64> {
        Ok(self.next_free())
    }

    fn set_serial(&mut self, n: u64) -> CaResult<()> {
        self.next_serial = check_counter(n, "serial")?;
        Ok(())
    }

    /// Nothing changes until `record_issued`: a call that fails after this
    /// leaves the memory state as it was.
    fn reserve_serial(&mut self, explicit: Option<Serial>) -> CaResult<Serial> {
        match explicit {
            Some(s) => {
                check_explicit(&s, self.used_serials.contains(&s))?;
                Ok(s)
            }
            None => counter_serial(self.next_free()),
        }
    }

    fn record_issued(&mut self, serial: Serial, der: &[u8], _meta: &dyn Fn() -> CaResult<IssuedMeta>) -> CaResult<()> {
        // The counter's own serial, or an explicit one ahead of it: the counter moves past it.
        if let Some(next) = counter_after_explicit(&serial, self.next_free()) {
            self.next_serial = next;
        }
        self.used_serials.insert(serial);
        if self.tracking {
            self.issued.push(der.to_vec());
        }
        Ok(())
    }

    fn is_tracking(&self) -> bool {
        self.tracking
    }

    fn issued(&mut self) -> CaResult<Option<&[Vec<u8>]>> {
        Ok(self.tracking.then_some(self.issued.as_slice()))
    }

    fn revoke(&mut self, r: Revocation) -> CaResult<()> {
        self.revocations.apply(r)
    }

    fn revocations(&mut self) -> CaResult<&RevocationList> {
        Ok(&self.revocations)
    }

    fn status(&mut self, serial: &Serial) -> CaResult<SerialStatus> {
        Ok(match self.revocations.get(serial) {
            Some(r) => SerialStatus::Revoked(*r),
            None if self.used_serials.contains(serial) => SerialStatus::Good,
            None if serial.to_i64().is_some_and(|n| (n as u64) < self.earlier_serials_below) => SerialStatus::Good,
            None => SerialStatus::Unknown,
        })
    }

    fn crl_number(&mut self) -> CaResult<u64> {
        Ok(self.current_crl_number())
    }

    fn with_next_crl(&mut self, sign: &mut dyn FnMut(u64, &RevocationList) -> CaResult<Vec<u8>>) -> CaResult<Vec<u8>> {
        let n = self.current_crl_number();
        let crl = sign(n, &self.revocations)?;
        self.crl_number = n.saturating_add(1);
        Ok(crl)
    }

    fn snapshot(&mut self) -> CaResult<Snapshot> {
        let next = self.next_free();
        let history_below = next.max(self.earlier_serials_below);
        Ok(Snapshot {
            next_serial: next,
            history_below,
            used: self.used_serials.at_or_above(history_below),
            issued: self.issued.clone(),
            revocations: self.revocations.entries().to_vec(),
            crl_number: self.crl_number,
            crl_number_from_clock: self.crl_number_from_clock,
        })
    }
}
