#!/usr/bin/env bash
# Installs the Debian packages smokemesh's tests use (run as root). The server itself needs
# only fping (for ICMP targets); the rest are the real counterparts the tests talk to.
set -euo pipefail
PACKAGES=(
  fping             # ICMP probe
  mtr-tiny traceroute # diagnostic tasks (mtr --json, traceroute -n) on agents
  iproute2 nftables # network namespaces and loss injection in tests
  dnsmasq-base      # a real DNS server for the dns probe tests
  openssl           # certificates for the https tests
  python3-aiosmtpd  # a real SMTP server for the email channel tests
  prometheus-alertmanager prometheus # real Alertmanager and Prometheus for the export/alert tests
  postgresql        # the cluster's coordination database (cluster.coordination); tests start private clusters on 127.0.0.1
  victoria-metrics  # the VictoriaMetrics store backend tests and benchmarks (store.backend: victoriametrics)
  chromium          # the browser for end-to-end UI tests (driven by playwright-core)
  sqlite3           # the sqlite3 shell, used by store tests to inspect and damage files
  time              # /usr/bin/time for benchmark CPU figures
  fonts-wqy-microhei # a CJK font so the UI tests and screenshots render Chinese names
  smokeping rrdtool # the real SmokePing (and its RRDs) for the import-smokeping tests
  libnet-dns-perl   # lets SmokePing's own config parser load its AnotherDNS probe (fixture checks)
)
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"
