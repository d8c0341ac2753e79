//! The identity of this process's network namespace that is never reused while the host
//! runs, for records under /run that several namespaces share.

use std::os::fd::AsRawFd;

use nix::libc;

/// `SO_NETNS_COOKIE` from linux/asm-generic/socket.h (Linux 5.14); the libc crate does not
/// name it.
const SO_NETNS_COOKIE: libc::c_int = 71;

/// The kernel's cookie of this process's network namespace: unlike the inode of
/// /proc/self/ns/net, which a namespace made after this one is gone may get again, a cookie
/// is never given twice until the host reboots (and /run with it). `None` on a kernel
/// without `SO_NETNS_COOKIE`.
#[allow(unsafe_code)]
pub fn netns_cookie() -> Option<u64> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).ok()?;
    let mut cookie: u64 = 0;
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<u64>()).ok()?;
    // SAFETY: the descriptor is an open socket owned by `socket` for the whole call, and the
    // kernel writes at most `len` (8) bytes to `cookie`, a u64 that lives across the call.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            std::ptr::from_mut(&mut cookie).cast(),
            &mut len,
        )
    };
    (rc == 0 && usize::try_from(len).ok() == Some(std::mem::size_of::<u64>())).then_some(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_namespace_has_the_same_cookie() {
        // Every supported kernel (5.14 and later) answers; an older one gives None twice.
        assert_eq!(netns_cookie(), netns_cookie());
    }
}
