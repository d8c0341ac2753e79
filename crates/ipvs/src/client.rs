//! A synchronous IPVS client on a blocking generic-netlink socket.
//!
//! Reads are dumps (`services`, `dests`, `daemons`) or single requests (`info`, `timeouts`).
//! Writes go through [`Client::apply`], which pipelines: it packs as many requests as the
//! socket buffers allow into one `send`, each with `NLM_F_ACK` and its own sequence number,
//! then collects the acknowledgements. The kernel handles a netlink `send` synchronously,
//! so by the time `send` returns every acknowledgement is queued (or, if the receive buffer
//! overflowed, dropped and reported as `ENOBUFS`); the batch is sized so that it fits.

use std::io;

use netlink_packet_core::{
    ErrorBuffer, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, ParseableParametrized, NLMSG_DONE,
    NLMSG_ERROR, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::io::IoSliceMut;
use std::os::fd::AsRawFd;

use nix::sys::socket::{recvmmsg, setsockopt, sockopt, MsgFlags, MultiHeaders};

use crate::error::{Error, Request};
use crate::family::{
    daemon_attrs, daemon_from_attrs, dest_attrs, dest_entry, dest_key_attrs, service_attrs, service_entry,
    service_key_attrs, DaemonAttr, IpvsAttr, IpvsCmd, IpvsMessage,
};
use crate::types::{DestEntry, Info, Op, Service, ServiceEntry, ServiceKey, SyncDaemon, SyncRole, Timeouts};

/// Socket buffers asked for (the kernel doubles the figure). Forcing them past `rmem_max`
/// needs CAP_NET_ADMIN, which writing to IPVS needs anyway; without it the plain option
/// applies and batches get smaller.
const SOCKET_BUFFER: usize = 8 << 20;
/// What one queued acknowledgement costs in the receive buffer: its skb's truesize, a
/// generous bound for a 36-byte capped ack.
const ACK_TRUESIZE: usize = 1280;
/// A dump part is at most 32 KiB (the kernel's cap on `max_recvmsg_len`).
const RECV_BUFFER: usize = 64 << 10;
/// Acknowledgements read per `recvmmsg`, and the room for each (a capped ack is 36 bytes).
const ACKS_PER_CALL: usize = 1024;
const ACK_SLOT: usize = 128;
/// Largest single `send`, whatever the send buffer allows.
const MAX_SEND: usize = 4 << 20;

/// Counters of the client's traffic, for benchmarks and for "re-applying sends nothing".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Write requests sent (one per `Op`, timeouts, daemons, flush, zero).
    pub writes: u64,
    /// `send` system calls.
    pub sends: u64,
    /// `recv` system calls.
    pub recvs: u64,
}

/// One netlink message of a received datagram, as far as the client needs to know it.
enum Reply<'a> {
    /// NLMSG_ERROR with errno 0.
    Ack(u32),
    /// NLMSG_ERROR with an errno (positive).
    Refused(u32, i32),
    /// NLMSG_DONE ending a dump.
    Done(u32),
    /// A family message: its sequence number and the generic-netlink bytes.
    Data(u32, &'a [u8]),
    /// NLMSG_OVERRUN, or a header that does not decode.
    Broken(String),
}

/// Splits a datagram into its netlink messages.
fn replies(mut buf: &[u8]) -> impl Iterator<Item = Reply<'_>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        let msg = match NetlinkBuffer::new_checked(buf) {
            Ok(m) => m,
            Err(e) => {
                buf = &[];
                return Some(Reply::Broken(e.to_string()));
            }
        };
        let len = msg.length() as usize;
        let seq = msg.sequence_number();
        let reply = match msg.message_type() {
            NLMSG_ERROR => match ErrorBuffer::new_checked(msg.payload()) {
                Ok(e) => match e.code() {
                    None => Reply::Ack(seq),
                    Some(code) => Reply::Refused(seq, code.get().saturating_abs()),
                },
                Err(e) => Reply::Broken(e.to_string()),
            },
            NLMSG_DONE => Reply::Done(seq),
            NLMSG_OVERRUN => Reply::Broken("NLMSG_OVERRUN".into()),
            _ => Reply::Data(seq, msg.payload()),
        };
        let aligned = (len + 3) & !3;
        buf = buf.get(aligned..).unwrap_or(&[]);
        Some(reply)
    })
}

