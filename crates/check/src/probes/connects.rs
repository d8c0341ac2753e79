//! TCP_CHECK attempts in flight, without a task or a timer each.
//!
//! A TCP_CHECK is the commonest check and the cheapest for the kernel: socket, connect,
//! close. Run as a task with its own timeout, each attempt also paid for spawning, a timer
//! entry, waking and joining the task, registering and deregistering the socket with the
//! runtime and asking the socket for its error. Here the runner starts each connect itself and
//! keeps it in a slot: the sockets are registered with an epoll instance of their own, which
//! the runtime watches as one file; a ready socket says how the connect went by its events
//! alone (the error is fetched only for a failed one), and closing it is its deregistration.
//! Deadlines are kept in order per `connect_timeout`, so the next one is a look at a queue head.
//!
//! Per attempt that is socket, setsockopt, connect, epoll_ctl and close; a batch of finished
//! connects costs one epoll_wait.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use socket2::Socket;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;
use tracing::debug;

use super::io_failure;
use super::tcp::stream_socket;
use crate::plan::{CheckId, Endpoint};
use crate::schedule::Schedule;
use crate::verdict::{Failure, ProbeResult, Success};

/// Finished connects fetched at a time.
const BATCH: usize = 256;

/// A finished attempt.
#[derive(Debug)]
pub(crate) struct Done {
    pub id: CheckId,
    pub result: ProbeResult,
    pub latency: Duration,
}

/// The connects in flight.
#[derive(Debug, Default)]
pub(crate) struct Connects {
    /// Made at the first connect that waits; a failure to make it fails that attempt and the
    /// next one tries again.
    epoll: Option<AsyncFd<Poller>>,
    events: Vec<EpollEvent>,
    slots: Slots,
}

#[derive(Debug, Default)]
struct Slots {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// (deadline, slot), one in-order lane per timeout, from the first connect's start. A
    /// connect that finishes leaves its entry behind; an entry counts only while its slot
    /// holds a connect with that deadline.
    deadlines: Option<Schedule>,
    in_flight: usize,
}

#[derive(Debug)]
struct Slot {
    socket: Option<Socket>,
    id: CheckId,
    start: Instant,
    deadline: std::time::Instant,
}

/// An epoll instance, as a file the runtime can watch.
#[derive(Debug)]
struct Poller(Epoll);

impl AsRawFd for Poller {
    fn as_raw_fd(&self) -> RawFd {
        self.0 .0.as_raw_fd()
    }
}

impl Connects {
    /// Connects that have neither finished nor timed out.
    pub fn in_flight(&self) -> usize {
        self.slots.in_flight
    }

    /// Starts check `id`'s connect to `ep` at `start`, to finish within `timeout`. A connect
    /// that ends at once (refused by the local stack, no route, or, rarely, connected) goes to
    /// `done` now.
    pub fn start(&mut self, id: CheckId, ep: &Endpoint, timeout: Duration, start: Instant, done: &mut Vec<Done>) {
        let settled = |result| Done { id, result, latency: start.elapsed() };
        let socket = match open(ep) {
            Ok(Some(socket)) => socket,
            Ok(None) => return done.push(settled(Ok(Success::PLAIN))),
            Err(failure) => return done.push(settled(Err(failure))),
        };
        let epoll = match self.epoll.take().map_or_else(Poller::watched, Ok) {
            Ok(epoll) => &*self.epoll.insert(epoll),
            Err(e) => return done.push(settled(Err(Failure::Io(format!("epoll: {e}"))))),
        };
        let index = self.slots.free.pop().unwrap_or(self.slots.slots.len());
        if let Err(e) = epoll.get_ref().0.add(&socket, EpollEvent::new(EpollFlags::EPOLLOUT, index as u64)) {
            self.slots.free.push(index);
            return done.push(settled(Err(io_failure(e.into()))));
        }
        let deadline = (start + timeout).into_std();
        let slot = Slot { socket: Some(socket), id, start, deadline };
        match self.slots.slots.get_mut(index) {
            Some(free) => *free = slot,
            None => self.slots.slots.push(slot),
        }
        let deadlines = self.slots.deadlines.get_or_insert_with(|| Schedule::new(0, start.into_std()));
        deadlines.push(deadline, index, Some(timeout));
        self.slots.in_flight += 1;
    }

