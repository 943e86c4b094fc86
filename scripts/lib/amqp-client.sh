# shellcheck shell=bash
# The second AMQP client end-to-end tests inject messages with: Debian's python3-pika, run by /usr/bin/python3.
# Installed with apt when missing, like chromium.

ensure_pika() {
  /usr/bin/python3 -c 'import pika' 2>/dev/null && return
  command -v apt-get >/dev/null || fail "python3-pika is missing and there is no apt-get to install it"
  ((EUID == 0)) || fail "python3-pika is missing: install it as root (apt-get install -y python3-pika)"
  step "installing python3-pika (apt) for the tests that inject messages with a second AMQP client"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pika >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pika >/dev/null
  fi
  /usr/bin/python3 -c 'import pika' || fail "python3-pika was installed but /usr/bin/python3 cannot import it"
}
