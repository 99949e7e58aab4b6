#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (driven from Go with
# chromedp), only when no chromium is installed yet. Needs root (apt-get).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  chromium --version 2>/dev/null || true
  exit 0
fi
echo "installing chromium (Debian package) for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
