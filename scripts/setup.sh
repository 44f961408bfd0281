#!/usr/bin/env bash
# One-command set-up of a fresh Debian 12 or Ubuntu 22.04/24.04 machine for
# running the pipeline from this source tree (README.md, "Quick start").
# Installs only what is missing:
#   - ffmpeg (apt)
#   - Deno 2.9.6 (npm; nodejs and npm come from apt when npm is missing)
#   - the npm packages of deno.json (deno install, pinned by deno.lock)
#   - the default models (deno task dashcam models install: downloaded from
#     their pinned upstream URLs and verified by sha256)
#
# Options:
#   --models-from DIR     copy the models from a folder instead (USB stick,
#                         offline); env DASHCAM_MODELS_FROM
#   --models-mirror BASE  download from a mirror of https://github.com;
#                         env DASHCAM_MODELS_MIRROR
#   --all-models          every model of models/models.json, not only the defaults
# Needs root or sudo only when something has to come from apt or npm.
set -euo pipefail
cd "$(dirname "$0")/.."

models_from="${DASHCAM_MODELS_FROM:-}"
models_all=""
while [ $# -gt 0 ]; do
  case "$1" in
    --models-from) models_from="${2:?--models-from needs a folder}"; shift 2 ;;
    --models-from=*) models_from="${1#*=}"; shift ;;
    --models-mirror) export DASHCAM_MODELS_MIRROR="${2:?--models-mirror needs a base URL}"; shift 2 ;;
    --models-mirror=*) export DASHCAM_MODELS_MIRROR="${1#*=}"; shift ;;
    --all-models) models_all="--all"; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

DENO_VERSION=2.9.6
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

has_deno() { deno --version 2>/dev/null | grep -q "^deno ${DENO_VERSION//./\\.} "; }

apt_pkgs=()
if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  apt_pkgs+=(ffmpeg)
fi
if ! has_deno && ! command -v npm >/dev/null 2>&1; then
  apt_pkgs+=(nodejs npm)
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  echo "setup: installing ${apt_pkgs[*]} (apt)"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${apt_pkgs[@]}"
else
  echo "setup: ffmpeg is installed"
fi

if ! has_deno; then
  echo "setup: installing Deno ${DENO_VERSION} (npm)"
  $SUDO npm install -g "deno@${DENO_VERSION}"
  hash -r
  if ! has_deno; then
    echo "setup: 'deno --version' does not report ${DENO_VERSION} after npm install -g deno@${DENO_VERSION}; is npm's bin folder ($(npm prefix -g)/bin) on PATH?" >&2
    exit 1
  fi
else
  echo "setup: Deno ${DENO_VERSION} is installed"
fi

echo "setup: npm packages (deno install, pinned by deno.lock)"
deno install --frozen

models_args=(models install)
if [ -n "$models_all" ]; then models_args+=("$models_all"); fi
if [ -n "$models_from" ]; then
  echo "setup: models from $models_from"
  models_args+=(--from "$models_from")
elif [ -n "${DASHCAM_MODELS_MIRROR:-}" ]; then
  echo "setup: models from the mirror $DASHCAM_MODELS_MIRROR"
else
  echo "setup: models from their upstream URLs"
fi
deno task dashcam "${models_args[@]}"

echo "setup: done. Try: deno task dashcam demo"
