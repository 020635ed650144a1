#!/usr/bin/env bash
# Checks the Debian packages PhotoVerse builds and tests with. As root it installs
# what is missing; otherwise it prints the one apt-get line needed and fails.
set -euo pipefail

packages=(
  pkg-config libopenblas-dev libpng-dev libjpeg62-turbo-dev libsixel-dev libncurses-dev
  python3 python3-venv python3-pip tmux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ! command -v swift >/dev/null 2>&1 && [ ! -x /opt/swift/usr/bin/swift ]; then
  echo "deps: Swift 6 toolchain not found (expected 'swift' on PATH or /opt/swift/usr/bin/swift); install it from swift.org" >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
else
  echo "deps: missing Debian packages; run as root:  sudo $line" >&2
  exit 1
fi
