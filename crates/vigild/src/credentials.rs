//! Who a script runs as: the uid and gid of a user and group named in the configuration.

use vigil_config::model::Script;

/// The uid and gid of `user` (and `group`, else the user's own group), when they exist.
pub(crate) fn credentials(user: Option<&str>, group: Option<&str>) -> Option<(u32, u32)> {
    let u = nix::unistd::User::from_name(user?).ok()??;
    let gid = match group {
        Some(g) => nix::unistd::Group::from_name(g).ok()??.gid.as_raw(),
        None => u.gid.as_raw(),
    };
    Some((u.uid.as_raw(), gid))
}

/// The uid and gid `script` runs as: its own user, else `script_user`.
pub(crate) fn script_credentials(
    script: &Script,
    script_user: Option<&(String, Option<String>)>,
) -> Option<(u32, u32)> {
    match &script.user {
        Some(u) => credentials(Some(u), script.group.as_deref()),
        None => script_user.and_then(|(u, g)| credentials(Some(u), g.as_deref())),
    }
}