    /// Moves the connects that finished to `done`; ready when there was at least one.
    pub fn poll_done(&mut self, cx: &mut Context<'_>, done: &mut Vec<Done>) -> Poll<()> {
        let Some(epoll) = &self.epoll else { return Poll::Pending };
        if self.events.len() < BATCH {
            self.events.resize(BATCH, EpollEvent::empty());
        }
        loop {
            let mut guard = match epoll.poll_read_ready(cx) {
                Poll::Ready(Ok(guard)) => guard,
                Poll::Ready(Err(e)) => {
                    // Only when the runtime shuts down; the deadlines still end every connect.
                    debug!(error = %e, "connects no longer watched");
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            };
            let n = guard.get_inner().0.wait(&mut self.events, EpollTimeout::ZERO).unwrap_or(0);
            if n < self.events.len() {
                guard.clear_ready();
            }
            if n > 0 {
                let now = Instant::now();
                for event in &self.events[..n] {
                    self.slots.settle(event, now, done);
                }
                return Poll::Ready(());
            }
        }
    }

    /// Ends the connects whose deadline has passed by `now` with a connect timeout.
    pub fn expire(&mut self, now: Instant, done: &mut Vec<Done>) {
        while let Some((deadline, index)) = self.slots.deadlines.as_mut().and_then(|d| d.pop_due(now.into_std())) {
            if self.slots.live(index, deadline) {
                done.extend(self.slots.take(index, Err(Failure::ConnectTimeout), now));
            }
        }
    }

    /// The earliest deadline of a connect in flight.
    pub fn next_deadline(&mut self) -> Option<Instant> {
        let Slots { slots, deadlines, .. } = &mut self.slots;
        let deadlines = deadlines.as_mut()?;
        while let Some((deadline, index)) = deadlines.peek() {
            if live(slots, index, deadline) {
                return Some(deadline.into());
            }
            deadlines.pop();
        }
        None
    }
}

/// Whether slot `index` holds a connect with that deadline.
fn live(slots: &[Slot], index: usize, deadline: std::time::Instant) -> bool {
    slots.get(index).is_some_and(|s| s.socket.is_some() && s.deadline == deadline)
}

impl Poller {
    /// A new epoll instance, watched by the runtime.
    #[allow(unsafe_code)]
    fn watched() -> io::Result<AsyncFd<Poller>> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(io::Error::from)?;
        // SAFETY: the Poller owns the epoll instance's descriptor and closes it only when it is
        // dropped, with the AsyncFd; it always gives the same descriptor.
        unsafe { AsyncFd::register_with_interest(Poller(epoll), Interest::READABLE) }.map_err(|e| e.into_parts().1)
    }
}

impl Slots {
    fn live(&self, index: usize, deadline: std::time::Instant) -> bool {
        live(&self.slots, index, deadline)
    }

    /// Ends the connect in slot `index` at `now`; closing its socket also takes it out of the
    /// epoll instance.
    fn take(&mut self, index: usize, result: ProbeResult, now: Instant) -> Option<Done> {
        let slot = self.slots.get_mut(index)?;
        drop(slot.socket.take()?);
        self.free.push(index);
        self.in_flight -= 1;
        Some(Done { id: slot.id, result, latency: now.saturating_duration_since(slot.start) })
    }

    /// A socket reported ready: writable alone means connected; an error or hang-up carries
    /// the reason in the socket's error.
    fn settle(&mut self, event: &EpollEvent, now: Instant, done: &mut Vec<Done>) {
        let Ok(index) = usize::try_from(event.data()) else { return };
        let Some(socket) = self.slots.get(index).and_then(|s| s.socket.as_ref()) else { return };
        let result = if event.events().intersects(EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP) {
            match socket.take_error() {
                Ok(None) => Ok(Success::PLAIN),
                Ok(Some(e)) | Err(e) => Err(io_failure(e)),
            }
        } else {
            Ok(Success::PLAIN)
        };
        done.extend(self.take(index, result, now));
    }
}

