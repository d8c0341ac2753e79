//! Errors of the IPVS client, with the kernel's errno read for the request that got it.

use std::fmt;
use std::io;

use crate::types::{DestKey, Service, ServiceKey, SyncRole};

/// What the client asked the kernel, as error messages name it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// Asking the generic-netlink controller for the IPVS family id.
    ResolveFamily,
    Info,
    ListServices,
    ListDests(ServiceKey),
    AddService(ServiceKey),
    EditService(ServiceKey),
    DelService(ServiceKey),
    AddDest(ServiceKey, DestKey),
    EditDest(ServiceKey, DestKey),
    DelDest(ServiceKey, DestKey),
    Flush,
    Zero(Option<ServiceKey>),
    GetTimeouts,
    SetTimeouts,
    StartDaemon(SyncRole),
    StopDaemon(SyncRole),
    ListDaemons,
}

fn role(r: SyncRole) -> &'static str {
    match r {
        SyncRole::Master => "master",
        SyncRole::Backup => "backup",
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::ResolveFamily => write!(f, "resolving the IPVS netlink family"),
            Request::Info => write!(f, "reading IPVS info"),
            Request::ListServices => write!(f, "listing services"),
            Request::ListDests(s) => write!(f, "listing destinations of {s}"),
            Request::AddService(s) => write!(f, "adding service {s}"),
            Request::EditService(s) => write!(f, "changing service {s}"),
            Request::DelService(s) => write!(f, "removing service {s}"),
            Request::AddDest(s, d) => write!(f, "adding destination {d} to {s}"),
            Request::EditDest(s, d) => write!(f, "changing destination {d} of {s}"),
            Request::DelDest(s, d) => write!(f, "removing destination {d} from {s}"),
            Request::Flush => write!(f, "flushing the table"),
            Request::Zero(None) => write!(f, "zeroing counters"),
            Request::Zero(Some(s)) => write!(f, "zeroing counters of {s}"),
            Request::GetTimeouts => write!(f, "reading timeouts"),
            Request::SetTimeouts => write!(f, "setting timeouts"),
            Request::StartDaemon(r) => write!(f, "starting the {} sync daemon", role(*r)),
            Request::StopDaemon(r) => write!(f, "stopping the {} sync daemon", role(*r)),
            Request::ListDaemons => write!(f, "listing sync daemons"),
        }
    }
}

/// Why the kernel refused a request: its errno, read for that request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// EPERM: every IPVS command but the reads is `GENL_ADMIN_PERM`.
    #[error("needs CAP_NET_ADMIN")]
    PermissionDenied,
    /// EEXIST on adding a service.
    #[error("service already exists")]
    ServiceExists,
    /// ESRCH: the service named does not exist.
    #[error("no such service")]
    NoSuchService,
    /// EEXIST on adding a destination.
    #[error("destination already exists")]
    DestExists,
    /// ENOENT on changing or removing a destination.
    #[error("no such destination")]
    NoSuchDest,
    /// ENOENT on adding or changing a service without a persistence engine.
    #[error("scheduler '{0}' not available (load ip_vs_{0})")]
    NoScheduler(String),
    /// ENOENT on adding or changing a service with a persistence engine: either is missing.
    #[error(
        "scheduler '{scheduler}' or persistence engine '{pe}' not available (load ip_vs_{scheduler} or ip_vs_pe_{pe})"
    )]
    NoSchedulerOrPe { scheduler: String, pe: String },
    /// EEXIST on starting a sync daemon.
    #[error("sync daemon already running")]
    DaemonRunning,
    /// ESRCH on stopping a sync daemon.
    #[error("no such sync daemon running")]
    NoDaemon,
    /// ENODEV on starting a sync daemon.
    #[error("no such interface")]
    NoInterface,
    /// ERANGE: a weight or threshold out of range (the lower threshold above the upper).
    #[error("weight or threshold out of range")]
    OutOfRange,
    /// EINVAL: the kernel rejected a value (protocol, netmask, flags, forwarding for the family).
    #[error("invalid argument")]
    Invalid,
    /// EAFNOSUPPORT: IPv6 asked of a kernel without it.
    #[error("address family not supported")]
    FamilyNotSupported,
    /// Any other errno.
    #[error("{}", io::Error::from_raw_os_error(*.0))]
    Os(i32),
}

