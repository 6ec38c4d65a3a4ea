//! The ACME state in this process's memory (`":memory:"`).
use super::{AcmeStore, Object, Op};
use crate::core::error::CaResult;

/// A store in memory (the same semantics), for unit tests and throwaway servers.
#[derive(Default)]
pub struct MemoryAcme {
    objects: std::collections::HashMap<(String, String), Object>,
    nonces: std::collections::HashMap<String, i64>,
}

impl AcmeStore for MemoryAcme {
    fn nonce_put(&mut self, nonce: &str, now: i64) -> CaResult<()> {
        self.nonces.insert(nonce.to_string(), now);
        Ok(())
    }
    fn nonce_take(&mut self, nonce: &str, not_before: i64) -> CaResult<bool> {
        Ok(matches!(self.nonces.remove(nonce), Some(t) if t >= not_before))
    }
    fn get(&mut self, kind: &str, id: &str) -> CaResult<Option<Object>> {
        Ok(self.objects.get(&(kind.to_string(), id.to_string())).cloned())
    }
    fn apply(&mut self, ops: &[Op], now: i64) -> CaResult<bool> {
        let mut next = self.objects.clone();
        for op in ops {
            match op {
                Op::Insert { kind, id, account, data } => {
                    let k = (kind.to_string(), id.clone());
                    if next.contains_key(&k) {
                        return Ok(false);
                    }
                    next.insert(k, Object { id: id.clone(), account: account.clone(), created: now, version: 1, data: data.clone() });
                }
                Op::Update { kind, id, version, data } => match next.get_mut(&(kind.to_string(), id.clone())) {
                    Some(o) if o.version == *version => {
                        o.version += 1;
                        o.data = data.clone();
                    }
                    _ => return Ok(false),
                },
                Op::Delete { kind, id } => {
                    if next.remove(&(kind.to_string(), id.clone())).is_none() {
                        return Ok(false);
                    }
                }
            }
        }
        self.objects = next;
        Ok(true)
    }
    fn count_since(&mut self, kind: &str, account: &str, since: i64) -> CaResult<u64> {
        Ok(self
            .objects
            .iter()
            .filter(|((k, _), o)| k == kind && (account.is_empty() || o.account == account) && o.created >= since)
            .count() as u64)
    }
    fn list(&mut self, kind: &str, account: &str, limit: u32) -> CaResult<Vec<Object>> {
        let mut v: Vec<Object> =
            self.objects.iter().filter(|((k, _), o)| k == kind && o.account == account).map(|(_, o)| o.clone()).collect();
        v.sort_by_key(|o| o.created);
        v.truncate(limit as usize);
        Ok(v)
    }
}
