#!/usr/bin/env bash
# Install everything clustermgr and its tests need on Debian 12, as root.
# Idempotent: a second run installs nothing. Used by run.sh, test.sh and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  openssh-server openssh-client   # sshd for the test hosts, ssh-keygen
  iproute2 procps openssl         # ss, ps, certificates
  postgresql                      # the scale-out database, exercised by the tests
  python3 python3-venv            # /usr/bin/python3 runs each lab host's PID 1
  python3-cryptography            # the lab identity app's token signatures (ES256)
  util-linux                      # unshare, nsenter, pivot_root for the lab
  dpkg-dev gnupg                  # the lab's apt repository: dpkg-scanpackages, its signing key
  # What lab hosts run (they share this machine's /usr, each with its own disk):
  slapd ldap-utils redis-server redis-tools stunnel4 nutcracker nginx
  prometheus-node-exporter prometheus-redis-exporter prometheus-nginx-exporter  # metrics
  chromium                        # the browser of the GUI tests (driven by Playwright)
  wrk                             # HTTP load of benchmarks/lb.py
  victoria-metrics                # the scale-out series store, exercised by the tests
  nftables                        # packet filters inside lab hosts (blocked pairs in tests)
)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -qx installed || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  # Keep package scripts from starting daemons in the root namespace: clustermgr
  # starts what it needs itself, where it needs it.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  [ "$added_policy" = 1 ] && rm -f "$policy"
fi

if [ ! -x .venv/bin/python ]; then
  echo "creating .venv" >&2
  "${PYTHON:-python3}" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -e "$stamp" ]; then
  echo "installing Python packages into .venv" >&2
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
