#!/usr/bin/env bash
# Idempotent: install Debian's Chromium for the dashboard's browser tests (Playwright drives it
# with executable_path=/usr/bin/chromium). Never `playwright install`: it downloads a browser
# build of its own, which this project does not use.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "browser-deps: /usr/bin/chromium is missing; run as root: apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation
