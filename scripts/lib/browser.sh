# shellcheck shell=bash
# The browser the end-to-end layer drives the operator console in: Debian's chromium, through playwright-core
# (which brings no browser of its own). Installed with apt when missing, like PostgreSQL and RabbitMQ.

CHROMIUM=/usr/bin/chromium

ensure_chromium() {
  [[ -x "$CHROMIUM" ]] && return
  command -v apt-get >/dev/null || fail "$CHROMIUM is missing and there is no apt-get to install it: install Chromium there"
  ((EUID == 0)) || fail "$CHROMIUM is missing: install it as root (apt-get install -y chromium), or run the tests as root"
  step "installing chromium (apt) for the operator console's browser test"
  # A fresh machine has no package lists yet; an old list may name versions the mirror no longer has.
  if ! apt-cache show chromium >/dev/null 2>&1 || ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  [[ -x "$CHROMIUM" ]] || fail "chromium was installed but $CHROMIUM is not there"
}
