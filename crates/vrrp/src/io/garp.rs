//! Whole Ethernet frames out of one interface, over `AF_PACKET` (pnet_datalink).
//!
//! Gratuitous ARP and unsolicited neighbour advertisements carry the virtual router's MAC as
//! their Ethernet source, which no IP socket would write, so [`crate::wire`] builds the whole
//! frame and [`FrameSender`] puts it on the wire as is.
//!
//! The socket only sends. A packet socket bound to an interface is handed a copy of every
//! frame on it, so a filter that accepts nothing is attached before pnet binds the socket,
//! and promiscuous mode stays off.

use std::fmt;
use std::os::fd::IntoRawFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pnet_datalink::{Channel, ChannelType, DataLinkSender, NetworkInterface};
use socket2::{Domain, Socket, Type};

use super::{interface_index, Error, BPF_DROP_ALL};

/// How long a send waits for room in the socket's send buffer before it is handed to tokio's
/// blocking pool: not at all (pnet polls with this timeout before each send).
const WRITE_TIMEOUT: Duration = Duration::ZERO;

/// How long the blocking pool retries a send the buffer had no room for, and how often.
const RETRY_FOR: Duration = Duration::from_secs(1);
const RETRY_EVERY: Duration = Duration::from_millis(10);

/// Sends whole Ethernet frames on one interface.
///
/// A send goes out at once from the caller's task when the socket has room, which is almost
/// always: a gratuitous ARP leaves microseconds after the VIP is added, not after a hop to
/// another thread. When the buffer is full it is retried on tokio's blocking pool, so the
/// runtime is never stalled.
pub struct FrameSender {
    interface: String,
    ifindex: u32,
    sender: Arc<Mutex<Box<dyn DataLinkSender>>>,
}

impl fmt::Debug for FrameSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameSender").field("interface", &self.interface).field("ifindex", &self.ifindex).finish()
    }
}

impl FrameSender {
    /// Opens a send-only `AF_PACKET` socket on `interface`. Needs `CAP_NET_RAW`.
    pub fn open(interface: &str) -> Result<FrameSender, Error> {
        let ifindex = interface_index(interface)?;
        // Protocol 0: nothing is delivered to the socket until pnet binds it with ETH_P_ALL,
        // by which time the filter is in place.
        let socket = Socket::new(Domain::PACKET, Type::RAW, None)
            .map_err(|source| Error::socket("opening an AF_PACKET socket", interface, source))?;
        socket
            .attach_filter(&[BPF_DROP_ALL])
            .map_err(|source| Error::socket("attaching a drop-all filter", interface, source))?;
        let config = pnet_datalink::Config {
            write_timeout: Some(WRITE_TIMEOUT),
            channel_type: ChannelType::Layer2,
            promiscuous: false,
            socket_fd: Some(socket.into_raw_fd()),
            ..pnet_datalink::Config::default()
        };
        let target = NetworkInterface {
            name: interface.to_owned(),
            description: String::new(),
            index: ifindex,
            mac: None,
            ips: Vec::new(),
            flags: 0,
        };
        let sender = match pnet_datalink::channel(&target, config) {
            Ok(Channel::Ethernet(sender, _receiver)) => sender,
            Ok(_) => return Err(Error::NotEthernet { interface: interface.to_owned() }),
            Err(source) => return Err(Error::socket("binding the AF_PACKET socket", interface, source)),
        };
        tracing::debug!(interface, ifindex, "frame sender open");
        Ok(FrameSender { interface: interface.to_owned(), ifindex, sender: Arc::new(Mutex::new(sender)) })
    }

    /// The interface's name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface's index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends `frame`, Ethernet header included, as it is.
    pub async fn send(&self, frame: &[u8]) -> Result<(), Error> {
        let result = match send_once(&self.sender, frame) {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                let (owned, sender) = (frame.to_vec(), Arc::clone(&self.sender));
                tokio::task::spawn_blocking(move || retry(&sender, &owned))
                    .await
                    .map_err(|source| Error::BlockingTask { interface: self.interface.clone(), source })?
            }
            other => other,
        };
        result.map_err(|source| Error::FrameSend { interface: self.interface.clone(), len: frame.len(), source })?;
        tracing::trace!(interface = self.interface, len = frame.len(), "frame sent");
        Ok(())
    }
}

/// One send if the socket has room now; `TimedOut` if it has none.
fn send_once(sender: &Mutex<Box<dyn DataLinkSender>>, frame: &[u8]) -> std::io::Result<()> {
    // A panic while holding the lock cannot leave the sender half-changed: it keeps no state
    // between sends.
    let mut sender = sender.lock().unwrap_or_else(PoisonError::into_inner);
    sender.send_to(frame, None).unwrap_or_else(|| Err(std::io::Error::other("pnet gave no send result")))
}

/// Sends, waiting for room in the socket's buffer for up to [`RETRY_FOR`]; blocks.
fn retry(sender: &Mutex<Box<dyn DataLinkSender>>, frame: &[u8]) -> std::io::Result<()> {
    let mut waited = Duration::ZERO;
    loop {
        match send_once(sender, frame) {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && waited < RETRY_FOR => {
                std::thread::sleep(RETRY_EVERY);
                waited += RETRY_EVERY;
            }
            other => return other,
        }
    }
}
