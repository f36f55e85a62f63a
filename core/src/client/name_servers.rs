//! The name-server list of a client instance and its failover order: fixed (NAMESRV_ADDR), or
//! fetched from an address server (ONSAddr, docs/configuration-keys.md) and replaced when a
//! later fetch answers differently, as the Java client's `MQClientInstance` does with
//! `fetchNameServerAddr` (apache/rocketmq `client/src/main/java/org/apache/rocketmq/client/impl/factory/MQClientInstance.java`).
//!
//! Requests start with the name server that answered last; when the list changes, that one
//! keeps its place as first choice if it is still listed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;

use crate::error::{Error, Result};
use crate::http::address_server::AddressServer;

/// When the first periodic fetch runs and how often after it (Java's `MQClientInstance`: 10 s,
/// then every 2 minutes; the ONS Java SDK polls its ONSAddr every 90 s).
pub const REFRESH_DELAY: Duration = Duration::from_secs(10);
pub const REFRESH_PERIOD: Duration = Duration::from_secs(120);

pub struct NameServers {
    list: RwLock<Arc<Vec<String>>>,
    /// Index in `list` of the name server to try first (the one that answered last).
    preferred: AtomicUsize,
    address_server: Option<AddressServer>,
    /// One fetch at a time: the first uses wait for the first fetch instead of each making one.
    fetching: tokio::sync::Mutex<()>,
}

impl NameServers {
    /// A list that never changes.
    pub fn fixed(addrs: Vec<String>) -> NameServers {
        NameServers::new(addrs, None)
    }

    /// A list fetched from `server`, empty until the first fetch answers.
    pub fn from_address_server(server: AddressServer) -> NameServers {
        NameServers::new(Vec::new(), Some(server))
    }

    fn new(addrs: Vec<String>, address_server: Option<AddressServer>) -> NameServers {
        NameServers {
            list: RwLock::new(Arc::new(addrs)),
            preferred: AtomicUsize::new(0),
            address_server,
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    pub fn address_server(&self) -> Option<&AddressServer> {
        self.address_server.as_ref()
    }

    /// The list as it stands (empty while an address server has not answered yet).
    pub fn snapshot(&self) -> Arc<Vec<String>> {
        self.list.read().clone()
    }

    /// The list and the index to start from. Before an address server has ever answered, this
    /// asks it (or waits for the fetch under way) and fails with its error when it does not
    /// answer with a list.
    pub async fn current(&self) -> Result<(Arc<Vec<String>>, usize)> {
        let list = self.snapshot();
        if !list.is_empty() || self.address_server.is_none() {
            return Ok((list.clone(), self.preferred.load(Ordering::Relaxed) % list.len().max(1)));
        }
        match self.refresh().await {
            Ok(_) => Ok((self.snapshot(), 0)),
            Err(e) => Err(Error::new(e.kind(), format!("no name server is known yet: {}", e.message()))),
        }
    }

    /// Records that `list[index]` answered, so the next request starts there; ignored when the
    /// list was replaced meanwhile.
    pub fn answered(&self, list: &Arc<Vec<String>>, index: usize) {
        if Arc::ptr_eq(&self.list.read(), list) {
            self.preferred.store(index, Ordering::Relaxed);
        }
    }

    /// Fetches the list from the address server (or waits for the fetch under way) and puts it
    /// in place. Returns the addresses no longer listed (for their connections to be closed)
    /// when the list changed, `None` when it did not. On failure the list stays as it was.
    /// Nothing to do for a fixed list.
    pub async fn refresh(&self) -> Result<Option<Vec<String>>> {
        let Some(server) = &self.address_server else { return Ok(None) };
        let before = self.snapshot();
        let _one_at_a_time = self.fetching.lock().await;
        if before.is_empty() && !self.snapshot().is_empty() {
            // Another caller's first fetch answered while this one waited.
            return Ok(None);
        }
        let fetched = server.fetch().await?;
        Ok(self.replace(fetched))
    }

    /// Puts `new` in place unless it is the same list; the name server that was first choice
    /// stays first choice if it is still listed. Returns the addresses dropped, `None` when
    /// nothing changed.
    pub fn replace(&self, new: Vec<String>) -> Option<Vec<String>> {
        let mut list = self.list.write();
        if **list == new {
            return None;
        }
        let preferred = list.get(self.preferred.load(Ordering::Relaxed) % list.len().max(1));
        let index = preferred.and_then(|p| new.iter().position(|a| a == p)).unwrap_or(0);
        let dropped = list.iter().filter(|a| !new.contains(a)).cloned().collect();
        tracing::info!(
            address_server = self.address_server.as_ref().map(AddressServer::url),
            before = %list.join(";"),
            after = %new.join(";"),
            "name-server list changed"
        );
        *list = Arc::new(new);
        self.preferred.store(index, Ordering::Relaxed);
        Some(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(addrs: &[&str]) -> Vec<String> {
        addrs.iter().map(|a| a.to_string()).collect()
    }

    #[tokio::test]
    async fn the_name_server_that_answered_keeps_its_place_when_the_list_changes() {
        let ns = NameServers::fixed(list(&["a:1", "b:2", "c:3"]));
        let (current, start) = ns.current().await.unwrap();
        assert_eq!(start, 0);
        ns.answered(&current, 1);
        assert_eq!(ns.current().await.unwrap().1, 1);

        // b:2 is still listed, at another place: it stays first choice.
        assert_eq!(ns.replace(list(&["d:4", "b:2"])), Some(list(&["a:1", "c:3"])));
        let (current, start) = ns.current().await.unwrap();
        assert_eq!((current.as_slice(), start), (list(&["d:4", "b:2"]).as_slice(), 1));

        // The same list again changes nothing.
        assert_eq!(ns.replace(list(&["d:4", "b:2"])), None);
        // b:2 gone: start from the top.
        ns.replace(list(&["e:5", "d:4"]));
        assert_eq!(ns.current().await.unwrap().1, 0);

        // An answer recorded against a list that was replaced meanwhile is ignored.
        ns.answered(&current, 1);
        assert_eq!(ns.current().await.unwrap().1, 0);
    }

    #[tokio::test]
    async fn without_an_answer_from_the_address_server_first_use_fails_naming_it() {
        // Port 1 on loopback: refused at once.
        let server = AddressServer::new("ONSAddr", "http://127.0.0.1:1/rocketmq/nsaddr").unwrap();
        let ns = NameServers::from_address_server(server);
        let err = ns.current().await.unwrap_err();
        assert!(err.message().starts_with("no name server is known yet"), "{err}");
        assert!(err.message().contains("http://127.0.0.1:1/rocketmq/nsaddr"), "{err}");
        assert!(ns.snapshot().is_empty());
    }
}
