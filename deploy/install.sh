#!/usr/bin/env bash
# Installs this smokemesh release (the directory this script is in) under a prefix:
#   <prefix>/versions/<version>/   this release
#   <prefix>/current               symlink to the version that runs (agents move it when they upgrade)
#   <bin-dir>/smokemesh            symlink to <prefix>/current/bin/smokemesh.js
# As root it also creates the service user, the config directory and the systemd units.
# Nothing here downloads anything. docs/install.md explains it step by step.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: install.sh [options]
  --prefix DIR        where versions live (default /opt/smokemesh)
  --bin-dir DIR       where the `smokemesh` command is linked (default /usr/local/bin)
  --config-dir DIR    server config and agent settings (default /etc/smokemesh)
  --user NAME         service user, created when missing (default smokemesh)
  --no-user           create no user; files stay owned by whoever runs this
  --release-key FILE  public key agents trust for self-upgrade (copied to <config-dir>/release.pub)
  --unit-dir DIR      where the rendered systemd units go (default /etc/systemd/system as root,
                      else <prefix>/units)
  --no-systemd        render the units into <prefix>/units only
  --node FILE         the node binary the units run (default: `node` on the PATH)
USAGE
}

prefix=/opt/smokemesh
bin_dir=/usr/local/bin
config_dir=/etc/smokemesh
user=smokemesh
make_user=yes
release_key=
unit_dir=
systemd=yes
node=
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --bin-dir) bin_dir=$2; shift 2 ;;
    --config-dir) config_dir=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --no-user) make_user=no; shift ;;
    --release-key) release_key=$2; shift 2 ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --no-systemd) systemd=no; shift ;;
    --node) node=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "install.sh: $*" >&2; exit 1; }
[ -f "$here/release.json" ] && [ -f "$here/dist/cli.js" ] || fail "$here is not an unpacked smokemesh release"

node=${node:-$(command -v node || true)}
[ -n "$node" ] && [ -x "$node" ] || fail "Node.js 20 is needed (apt-get install nodejs, or --node FILE)"
node=$(readlink -f "$node")
json() { "$node" -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(r[process.argv[2]]))' "$here/release.json" "$1"; }
version=$(json version)
want_abi=$(json node_abi)
want_major=$(json node_major)
have_abi=$("$node" -p 'process.versions.modules')
[ "$have_abi" = "$want_abi" ] || fail "this release is built for Node.js $want_major (ABI $want_abi); $node is $("$node" -v) (ABI $have_abi)"
[ "$(json arch)" = "$("$node" -p 'process.arch')" ] || fail "this release is for $(json arch); this machine is $("$node" -p 'process.arch')"

is_root=no
[ "$(id -u)" = 0 ] && is_root=yes
if [ "$is_root" = no ]; then make_user=no; fi

# 1. The files: versions/<version>, then the `current` symlink moved in one rename.
mkdir -p "$prefix/versions"
target="$prefix/versions/$version"
if [ "$(readlink -f "$here")" != "$(readlink -f "$target" 2>/dev/null || true)" ]; then
  rm -rf "$target.tmp"
  cp -a "$here" "$target.tmp"
  rm -rf "$target"
  mv "$target.tmp" "$target"
fi
ln -sfn "versions/$version" "$prefix/current.tmp"
mv -T "$prefix/current.tmp" "$prefix/current"
mkdir -p "$bin_dir"
ln -sfn "$prefix/current/bin/smokemesh.js" "$bin_dir/smokemesh"

# 2. The service user. It owns the prefix: an agent unpacks new versions there.
if [ "$make_user" = yes ]; then
  if ! getent passwd "$user" >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/smokemesh --no-create-home --shell /usr/sbin/nologin "$user"
    echo "created system user $user"
  fi
  chown -R "$user:$user" "$prefix"
fi
owner_group=$(id -gn)
[ "$make_user" = yes ] && owner_group=$user

# 3. Config: kept when present. Readable by the service user, writable by root only.
mkdir -p "$config_dir"
chmod 755 "$config_dir"
if [ ! -e "$config_dir/smokemesh.yaml" ]; then
  install -m 640 "$here/smokemesh.example.yaml" "$config_dir/smokemesh.yaml"
  [ "$make_user" = yes ] && chgrp "$user" "$config_dir/smokemesh.yaml"
fi
if [ ! -e "$config_dir/agent.env" ]; then
  install -m 640 "$here/systemd/agent.env.example" "$config_dir/agent.env"
  [ "$make_user" = yes ] && chgrp "$user" "$config_dir/agent.env"
fi
if [ -n "$release_key" ]; then
  install -m 644 "$release_key" "$config_dir/release.pub"
  grep -q '^SMOKEMESH_RELEASE_KEY=' "$config_dir/agent.env" || echo "SMOKEMESH_RELEASE_KEY=$config_dir/release.pub" >> "$config_dir/agent.env"
fi

# 4. systemd units, rendered for this prefix, node and user.
if [ -z "$unit_dir" ]; then
  if [ "$systemd" = yes ] && [ "$is_root" = yes ]; then unit_dir=/etc/systemd/system; else unit_dir="$prefix/units"; fi
fi
mkdir -p "$unit_dir"
unit_user=$user
[ "$make_user" = yes ] || unit_user=$(id -un)
for unit in smokemesh-server.service smokemesh-agent.service; do
  sed -e "s|@NODE@|$node|g" -e "s|@PREFIX@|$prefix|g" -e "s|@USER@|$unit_user|g" -e "s|@CONFIG_DIR@|$config_dir|g" \
    "$here/systemd/$unit" > "$unit_dir/$unit.tmp"
  mv "$unit_dir/$unit.tmp" "$unit_dir/$unit"
done
if [ "$unit_dir" = /etc/systemd/system ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi

echo "installed smokemesh $version in $target ($prefix/current), command $bin_dir/smokemesh, units in $unit_dir"
echo "next: server: edit $config_dir/smokemesh.yaml, then systemctl enable --now smokemesh-server"
echo "      agent:  edit $config_dir/agent.env (and the secret file it names), then systemctl enable --now smokemesh-agent"
