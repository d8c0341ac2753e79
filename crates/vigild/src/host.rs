//! The running system as the configuration checks see it.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use vigil_config::Host;

/// Reads interfaces and addresses from the kernel, script files from the filesystem.
pub struct System;

impl Host for System {
    fn interface_exists(&self, name: &str) -> bool {
        nix::net::if_::if_nametoindex(name).is_ok()
    }

    fn local_addresses(&self) -> Vec<IpAddr> {
        let Ok(addrs) = nix::ifaddrs::getifaddrs() else { return Vec::new() };
        addrs
            .filter_map(|a| a.address)
            .filter_map(|a| {
                if let Some(v4) = a.as_sockaddr_in() {
                    Some(IpAddr::V4(v4.ip()))
                } else {
                    a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
                }
            })
            .collect()
    }

    fn user_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::User::from_name(name), Ok(Some(_)))
    }

    fn group_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::Group::from_name(name), Ok(Some(_)))
    }

    fn cpus_online(&self) -> Option<usize> {
        let n = nix::unistd::sysconf(nix::unistd::SysconfVar::_NPROCESSORS_ONLN).ok()??;
        usize::try_from(n).ok()
    }

    fn executable(&self, path: &Path) -> Option<bool> {
        match std::fs::metadata(path) {
            Ok(m) => Some(m.is_file() && m.permissions().mode() & 0o111 != 0),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(false),
            Err(_) => None,
        }
    }
}