/// A socket whose connect to `ep` is under way (`None`: it connected at once).
fn open(ep: &Endpoint) -> Result<Option<Socket>, Failure> {
    let socket = stream_socket(ep)?;
    match socket.connect(&ep.addr().into()) {
        Ok(()) => Ok(None),
        Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => Ok(Some(socket)),
        Err(e) => Err(io_failure(e)),
    }
}

/// One TCP_CHECK attempt on its own, as [`super::probe`] runs it.
pub(crate) async fn check(ep: &Endpoint, timeout: Duration) -> ProbeResult {
    let mut connects = Connects::default();
    let mut done = Vec::with_capacity(1);
    let start = Instant::now();
    connects.start(CheckId(0), ep, timeout, start, &mut done);
    let deadline = start + timeout;
    while done.is_empty() {
        tokio::select! {
            () = std::future::poll_fn(|cx| connects.poll_done(cx, &mut done)) => {}
            () = tokio::time::sleep_until(deadline) => connects.expire(Instant::now(), &mut done),
        }
    }
    done.pop().map_or(Err(Failure::ConnectTimeout), |d| d.result)
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpListener};

    use super::*;

    fn endpoint(addr: SocketAddr) -> Endpoint {
        Endpoint::new(addr)
    }

    async fn wait_done(connects: &mut Connects, done: &mut Vec<Done>, n: usize) {
        while done.len() < n {
            std::future::poll_fn(|cx| connects.poll_done(cx, done)).await;
        }
    }

    fn outcome(done: &[Done]) -> Vec<(usize, ProbeResult)> {
        let mut all: Vec<_> = done.iter().map(|d| (d.id.0, d.result.clone())).collect();
        all.sort_by_key(|(id, _)| *id);
        all
    }

    /// Connects in flight together end each their own way, and their slots are reused.
    #[tokio::test]
    async fn many_in_flight() {
        let open = TcpListener::bind("127.0.0.1:0").expect("bind");
        let open = open.local_addr().map(endpoint).expect("addr");
        let closed = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(endpoint).expect("addr");
        let mut connects = Connects::default();
        let mut done = Vec::new();
        for round in 0..3 {
            connects.start(CheckId(1), &open, Duration::from_secs(5), Instant::now(), &mut done);
            connects.start(CheckId(2), &closed, Duration::from_secs(5), Instant::now(), &mut done);
            connects.start(CheckId(3), &open, Duration::from_secs(5), Instant::now(), &mut done);
            wait_done(&mut connects, &mut done, 3).await;
            assert_eq!(
                outcome(&done),
                [(1, Ok(Success::PLAIN)), (2, Err(Failure::Refused)), (3, Ok(Success::PLAIN))],
                "round {round}"
            );
            assert_eq!(connects.in_flight(), 0);
            done.clear();
        }
        assert_eq!(connects.slots.slots.len(), 3, "slots are reused");
        assert_eq!(connects.next_deadline(), None, "finished connects leave no deadline");
    }

    /// A connect still in flight at its deadline ends with a connect timeout; the deadline of
    /// one that finished, in the same slot, ends nothing.
    #[tokio::test]
    async fn deadlines() {
        let open = TcpListener::bind("127.0.0.1:0").expect("bind");
        let open = open.local_addr().map(endpoint).expect("addr");
        let mut connects = Connects::default();
        let mut done = Vec::new();
        connects.start(CheckId(1), &open, Duration::from_secs(5), Instant::now(), &mut done);
        wait_done(&mut connects, &mut done, 1).await;
        done.clear();
        let start = Instant::now();
        connects.start(CheckId(2), &open, Duration::from_secs(1), start, &mut done);
        let deadline = connects.next_deadline().expect("in flight");
        assert!(deadline >= start + Duration::from_secs(1) && deadline < start + Duration::from_secs(2));
        connects.expire(start + Duration::from_millis(999), &mut done);
        assert!(done.is_empty());
        connects.expire(start + Duration::from_secs(6), &mut done);
        assert_eq!(outcome(&done), [(2, Err(Failure::ConnectTimeout))]);
        assert_eq!((connects.in_flight(), connects.next_deadline()), (0, None));
    }
}
