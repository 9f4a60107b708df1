//! TEMPORARY
#![allow(missing_docs, dead_code)]
use qoima_store::{ImportReport, Source, Store, StoreError};
pub struct Ban {
    pub peer: String,
    pub until_ms: i64,
}
pub trait StoreShim {
    fn import_network_bundle(&mut self, r: &[u8], s: Source) -> Result<ImportReport, StoreError>;
    fn active_bans(&self, now: i64) -> Result<Vec<Ban>, StoreError>;
    fn ban_peer(&mut self, p: &str, u: i64, r: &str) -> Result<(), StoreError>;
}
impl StoreShim for Store {
    fn import_network_bundle(&mut self, r: &[u8], s: Source) -> Result<ImportReport, StoreError> {
        self.import_bundle(r, s)
    }
    fn active_bans(&self, _now: i64) -> Result<Vec<Ban>, StoreError> {
        Ok(vec![])
    }
    fn ban_peer(&mut self, _p: &str, _u: i64, _r: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
pub trait ReportShim {
    fn sender_fault(&self) -> Option<String>;
}
impl ReportShim for ImportReport {
    fn sender_fault(&self) -> Option<String> {
        (!self.is_clean()).then(|| "bad".to_string())
    }
}
pub fn outbound_violation(
    e: &qoima_net::libp2p::request_response::OutboundFailure,
) -> Option<String> {
    let t = e.to_string();
    (t.contains("exceeds the limit") || t.contains("undecodable") || t.contains("non-canonical"))
        .then_some(t)
}
pub fn inbound_violation(
    e: &qoima_net::libp2p::request_response::InboundFailure,
) -> Option<String> {
    let t = e.to_string();
    (t.contains("exceeds the limit") || t.contains("undecodable") || t.contains("non-canonical"))
        .then_some(t)
}
