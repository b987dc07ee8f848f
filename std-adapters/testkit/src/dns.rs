//! An authoritative DNS server for one zone, on one UDP and TCP port of 127.0.0.1, whose TXT
//! records can be added while it runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::ServerFuture;
use hickory_server::authority::{AuthorityObject, Catalog, ZoneType};
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryAuthority;
use tokio::net::{TcpListener, UdpSocket};

use crate::Task;

/// A running authoritative server.
pub struct LocalDns {
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    zone: Arc<InMemoryAuthority>,
    serial: std::sync::atomic::AtomicU32,
    task: Task,
}

/// A UDP socket and a TCP listener on the same free port of 127.0.0.1.
pub async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no free port pair");
}

impl std::fmt::Debug for LocalDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalDns")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl LocalDns {
    /// Serves the zone `origin` (e.g. `example.`), with an SOA record and nothing else.
    pub async fn start(origin: &str) -> Self {
        let origin = Name::from_ascii(origin).unwrap();
        let mut zone = InMemoryAuthority::empty(origin.clone(), ZoneType::Primary, false);
        let soa = SOA::new(
            Name::from_ascii(format!("ns.{origin}")).unwrap(),
            Name::from_ascii(format!("admin.{origin}")).unwrap(),
            1,
            3600,
            600,
            86400,
            60,
        );
        assert!(zone.upsert_mut(Record::from_rdata(origin.clone(), 3600, RData::SOA(soa)), 1));
        let zone = Arc::new(zone);
        let mut catalog = Catalog::new();
        let object: Arc<dyn AuthorityObject> = zone.clone();
        catalog.upsert(LowerName::new(&origin), vec![object]);
        let (udp, tcp) = bind_pair().await;
        let addr = udp.local_addr().unwrap();
        let mut server = ServerFuture::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5));
        let task = Task::new(tokio::spawn(async move {
            let _ = server.block_until_done().await;
        }));
        Self {
            addr,
            zone,
            serial: std::sync::atomic::AtomicU32::new(2),
            task,
        }
    }

    /// Adds a TXT record at `name` (absolute, e.g. `_kez.alice.example.`) with these
    /// character-strings; records at one name accumulate.
    pub async fn add_txt(&self, name: &str, strings: Vec<String>) {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let record = Record::from_rdata(
            Name::from_ascii(name).unwrap(),
            60,
            RData::TXT(TXT::new(strings)),
        );
        assert!(self.zone.upsert(record, serial).await, "record not added");
    }

    /// Adds the record of a zone-file line `NAME TTL IN TXT "…" "…"` (as `kez claim publish`
    /// prints for the `dns` channel).
    pub async fn add_zone_line(&self, line: &str) {
        let line = line.trim();
        let name = line.split_whitespace().next().unwrap();
        let strings: Vec<String> = line
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert!(line.contains(" IN TXT "), "not a TXT zone line: {line}");
        self.add_txt(name, strings).await;
    }

    /// Stops answering (the port is closed).
    pub fn stop(&self) {
        self.task.stop();
    }
}
