#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests and Lighthouse (make e2e, make lighthouse).
# Playwright's own browser downloads are never used: Debian's package is what these
# machines can install, and what the tests point Playwright and Lighthouse at.
set -o errexit -o nounset -o pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing and installing it needs root: apt-get install chromium fonts-dejavu-core fonts-ipafont-gothic" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Fonts too: headless Chromium draws boxes for text without one (DejaVu covers Latin and
# Arabic, IPA Gothic the Japanese pages).
apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-ipafont-gothic
"$CHROMIUM" --version
