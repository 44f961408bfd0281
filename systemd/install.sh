#!/usr/bin/env bash
# Installs the dashcam appliance on a Debian/Ubuntu vehicle box, as
# systemd/README.md describes it step by step:
#   1. ffmpeg (apt)                       5. /var/lib/dashcam (0750 dashcam:dashcam)
#   2. the dashcam user and group         6. the models, verified, into /var/lib/dashcam/models
#   3. /usr/local/bin/dashcam             7. the units, the udev rule and their README
#   4. /etc/dashcam (config, pg-password) 8. the units enabled (and started)
# Run it as root from the repository: sudo systemd/install.sh --binary dist/dashcam-aarch64
#
# Options:
#   --binary FILE        install a compiled binary (deno task compile / compile:arm64)
#   --source             install this source tree into /opt/dashcam and a
#                        /usr/local/bin/dashcam wrapper that runs it with deno
#   --models-from DIR    copy the models from a folder (USB stick) instead of
#                        downloading them; DASHCAM_MODELS_MIRROR is honoured
#   --config FILE        the config to install (default: a minimal one); an
#                        existing /etc/dashcam/dashcam.json is never replaced
#   --no-start           enable the units but do not start the daemon now
# Environment:
#   DESTDIR=DIR          install under DIR instead of / (packaging, tests): the
#                        user and group become lines in DIR/etc/passwd and
#                        DIR/etc/group, "enabled" is the multi-user.target.wants
#                        symlink, and nothing is started, reloaded or fetched
#                        from apt.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
root="${DESTDIR:-}"
root="${root%/}"
binary=""
source_install=""
models_from=""
config_src=""
start="yes"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a file}"; shift 2 ;;
    --source) source_install="yes"; shift ;;
    --models-from) models_from="${2:?--models-from needs a folder}"; shift 2 ;;
    --config) config_src="${2:?--config needs a file}"; shift 2 ;;
    --no-start) start=""; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }

if [ -n "$binary" ] && [ -n "$source_install" ]; then die "--binary and --source exclude each other"; fi
if [ -z "$binary" ] && [ -z "$source_install" ]; then die "say what to install: --binary FILE (deno task compile) or --source"; fi
if [ -n "$binary" ] && [ ! -f "$binary" ]; then die "no binary at $binary (build it with: deno task compile, or compile:arm64)"; fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then die "run it as root (sudo $0 ...), or set DESTDIR"; fi

# 1. ffmpeg.
if command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1; then
  say "ffmpeg is installed"
elif [ -z "$root" ]; then
  say "installing ffmpeg (apt)"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ffmpeg
else
  say "note: ffmpeg is not on this machine; the target needs it (apt-get install ffmpeg)"
fi

# 2. The dashcam user and group: a system account with no login and no home.
if [ -z "$root" ]; then
  getent group dashcam >/dev/null || groupadd --system dashcam
  if ! getent passwd dashcam >/dev/null; then
    useradd --system --gid dashcam --no-create-home --home-dir /var/lib/dashcam \
      --shell /usr/sbin/nologin dashcam
  fi
  uid="$(id -u dashcam)"
  gid="$(getent group dashcam | cut -d: -f3)"
else
  mkdir -p "$root/etc"
  touch "$root/etc/passwd" "$root/etc/group"
  # The first system id (100-999) free in both files.
  free_id() {
    local id=100
    while cut -d: -f3 "$root/etc/passwd" "$root/etc/group" | grep -qx "$id"; do id=$((id + 1)); done
    echo "$id"
  }
  gid="$(awk -F: '$1 == "dashcam" { print $3 }' "$root/etc/group")"
  if [ -z "$gid" ]; then
    gid="$(free_id)"
    echo "dashcam:x:${gid}:" >> "$root/etc/group"
  fi
  uid="$(awk -F: '$1 == "dashcam" { print $3 }' "$root/etc/passwd")"
  if [ -z "$uid" ]; then
    uid="$gid"
    if cut -d: -f3 "$root/etc/passwd" | grep -qx "$uid"; then uid="$(free_id)"; fi
    echo "dashcam:x:${uid}:${gid}:Dashcam appliance:/var/lib/dashcam:/usr/sbin/nologin" >> "$root/etc/passwd"
  fi
fi
say "user dashcam (uid $uid), group dashcam (gid $gid)"

# Owners are set where we may (root); a DESTDIR build as another user keeps
# the modes and leaves owners to the packaging tool.
own() {
  if [ "$(id -u)" -eq 0 ]; then chown "$1" "${@:2}"; fi
}

# 3. The program.
install -d -m 0755 "$root/usr/local/bin"
if [ -n "$binary" ]; then
  install -m 0755 "$binary" "$root/usr/local/bin/dashcam"
  own 0:0 "$root/usr/local/bin/dashcam"
  say "binary $binary -> /usr/local/bin/dashcam"
else
  command -v deno >/dev/null 2>&1 || die "--source needs deno on the box (npm install -g deno@2.9.6)"
  install -d -m 0755 "$root/opt/dashcam"
  (cd "$repo" && git ls-files -z | xargs -0 tar -cf -) | tar -xf - -C "$root/opt/dashcam"
  (cd "$root/opt/dashcam" && deno install --frozen)
  cat > "$root/usr/local/bin/dashcam" <<'WRAPPER'
