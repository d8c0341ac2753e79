#!/usr/bin/env bash
# Builds the Debian package: target/debian/vigil_<version>_<arch>.deb, with dpkg-deb alone (no
# debhelper, no cargo-deb). What goes in it and why: systemd/README.md, "The Debian package".
#
#   scripts/package.sh                          the version in the workspace's Cargo.toml
#   VIGIL_DEB_VERSION=0.1.0+1 scripts/package.sh  another package version (an upgrade test)
#   VIGIL_DEB_PREBUILT=1 scripts/package.sh       package target/release's binaries as they are
#
# Needs cargo, dpkg-dev (dpkg-shlibdeps), binutils (strip) and gzip; not root.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in cargo dpkg-deb dpkg-shlibdeps strip gzip; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (apt-get install dpkg-dev binutils)" >&2; exit 2; }
done

version=${VIGIL_DEB_VERSION:-$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)}
[[ -n $version ]] || { echo "package.sh: no version in Cargo.toml's [workspace.package]" >&2; exit 2; }
arch=$(dpkg --print-architecture)
target=${CARGO_TARGET_DIR:-target}
out=$target/debian
deb=$out/vigil_${version}_${arch}.deb
# The files' times in the package: the last commit's, so that one tree gives one package.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

if [[ -n ${VIGIL_DEB_PREBUILT:-} ]]; then
  for bin in vigild vigilctl; do
    [[ -x $target/release/$bin ]] || { echo "package.sh: VIGIL_DEB_PREBUILT: no $target/release/$bin" >&2; exit 2; }
  done
else
  echo "package.sh: cargo build --release -p vigild -p vigilctl"
  cargo build --release -q -p vigild -p vigilctl
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
doc=$root/usr/share/doc/vigil
install -d "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/default" \
  "$root/usr/share/man/man5" "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions" \
  "$root/usr/share/zsh/vendor-completions" "$doc/samples"

# The release profile keeps line tables (debug = 1) for backtraces in development; none of
# that ships. The flags are dh_strip's.
install -m 0755 "$target/release/vigild" "$root/usr/sbin/vigild"
install -m 0755 "$target/release/vigilctl" "$root/usr/bin/vigilctl"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/sbin/vigild" "$root/usr/bin/vigilctl"

install -m 0644 systemd/vigild.service systemd/vigild-reload.path systemd/vigild-reload.service \
  systemd/vigil-realserver@.service systemd/vigil-realserver-tun@.service \
  "$root/lib/systemd/system/"
install -m 0644 packaging/deb/default "$root/etc/default/vigild"

# man pages: gzip -n, so that the package is the same bytes from the same tree.
for page in docs/man/vigild.8 docs/man/vigilctl.8 docs/man/vigil.conf.5; do
  gzip -9n -c "$page" >"$root/usr/share/man/man${page##*.}/$(basename "$page").gz"
done
install -m 0644 packaging/completions/vigild.bash "$root/usr/share/bash-completion/completions/vigild"
install -m 0644 packaging/completions/vigilctl.bash "$root/usr/share/bash-completion/completions/vigilctl"
install -m 0644 packaging/completions/_vigild packaging/completions/_vigilctl "$root/usr/share/zsh/vendor-completions/"

install -m 0644 packaging/deb/copyright "$doc/copyright"
install -m 0644 etc/keepalived.conf "$doc/samples/keepalived.conf"
install -m 0644 etc/keepalived-backup.conf "$doc/samples/keepalived-backup.conf"
install -m 0644 etc/announce.conf "$doc/samples/announce.conf"
install -m 0644 systemd/README.md "$doc/README.systemd.md"
# A native package (its version has no Debian revision): the changelog is changelog.gz, as
# policy and lintian want. A build of another version than the changelog's newest entry gets
# an entry of its own, so that the changelog and the package agree.
{
  top=$(sed -n '1s/^vigil (\([^)]*\)).*/\1/p' packaging/deb/changelog)
  if [[ $top != "$version" ]]; then
    printf 'vigil (%s) unstable; urgency=medium\n\n  * Local build from the working tree.\n\n -- %s  %s\n\n' \
      "$version" "$(sed -n 's/^Maintainer: //p' packaging/deb/control)" \
      "$(date -R -u -d "@$SOURCE_DATE_EPOCH")"
  fi
  cat packaging/deb/changelog
} | gzip -9n >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
# dpkg-deb marks nothing as a conffile by itself (debhelper does that for /etc).
echo /etc/default/vigild >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control from the directory it runs in: a minimal one will do.
mkdir -p "$work/src/debian"
printf 'Source: vigil\n\nPackage: vigil\nArchitecture: any\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/sbin/vigild" "$root/usr/bin/vigilctl" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || { echo "package.sh: dpkg-shlibdeps found no dependency" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$shlibs/" -e "s/@SIZE@/$size/" \
  packaging/deb/control >"$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$root/DEBIAN/md5sums"

mkdir -p "$out"
# Directories 0755 and files without group or other write, whatever the umask was.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >/dev/null
echo "package.sh: $deb"