/// An IPVS client. Not `Sync`: one request at a time.
pub struct Client {
    socket: Socket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
    io: IoCounters,
    /// Requests per batch so that their acknowledgements fit the receive buffer.
    ack_capacity: usize,
    /// Bytes per `send`.
    send_limit: usize,
}

/// One request as `apply` carries it out.
struct Write<'a> {
    request: Request,
    msg: IpvsMessage,
    service: Option<&'a Service>,
}

fn write_for(op: &Op) -> Write<'_> {
    let svc_key = |k: &ServiceKey| IpvsAttr::Service(service_key_attrs(k));
    let (request, cmd, attrs, service) = match op {
        Op::AddService(s) => {
            (Request::AddService(s.key), IpvsCmd::NewService, vec![IpvsAttr::Service(service_attrs(s))], Some(s))
        }
        Op::EditService(s) => {
            (Request::EditService(s.key), IpvsCmd::SetService, vec![IpvsAttr::Service(service_attrs(s))], Some(s))
        }
        Op::DelService(k) => (Request::DelService(*k), IpvsCmd::DelService, vec![svc_key(k)], None),
        Op::AddDest(k, d) => {
            (Request::AddDest(*k, d.key), IpvsCmd::NewDest, vec![svc_key(k), IpvsAttr::Dest(dest_attrs(d))], None)
        }
        Op::EditDest(k, d) => {
            (Request::EditDest(*k, d.key), IpvsCmd::SetDest, vec![svc_key(k), IpvsAttr::Dest(dest_attrs(d))], None)
        }
        Op::DelDest(k, d) => {
            (Request::DelDest(*k, *d), IpvsCmd::DelDest, vec![svc_key(k), IpvsAttr::Dest(dest_key_attrs(d))], None)
        }
    };
    Write { request, msg: IpvsMessage::new(cmd, attrs), service }
}

