#!/usr/bin/env bash
# Checks the deploy files with the real tools, where installed (Debian: nginx, caddy, systemd):
# `nginx -t` with a throw-away certificate, `caddy validate`, `systemd-analyze verify`, and
# `bash -n` on the backup script. A missing tool is reported and skipped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

if command -v nginx >/dev/null && command -v openssl >/dev/null; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=duka.example.co.ke" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  sed -e "s#/etc/letsencrypt/live/duka.example.co.ke/fullchain.pem#$tmp/cert.pem#" \
      -e "s#/etc/letsencrypt/live/duka.example.co.ke/privkey.pem#$tmp/key.pem#" \
      "$here/nginx-pochi.conf" > "$tmp/site.conf"
  printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp { access_log off; include %s/site.conf; }\n' \
    "$tmp" "$tmp" "$tmp" > "$tmp/nginx.conf"
  nginx -t -c "$tmp/nginx.conf" || failed=1
else
  echo "skipped: nginx -t (nginx or openssl not installed)"
fi

if command -v caddy >/dev/null; then
  (cd "$tmp" && caddy validate --config "$here/Caddyfile" --adapter caddyfile 2>&1 | tail -1) | grep -qx "Valid configuration" \
    && echo "caddy: Caddyfile is valid" || { echo "caddy: Caddyfile is NOT valid"; failed=1; }
else
  echo "skipped: caddy validate (caddy not installed)"
fi

if command -v systemd-analyze >/dev/null; then
  # The unit names /usr/local/bin/pochi-server; verify a copy that points at an existing binary.
  sed "s#/usr/local/bin/pochi-server#/bin/true#" "$here/pochi.service" > "$tmp/pochi.service"
  out="$(systemd-analyze verify "$tmp/pochi.service" 2>&1 || true)"
  if [ -n "$out" ]; then echo "$out"; failed=1; else echo "systemd: pochi.service verifies"; fi
else
  echo "skipped: systemd-analyze verify (systemd not installed)"
fi

bash -n "$here/backup.sh" && echo "backup.sh: syntax ok" || failed=1
exit "$failed"