/// Errors of [`crate::client::Client`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The generic-netlink controller does not know the family "IPVS".
    #[error("IPVS is not available in this kernel (load the ip_vs module)")]
    NotAvailable,
    /// The kernel refused a request.
    #[error("{request}: {refusal}")]
    Refused { request: Request, refusal: Refusal },
    /// A socket call failed.
    #[error("{request}: netlink {call}: {source}")]
    Socket {
        request: Request,
        call: &'static str,
        #[source]
        source: io::Error,
    },
    /// A reply that does not decode.
    #[error("{request}: malformed reply: {detail}")]
    Malformed { request: Request, detail: String },
    /// The kernel dropped this request's acknowledgement (receive buffer overrun): whether it was
    /// carried out is unknown until the table is read again.
    #[error("{request}: acknowledgement lost (netlink receive buffer overrun); read the table again")]
    Lost { request: Request },
}

pub(crate) const EPERM: i32 = 1;
pub(crate) const ENOENT: i32 = 2;
pub(crate) const ESRCH: i32 = 3;
pub(crate) const EEXIST: i32 = 17;
pub(crate) const ENODEV: i32 = 19;
pub(crate) const EINVAL: i32 = 22;
pub(crate) const ERANGE: i32 = 34;
pub(crate) const EAFNOSUPPORT: i32 = 97;

impl Error {
    /// The error for `request` refused with `errno` (positive); `service` is the service an
    /// add or change asked for, to name its scheduler.
    pub(crate) fn refused(request: Request, errno: i32, service: Option<&Service>) -> Error {
        let refusal = match (&request, errno) {
            (_, EPERM) => Refusal::PermissionDenied,
            (Request::ResolveFamily, ENOENT) => return Error::NotAvailable,
            (Request::AddService(_), EEXIST) => Refusal::ServiceExists,
            (Request::AddDest(..), EEXIST) => Refusal::DestExists,
            (Request::StartDaemon(_), EEXIST) => Refusal::DaemonRunning,
            (Request::StopDaemon(_), ESRCH) => Refusal::NoDaemon,
            (_, ESRCH) => Refusal::NoSuchService,
            (Request::AddService(_) | Request::EditService(_), ENOENT) => match service {
                Some(Service { scheduler, pe_name: Some(pe), .. }) => {
                    Refusal::NoSchedulerOrPe { scheduler: scheduler.clone(), pe: pe.clone() }
                }
                Some(s) => Refusal::NoScheduler(s.scheduler.clone()),
                None => Refusal::Os(errno),
            },
            (Request::EditDest(..) | Request::DelDest(..), ENOENT) => Refusal::NoSuchDest,
            (Request::StartDaemon(_), ENODEV) => Refusal::NoInterface,
            (_, ERANGE) => Refusal::OutOfRange,
            (_, EINVAL) => Refusal::Invalid,
            (_, EAFNOSUPPORT) => Refusal::FamilyNotSupported,
            _ => Refusal::Os(errno),
        };
        Error::Refused { request, refusal }
    }

    /// The kernel's refusal, if that is what this error is.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::types::Protocol;

    fn key() -> ServiceKey {
        ServiceKey::Addr { protocol: Protocol::Tcp, addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), port: 80 }
    }

    #[test]
    fn messages_say_what_went_wrong() {
        let svc = Service::new(key(), "foo");
        let cases = [
            (
                Error::refused(Request::ResolveFamily, ENOENT, None),
                "IPVS is not available in this kernel (load the ip_vs module)",
            ),
            (
                Error::refused(Request::AddService(key()), EEXIST, Some(&svc)),
                "adding service [10.0.0.1]:tcp:80: service already exists",
            ),
            (
                Error::refused(Request::AddService(key()), ENOENT, Some(&svc)),
                "adding service [10.0.0.1]:tcp:80: scheduler 'foo' not available (load ip_vs_foo)",
            ),
            (
                Error::refused(Request::DelService(key()), ESRCH, None),
                "removing service [10.0.0.1]:tcp:80: no such service",
            ),
            (Error::refused(Request::Flush, EPERM, None), "flushing the table: needs CAP_NET_ADMIN"),
            (
                Error::refused(Request::StopDaemon(SyncRole::Backup), ESRCH, None),
                "stopping the backup sync daemon: no such sync daemon running",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
        let dest = DestKey { addr: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)), port: 80 };
        let e = Error::refused(Request::DelDest(key(), dest), ENOENT, None);
        assert_eq!(e.to_string(), "removing destination 10.0.1.1:80 from [10.0.0.1]:tcp:80: no such destination");
        assert_eq!(e.refusal(), Some(&Refusal::NoSuchDest));
        assert!(Error::refused(Request::Info, 95, None).to_string().starts_with("reading IPVS info: "));
    }
}