impl Client {
    /// Opens a generic-netlink socket and resolves the IPVS family;
    /// [`Error::NotAvailable`] if the kernel has no IPVS.
    pub fn connect() -> Result<Client, Error> {
        let sock_err = |call| move |source| Error::Socket { request: Request::ResolveFamily, call, source };
        let mut socket = Socket::new(NETLINK_GENERIC).map_err(sock_err("socket"))?;
        socket.bind_auto().map_err(sock_err("bind"))?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(sock_err("connect"))?;
        // Refusals then carry the request's header only, not the whole request back.
        socket.set_cap_ack(true).map_err(sock_err("setsockopt NETLINK_CAP_ACK"))?;
        if setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
            socket.set_rx_buf_sz(SOCKET_BUFFER).map_err(sock_err("setsockopt SO_RCVBUF"))?;
        }
        if setsockopt(&socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
            setsockopt(&socket, sockopt::SndBuf, &SOCKET_BUFFER)
                .map_err(|e| io::Error::from_raw_os_error(e as i32))
                .map_err(sock_err("setsockopt SO_SNDBUF"))?;
        }
        let rcvbuf = socket.get_rx_buf_sz().map_err(sock_err("getsockopt SO_RCVBUF"))?;
        let sndbuf = nix::sys::socket::getsockopt(&socket, sockopt::SndBuf)
            .map_err(|e| io::Error::from_raw_os_error(e as i32))
            .map_err(sock_err("getsockopt SO_SNDBUF"))?;
        let mut client = Client {
            socket,
            family: 0,
            seq: 0,
            buf: Vec::with_capacity(RECV_BUFFER),
            io: IoCounters::default(),
            ack_capacity: (rcvbuf / ACK_TRUESIZE).max(1),
            send_limit: sndbuf.saturating_sub(64).clamp(RECV_BUFFER, MAX_SEND),
        };
        client.family = client.resolve_family()?;
        Ok(client)
    }

    /// The family id the controller gave "IPVS".
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Traffic so far.
    pub fn io_counters(&self) -> IoCounters {
        self.io
    }

    /// Write requests sent so far.
    pub fn writes_sent(&self) -> u64 {
        self.io.writes
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Appends a request to `out`; returns its sequence number.
    fn encode<F>(&mut self, out: &mut Vec<u8>, payload: F, family: u16, flags: u16) -> u32
    where
        F: GenlFamily + netlink_packet_core::Emitable + std::fmt::Debug,
    {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(payload);
        genl.set_resolved_family_id(family);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
        msg.finalize();
        let start = out.len();
        out.resize(start + msg.buffer_len(), 0);
        msg.serialize(&mut out[start..]);
        seq
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.sends += 1;
        self.socket.send(bytes, 0).map(drop)
    }

    /// One datagram into `self.buf`.
    fn recv(&mut self, flags: i32) -> io::Result<()> {
        self.io.recvs += 1;
        self.buf.clear();
        let n = self.socket.recv(&mut self.buf, flags | nix::libc::MSG_TRUNC)?;
        if n > self.buf.capacity() {
            return Err(io::Error::other(format!("datagram of {n} bytes truncated")));
        }
        Ok(())
    }

    /// As many queued datagrams as `slots` holds in one `recvmmsg`, without waiting; their
    /// lengths (clamped to the slot: a longer one is an ack we did not ask for).
    fn recv_many(&mut self, slots: &mut [[u8; ACK_SLOT]]) -> io::Result<Vec<usize>> {
        self.io.recvs += 1;
        let mut headers = MultiHeaders::<()>::preallocate(slots.len(), None);
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = slots.iter_mut().map(|s| [IoSliceMut::new(s)]).collect();
        let got = recvmmsg(self.socket.as_raw_fd(), &mut headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None)
            .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        Ok(got.map(|m| m.bytes.min(ACK_SLOT)).collect())
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let request = Request::ResolveFamily;
        let mut out = Vec::new();
        let ctrl = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(IpvsMessage::family_name().to_owned())],
        };
        let ctrl_id = ctrl.family_id();
        let seq = self.encode(&mut out, ctrl, ctrl_id, NLM_F_REQUEST | NLM_F_ACK);
        self.send(&out).map_err(|source| Error::Socket { request: request.clone(), call: "send", source })?;
        let mut id = None;
        self.collect(seq, &request, None, |genl| {
            // CTRL_ATTR_FAMILY_ID (1), a u16, among attributes after the 4-byte genl header;
            // read directly so that attributes newer kernels add do not matter.
            let attrs = genl.get(4..).unwrap_or_default();
            for nla in netlink_packet_core::NlasIterator::new(attrs).flatten() {
                if nla.kind() == 1 && nla.value().len() == 2 {
                    id = Some(u16::from_ne_bytes([nla.value()[0], nla.value()[1]]));
                }
            }
            Ok(())
        })?;
        id.ok_or_else(|| Error::Malformed { request, detail: "no CTRL_ATTR_FAMILY_ID in the reply".into() })
    }

    /// Reads replies to `seq` until its ack, refusal or end of dump, handing each data
    /// message's generic-netlink bytes to `each`.
    fn collect(
        &mut self,
        seq: u32,
        request: &Request,
        service: Option<&Service>,
        mut each: impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), Error> {
        loop {
            self.recv(0).map_err(|source| Error::Socket { request: request.clone(), call: "recv", source })?;
            let buf = std::mem::take(&mut self.buf);
            let mut outcome = None;
            for reply in replies(&buf) {
                match reply {
                    Reply::Data(s, genl) if s == seq => {
                        if let Err(detail) = each(genl) {
                            outcome = Some(Err(Error::Malformed { request: request.clone(), detail }));
                        }
                    }
                    Reply::Ack(s) | Reply::Done(s) if s == seq => outcome = outcome.or(Some(Ok(()))),
                    Reply::Refused(s, errno) if s == seq => {
                        outcome = Some(Err(Error::refused(request.clone(), errno, service)))
                    }
                    Reply::Broken(detail) => outcome = Some(Err(Error::Malformed { request: request.clone(), detail })),
                    _ => {}
                }
            }
            self.buf = buf;
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Sends one IPVS request and reads its replies.
    fn request(
        &mut self,
        request: Request,
        msg: IpvsMessage,
        dump: bool,
        write: bool,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let mut msgs = Vec::new();
        self.request_each(request, msg, dump, write, |m| {
            msgs.push(m);
            Ok(())
        })?;
        Ok(msgs)
    }

    /// [`Client::request`], each reply handed to `each` as it is decoded rather than all of
    /// them kept: a dump of 10,000 services decoded at once is megabytes of attributes.
    fn request_each(
        &mut self,
        request: Request,
        msg: IpvsMessage,
        dump: bool,
        write: bool,
        mut each: impl FnMut(IpvsMessage) -> Result<(), String>,
    ) -> Result<(), Error> {
        let mut out = Vec::new();
        let flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        let seq = self.encode(&mut out, msg, self.family, flags);
        self.send(&out).map_err(|source| Error::Socket { request: request.clone(), call: "send", source })?;
        if write {
            self.io.writes += 1;
        }
        let family = self.family;
        self.collect(seq, &request, None, |genl| {
            let m = GenlMessage::<IpvsMessage>::parse_with_param(genl, family).map_err(|e| e.to_string())?;
            each(m.payload)
        })
    }

    /// Version and connection table size (`ipvsadm`'s first line).
    pub fn info(&mut self) -> Result<Info, Error> {
        let msgs = self.request(Request::Info, IpvsMessage::new(IpvsCmd::GetInfo, vec![]), false, false)?;
        let mut info = Info { version: 0, conn_tab_size: 0 };
        for a in msgs.iter().flat_map(|m| &m.attrs) {
            match a {
                IpvsAttr::Version(v) => info.version = *v,
                IpvsAttr::ConnTabSize(v) => info.conn_tab_size = *v,
                _ => {}
            }
        }
        Ok(info)
    }

    /// Every service with its counters, in the kernel's order. The flags are those a client
    /// sets: `HASHED`, which the kernel adds to every service, is left out.
    pub fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        self.services_where(|_| true)
    }

    /// [`Client::services`] that are `wanted`, the others dropped as they are read.
    pub fn services_where(&mut self, wanted: impl Fn(&ServiceKey) -> bool) -> Result<Vec<ServiceEntry>, Error> {
        let (mut out, mut malformed) = (Vec::new(), None);
        let msg = IpvsMessage::new(IpvsCmd::GetService, vec![]);
        // A service that does not decode is told after the whole listing is read, so that
        // none of it is left on the socket.
        self.request_each(Request::ListServices, msg, true, false, |m| {
            for a in &m.attrs {
                let IpvsAttr::Service(attrs) = a else { continue };
                match service_entry(attrs) {
                    Ok(mut entry) => {
                        entry.service.flags = entry.service.flags.settable();
                        if wanted(&entry.service.key) {
                            out.push(entry);
                        }
                    }
                    Err(e) => {
                        malformed.get_or_insert(e.to_string());
                    }
                }
            }
            Ok(())
        })?;
        match malformed {
            Some(detail) => Err(Error::Malformed { request: Request::ListServices, detail }),
            None => Ok(out),
        }
    }

    /// The destinations of a service with their connection counts and counters.
    pub fn dests(&mut self, service: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        let request = Request::ListDests(*service);
        let msg = IpvsMessage::new(IpvsCmd::GetDest, vec![IpvsAttr::Service(service_key_attrs(service))]);
        let msgs = self.request(request.clone(), msg, true, false)?;
        let mut out = Vec::with_capacity(msgs.len());
        for a in msgs.iter().flat_map(|m| &m.attrs) {
            if let IpvsAttr::Dest(attrs) = a {
                out.push(
                    dest_entry(attrs, service.family())
                        .map_err(|e| Error::Malformed { request: request.clone(), detail: e.to_string() })?,
                );
            }
        }
        Ok(out)
    }

    /// Every service and its destinations.
    pub fn table(&mut self) -> Result<Vec<(ServiceEntry, Vec<DestEntry>)>, Error> {
        self.table_of(|_| true)
    }

    /// The services for which `wanted` says yes, and their destinations: the destinations of
    /// the other services are not read.
    pub fn table_of(
        &mut self,
        wanted: impl Fn(&ServiceKey) -> bool,
    ) -> Result<Vec<(ServiceEntry, Vec<DestEntry>)>, Error> {
        let mut out = Vec::new();
        self.each_of(wanted, |s, dests| out.push((s, dests)))?;
        Ok(out)
    }

    /// [`Client::table_of`], one service at a time: `f` gets each service and its
    /// destinations as they are read, so that a caller keeping less than the whole listing
    /// (counters and all) never holds it.
    pub fn each_of(
        &mut self,
        wanted: impl Fn(&ServiceKey) -> bool,
        mut f: impl FnMut(ServiceEntry, Vec<DestEntry>),
    ) -> Result<(), Error> {
        for s in self.services_where(wanted)? {
            let dests = self.dests(&s.service.key)?;
            f(s, dests);
        }
        Ok(())
    }

    fn write_one(&mut self, op: Op) -> Result<(), Error> {
        self.apply(std::slice::from_ref(&op)).pop().unwrap_or(Ok(()))
    }

    pub fn add_service(&mut self, service: &Service) -> Result<(), Error> {
        self.write_one(Op::AddService(service.clone()))
    }

    /// Changes scheduler, flags, persistence and engine of an existing service.
    pub fn edit_service(&mut self, service: &Service) -> Result<(), Error> {
        self.write_one(Op::EditService(service.clone()))
    }

    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        self.write_one(Op::DelService(*key))
    }

    pub fn add_dest(&mut self, service: &ServiceKey, dest: &crate::types::Dest) -> Result<(), Error> {
        self.write_one(Op::AddDest(*service, dest.clone()))
    }

    /// Changes weight, thresholds, forwarding and tunnel of an existing destination.
    pub fn edit_dest(&mut self, service: &ServiceKey, dest: &crate::types::Dest) -> Result<(), Error> {
        self.write_one(Op::EditDest(*service, dest.clone()))
    }

    pub fn del_dest(&mut self, service: &ServiceKey, dest: &crate::types::DestKey) -> Result<(), Error> {
        self.write_one(Op::DelDest(*service, *dest))
    }

    /// Removes every service (`ipvsadm -C`).
    pub fn flush(&mut self) -> Result<(), Error> {
        self.request(Request::Flush, IpvsMessage::new(IpvsCmd::Flush, vec![]), false, true).map(drop)
    }

    /// Zeroes the counters of one service, or of all.
    pub fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), Error> {
        let attrs = service.map(|k| vec![IpvsAttr::Service(service_key_attrs(k))]).unwrap_or_default();
        self.request(Request::Zero(service.copied()), IpvsMessage::new(IpvsCmd::Zero, attrs), false, true).map(drop)
    }

    /// TCP, TCP FIN and UDP connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let msgs = self.request(Request::GetTimeouts, IpvsMessage::new(IpvsCmd::GetConfig, vec![]), false, false)?;
        let mut t = Timeouts::default();
        for a in msgs.iter().flat_map(|m| &m.attrs) {
            match a {
                IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
                IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                IpvsAttr::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        Ok(t)
    }

    /// Sets the timeouts; a zero leaves that one unchanged.
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        let attrs = vec![IpvsAttr::TimeoutTcp(t.tcp), IpvsAttr::TimeoutTcpFin(t.tcp_fin), IpvsAttr::TimeoutUdp(t.udp)];
        self.request(Request::SetTimeouts, IpvsMessage::new(IpvsCmd::SetConfig, attrs), false, true).map(drop)
    }

    pub fn start_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), Error> {
        let msg = IpvsMessage::new(IpvsCmd::NewDaemon, vec![IpvsAttr::Daemon(daemon_attrs(daemon))]);
        self.request(Request::StartDaemon(daemon.role), msg, false, true).map(drop)
    }

    pub fn stop_daemon(&mut self, role: SyncRole) -> Result<(), Error> {
        let msg = IpvsMessage::new(IpvsCmd::DelDaemon, vec![IpvsAttr::Daemon(vec![DaemonAttr::State(role.raw())])]);
        self.request(Request::StopDaemon(role), msg, false, true).map(drop)
    }

    /// The running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        let request = Request::ListDaemons;
        let msgs = self.request(request.clone(), IpvsMessage::new(IpvsCmd::GetDaemon, vec![]), true, false)?;
        let mut out = Vec::new();
        for a in msgs.iter().flat_map(|m| &m.attrs) {
            if let IpvsAttr::Daemon(attrs) = a {
                out.push(
                    daemon_from_attrs(attrs)
                        .map_err(|e| Error::Malformed { request: request.clone(), detail: e.to_string() })?,
                );
            }
        }
        Ok(out)
    }

    /// Carries out `ops` in order, pipelined; one result per op. A failed op does not stop
    /// the ones after it (the kernel goes on with the next request in the same send).
    pub fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>> {
        let mut results = Vec::with_capacity(ops.len());
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let mut next = 0;
        while next < ops.len() {
            out.clear();
            let mut batch: Vec<(u32, Write<'_>)> = Vec::new();
            while next + batch.len() < ops.len() && batch.len() < self.ack_capacity {
                let w = write_for(&ops[next + batch.len()]);
                scratch.clear();
                let seq = self.encode(&mut scratch, w.msg.clone(), self.family, NLM_F_REQUEST | NLM_F_ACK);
                if !batch.is_empty() && out.len() + scratch.len() > self.send_limit {
                    self.seq = self.seq.wrapping_sub(1);
                    break;
                }
                out.extend_from_slice(&scratch);
                batch.push((seq, w));
            }
            next += batch.len();
            results.extend(self.run_batch(&out, batch));
        }
        results
    }

    /// Sends one batch and matches its acknowledgements to its requests.
    fn run_batch(&mut self, bytes: &[u8], batch: Vec<(u32, Write<'_>)>) -> Vec<Result<(), Error>> {
        let Some(first) = batch.first().map(|(seq, _)| *seq) else { return Vec::new() };
        if let Err(source) = self.send(bytes) {
            return batch
                .into_iter()
                .map(|(_, w)| {
                    Err(Error::Socket {
                        request: w.request,
                        call: "send",
                        source: io::Error::new(source.kind(), source.to_string()),
                    })
                })
                .collect();
        }
        self.io.writes += batch.len() as u64;
        let mut outcome: Vec<Option<Result<(), i32>>> = vec![None; batch.len()];
        let mut pending = batch.len();
        let mut lost = false;
        let mut slots = vec![[0u8; ACK_SLOT]; ACKS_PER_CALL.min(pending)];
        while pending > 0 {
            // Everything this batch will get is queued already: an empty socket means the
            // rest was dropped.
            let lens = match self.recv_many(&mut slots) {
                Ok(lens) => lens,
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => {
                    lost = true;
                    continue;
                }
                Err(_) => break,
            };
            for (slot, len) in slots.iter().zip(lens) {
                for reply in replies(&slot[..len]) {
                    let (seq, result) = match reply {
                        Reply::Ack(seq) => (seq, Ok(())),
                        Reply::Refused(seq, errno) => (seq, Err(errno)),
                        _ => continue,
                    };
                    let i = seq.wrapping_sub(first) as usize;
                    if let Some(slot @ None) = outcome.get_mut(i) {
                        *slot = Some(result);
                        pending -= 1;
                    }
                }
            }
        }
        if lost {
            tracing::warn!(lost = pending, "netlink receive buffer overrun: acknowledgements lost");
        }
        batch
            .into_iter()
            .zip(outcome)
            .map(|((_, w), o)| match o {
                Some(Ok(())) => Ok(()),
                Some(Err(errno)) => Err(Error::refused(w.request, errno, w.service)),
                None => Err(Error::Lost { request: w.request }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    /// One datagram holding what the kernel sends (kernel lab, strace of ipvsadm): the GET_INFO
    /// reply (seq 7), a capped ack for it, a capped refusal (-EEXIST) for seq 8, and NLMSG_DONE
    /// for seq 9.
    #[test]
    fn a_datagram_splits_into_its_replies() {
        let bytes = hex("24000000 2000 0000 07000000 01000000 0e010000 0800010001020100 0800020000100000
             24000000 0200 0001 07000000 01000000 00000000 20000000 2000 0500 07000000 01000000
             24000000 0200 0001 08000000 01000000 efffffff 20000000 2000 0500 08000000 01000000
             14000000 0300 0200 09000000 01000000 00000000");
        let got: Vec<String> = replies(&bytes)
            .map(|r| match r {
                Reply::Data(seq, genl) => format!("data {seq} {}", genl.len()),
                Reply::Ack(seq) => format!("ack {seq}"),
                Reply::Refused(seq, errno) => format!("refused {seq} {errno}"),
                Reply::Done(seq) => format!("done {seq}"),
                Reply::Broken(e) => format!("broken {e}"),
            })
            .collect();
        assert_eq!(got, ["data 7 20", "ack 7", "refused 8 17", "done 9"]);
        let IpvsMessage { cmd, attrs } =
            GenlMessage::<IpvsMessage>::parse_with_param(&bytes[16..36], 0x20).expect("info reply").payload;
        assert_eq!((cmd, attrs.len()), (IpvsCmd::SetInfo, 2));
    }

    #[test]
    fn a_truncated_datagram_is_broken_not_a_panic() {
        let bytes = hex("24000000 2000 0000 07000000 01000000 0e01");
        assert!(matches!(replies(&bytes).next(), Some(Reply::Broken(_))));
    }
}
