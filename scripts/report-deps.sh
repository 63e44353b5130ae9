#!/usr/bin/env bash
# Idempotent: Debian packages the operating report's PDF needs and its tests use.
# - Pango (WeasyPrint's text layout) comes with Debian; WeasyPrint itself is a Python dependency.
# - fonts-wqy-microhei: a Chinese font (the zh report; also covers Latin text).
# - poppler-utils: pdftotext / pdftoppm, used by the tests to read and render the PDF.
set -euo pipefail
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || need+=(fonts-wqy-microhei fontconfig)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "report-deps: missing ${need[*]}; run as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