#!/bin/sh
# dashcam from source (systemd/install.sh --source): deno with the dashcam task's permissions.
if [ "$(id -un)" = dashcam ]; then export DENO_DIR="${DENO_DIR:-/var/lib/dashcam/.cache/deno}"; fi
exec deno run --no-prompt --allow-read --allow-write --allow-run=ffmpeg,ffprobe,exiftool,perl,systemd-notify,df \
  --allow-env --allow-net --allow-ffi --allow-sys /opt/dashcam/main.ts "$@"
WRAPPER
  chmod 0755 "$root/usr/local/bin/dashcam"
  say "source -> /opt/dashcam, wrapper /usr/local/bin/dashcam"
fi

# 4. The config, readable by the group; the Postgres password, root only
# (systemd hands it to the service as a credential; LoadCredential= needs the file).
install -d -m 0750 "$root/etc/dashcam"
own "0:$gid" "$root/etc/dashcam"
if [ -e "$root/etc/dashcam/dashcam.json" ]; then
  say "kept the existing /etc/dashcam/dashcam.json"
elif [ -n "$config_src" ]; then
  install -m 0640 "$config_src" "$root/etc/dashcam/dashcam.json"
  say "config $config_src -> /etc/dashcam/dashcam.json"
else
  cat > "$root/etc/dashcam/dashcam.json" <<'CONFIG'
{
  // See config/dashcam.example.json for every setting.
  "data_dir": "/var/lib/dashcam",
  "models_dir": "/var/lib/dashcam/models",
  "inbox_dirs": ["/media/dashcam-usb"]
}
CONFIG
  chmod 0640 "$root/etc/dashcam/dashcam.json"
  say "wrote a minimal /etc/dashcam/dashcam.json (add pg.url and inbox_dirs there)"
fi
own "0:$gid" "$root/etc/dashcam/dashcam.json"
if [ ! -e "$root/etc/dashcam/pg-password" ]; then
  (umask 077 && : > "$root/etc/dashcam/pg-password")
  say "created an empty /etc/dashcam/pg-password (put the Postgres password there)"
fi
chmod 0600 "$root/etc/dashcam/pg-password"
own 0:0 "$root/etc/dashcam/pg-password"

# 5. The data dir.
install -d -m 0750 "$root/var/lib/dashcam" "$root/var/lib/dashcam/models"
own "$uid:$gid" "$root/var/lib/dashcam" "$root/var/lib/dashcam/models"

# 6. The models, before the service is enabled: a daemon without them exits 78.
models_dir="$root/var/lib/dashcam/models"
if [ -z "$root" ] && [ -n "$binary" ]; then
  dashcam=(/usr/local/bin/dashcam)
else
  command -v deno >/dev/null 2>&1 || die "installing the models under DESTDIR needs deno (npm install -g deno@2.9.6)"
  dashcam=(deno run --no-prompt --allow-read --allow-write --allow-run=ffmpeg,ffprobe,exiftool,perl \
    --allow-env --allow-net --allow-ffi --allow-sys "$repo/main.ts")
fi
models_args=(models install --models-dir "$models_dir")
if [ -n "$models_from" ]; then models_args+=(--from "$models_from"); fi
say "models -> /var/lib/dashcam/models"
if ! env -u DASHCAM_CONFIG -u DASHCAM_MODELS_DIR "${dashcam[@]}" "${models_args[@]}"; then
  die "the models are not installed, so the service is not enabled (fix the above and run this again)"
fi
own -R "$uid:$gid" "$models_dir"
find "$models_dir" -type f -exec chmod 0640 {} +

# 7. Units, udev rule, and the README the units point to.
install -d -m 0755 "$root/etc/systemd/system" "$root/etc/udev/rules.d" \
  "$root/usr/local/share/doc/dashcam/systemd"
install -m 0644 "$repo/systemd/dashcam.service" "$repo/systemd/dashcam-usb@.service" \
  "$root/etc/systemd/system/"
install -m 0644 "$repo/systemd/99-dashcam-usb.rules" "$root/etc/udev/rules.d/"
install -m 0644 "$repo/systemd/README.md" "$root/usr/local/share/doc/dashcam/systemd/"

# 8. Enabled (WantedBy=multi-user.target), and started.
if [ -z "$root" ]; then
  systemctl daemon-reload
  udevadm control --reload || true
  if [ -n "$start" ]; then
    systemctl enable --now dashcam.service
    say "dashcam.service enabled and started: systemctl status dashcam"
  else
    systemctl enable dashcam.service
    say "dashcam.service enabled (start it: systemctl start dashcam)"
  fi
else
  install -d -m 0755 "$root/etc/systemd/system/multi-user.target.wants"
  ln -sfn /etc/systemd/system/dashcam.service \
    "$root/etc/systemd/system/multi-user.target.wants/dashcam.service"
  say "dashcam.service enabled in $root (multi-user.target.wants)"
fi
