#!/usr/bin/env bash
# Checks the deploy files with the real tools (Debian's nginx, openssl, caddy and systemd, which
# scripts/ensure-deploy-tools installs):
#   - nginx-pochi.conf: `nginx -t`, with a throw-away certificate in place of Let's Encrypt's,
#     in a network namespace of its own (`nginx -t` opens the site's ports 80 and 443);
#   - Caddyfile: `caddy validate` (it provisions the configuration but starts nothing: no
#     certificate is fetched, no port bound; the log path points into the temporary directory);
#   - every systemd unit here (*.service, *.socket, *.timer, ...): `systemd-analyze verify`, with
#     the binaries the units name under /usr/local/bin replaced by /bin/true;
#   - that both proxies keep the callback token out of their logs: nginx and caddy are run for
#     real (in the network namespace, on copies of the files whose log paths point into the
#     temporary directory, Caddy on plain HTTP), callbacks are sent with a made-up token, and
#     the token must appear in no log they wrote while the masked path ("[token]") must.
# Any warning counts: the check fails when a tool reports a warning or an error. A missing tool
# fails the check when CI is set (scripts/test-all runs this), and is otherwise reported and
# skipped. Everything the tools write goes to a temporary directory, removed at the end (but for
# the empty marker /run/systemd/systemd-units-load, which systemd-analyze run as root touches).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

# The path of tool $1: in PATH, or in /usr/sbin or /sbin (Debian's nginx is /usr/sbin/nginx,
# which is not in a user's PATH).
tool() {
  local d
  if command -v "$1" 2>/dev/null; then return 0; fi
  for d in /usr/sbin /sbin; do
    if [ -x "$d/$1" ]; then
      echo "$d/$1"
      return 0
    fi
  done
  return 1
}

# Prints a tool's output ($1) and the failure ($2), naming the deploy files instead of their
# copies in $tmp (the copies keep the line numbers).
report() {
  printf '%s\n' "$1" |
    sed -e "s#$tmp/site.conf#$here/nginx-pochi.conf#g" -e "s#$tmp/Caddyfile#$here/Caddyfile#g" \
      -e "s#$tmp/units/#$here/#g" >&2
  echo "FAILED: $2" >&2
  failed=1
}

# A check ($1) that cannot run, for the reason $2: a failure under CI, else a skip.
cannot() {
  if [ -n "${CI:-}" ]; then
    echo "FAILED: $1: $2 (CI is set, so this is a failure)" >&2
    failed=1
  else
    echo "skipped: $1 ($2)"
  fi
}
not_installed() { echo "$* not installed; scripts/ensure-deploy-tools installs it"; }

# A made-up callback token (it must not appear in any log the proxies write).
secret="maskcheck${RANDOM}${RANDOM}tokenXyZ"
# Brings the loopback interface of a fresh network namespace up.
lo_up="ip link set lo up"

# Shell lines that wait for the proxy on port $3, then send callbacks with the token in their
# paths: the STK and C2B routes, with a query string, and with a doubled slash.
send_callbacks() {
  local curl="$1" scheme="$2" port="$3"
  local base="$scheme://duka.example.co.ke"
  local opts="-sk -o /dev/null --max-time 5 --resolve duka.example.co.ke:$port:127.0.0.1"
  cat <<EOF
for i in \$(seq 50); do '$curl' $opts '$base/' && break; sleep 0.2; done
'$curl' $opts -X POST -H 'Content-Type: application/json' -d '{}' '$base/api/pay/callbacks/stk/$secret'
'$curl' $opts -X POST -d '{}' '$base/api/pay/callbacks/c2b-confirmation/$secret?x=1'
'$curl' $opts --path-as-is -X POST -d '{}' '$base//api/pay/callbacks/stk/$secret'
sleep 0.5
EOF
}

# Fails the check named $1 unless log $2 shows a masked callback path and none of the logs
# from $3 on holds the token.
logs_mask_the_token() {
  local name="$1" masked="$2" log
  shift 2
  for log in "$@"; do
    if [ -f "$log" ] && grep -qF "$secret" "$log"; then
      report "$(grep -F "$secret" "$log")" "$name writes the callback token to $(basename "$log")"
      return
    fi
  done
  if [ -f "$masked" ] && grep -qF '/api/pay/callbacks/stk/[token]' "$masked"; then
    echo "$name: callback tokens are masked in its logs"
  else
    report "$(cat "$masked" 2>/dev/null)" "$name: no masked callback path in $(basename "$masked")"
  fi
}

# `nginx -t` opens the site's listening sockets (ports 80 and 443, then closes them), so it runs
# in a network namespace of its own: it neither disturbs nor depends on what listens on this
# machine. As root `unshare --net`; otherwise in a user namespace, where the kernel allows one.
# Caddy runs there too when it can, though `caddy validate` opens no socket.
netns=()
if unshare --net true 2>/dev/null; then
  netns=(unshare --net)
elif unshare --map-root-user --net true 2>/dev/null; then
  netns=(unshare --map-root-user --net)
fi

# ----- nginx -----
absent=()
nginx="$(tool nginx)" || absent+=(nginx)
openssl="$(tool openssl)" || absent+=(openssl)
if [ "${#absent[@]}" -ne 0 ]; then
  cannot "nginx -t on nginx-pochi.conf" "$(not_installed "${absent[@]}")"
elif [ "${#netns[@]}" -eq 0 ]; then
  cannot "nginx -t on nginx-pochi.conf" "no network namespace to run it in: unshare --net failed"
else
  "$openssl" req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=duka.example.co.ke" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  sed -e "s#/etc/letsencrypt/live/duka.example.co.ke/fullchain.pem#$tmp/cert.pem#" \
    -e "s#/etc/letsencrypt/live/duka.example.co.ke/privkey.pem#$tmp/key.pem#" \
    -e "s#/var/log/nginx/#$tmp/#g" \
    "$here/nginx-pochi.conf" >"$tmp/site.conf"
  # The site inside a minimal main configuration whose files (pid, logs, the temporary
  # directories nginx creates) are all in $tmp: nothing under /run, /var/log or /var/lib/nginx.
  # `user root`: nginx running as root (or as root of a user namespace) hands those directories
  # to its worker user, which must exist in the namespace.
  cat >"$tmp/nginx.conf" <<EOF
user root root;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
    # Debian's nginx.conf logs every request in the combined format (full path) at this
    # level; the site's server blocks must replace it.
    access_log $tmp/default-access.log;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/site.conf;
}
EOF
  if out="$("${netns[@]}" "$nginx" -t -q -p "$tmp/" -e "$tmp/error.log" -c "$tmp/nginx.conf" 2>&1)" &&
    [ -z "$out" ]; then
    echo "nginx: nginx-pochi.conf passes nginx -t"
  else
    report "$out" "nginx -t on nginx-pochi.conf"
  fi
  if curl="$(tool curl)"; then
    # nginx runs in the namespace (its upstream, 127.0.0.1:8080, is not there: callbacks get
    # 502, which nginx's error log would write with the full request line).
    if out="$("${netns[@]}" bash -c "$lo_up
      '$nginx' -p '$tmp/' -e '$tmp/error.log' -c '$tmp/nginx.conf' -g 'daemon off;' &
      pid=\$!
      $(send_callbacks "$curl" https 443)
      $(send_callbacks "$curl" http 80)
      kill \$pid; wait \$pid 2>/dev/null || true" 2>&1)"; then
      logs_mask_the_token nginx-pochi.conf "$tmp/pochi.access.log" "$tmp/pochi.access.log" \
        "$tmp/default-access.log" "$tmp/error.log"
    else
      report "$out" "nginx: running nginx-pochi.conf to check its logs"
    fi
  else
    cannot "nginx-pochi.conf keeps the callback token out of its logs" "$(not_installed curl)"
  fi
fi

# ----- Caddy -----
if caddy="$(tool caddy)"; then
  sed -e "s#/var/log/caddy/#$tmp/#g" "$here/Caddyfile" >"$tmp/Caddyfile"
  mkdir "$tmp/home"
  # Caddy logs JSON lines on stderr; anything at level warn or above is a finding.
  if out="$(cd "$tmp" && HOME="$tmp/home" XDG_DATA_HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home" \
    "${netns[@]}" "$caddy" validate --config "$tmp/Caddyfile" --adapter caddyfile 2>&1)" &&
    ! grep -qE '"level":"(warn|error|fatal|panic)"' <<<"$out"; then
    echo "caddy: Caddyfile passes caddy validate"
  else
    report "$out" "caddy validate on Caddyfile"
  fi
  if curl="$(tool curl)"; then
    # Served on plain HTTP (no certificate can be had offline), the upstream absent (no retry
    # for 10 s): the log blocks are the file's own.
    sed -e "s#^duka.example.co.ke {#http://duka.example.co.ke {#" -e "/lb_try_duration/d" \
      "$tmp/Caddyfile" >"$tmp/Caddyfile.run"
    if out="$(cd "$tmp" && HOME="$tmp/home" XDG_DATA_HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home" \
      "${netns[@]}" bash -c "$lo_up
      '$caddy' run --config '$tmp/Caddyfile.run' --adapter caddyfile 2>'$tmp/caddy.log' &
      pid=\$!
      $(send_callbacks "$curl" http 80)
      kill \$pid; wait \$pid 2>/dev/null || true" 2>&1)"; then
      logs_mask_the_token Caddyfile "$tmp/pochi.log" "$tmp/pochi.log" "$tmp/caddy.log"
    else
      report "$out" "caddy: running the Caddyfile to check its logs"
    fi
  else
    cannot "the Caddyfile keeps the callback token out of its logs" "$(not_installed curl)"
  fi
else
  cannot "caddy validate on Caddyfile" "$(not_installed caddy)"
fi

# ----- systemd -----
units=()
for f in "$here"/*.{service,socket,timer,path,mount,automount,swap,target,slice}; do
  [ -e "$f" ] && units+=("$(basename "$f")")
done
if [ "${#units[@]}" -eq 0 ]; then
  echo "FAILED: no systemd unit in $here" >&2
  failed=1
elif systemd_analyze="$(tool systemd-analyze)"; then
  # Copies side by side (so units that name each other resolve), pointing at an existing binary.
  mkdir "$tmp/units"
  for u in "${units[@]}"; do
    sed -E "s#/usr/local/bin/[A-Za-z0-9._-]+#/bin/true#g" "$here/$u" >"$tmp/units/$u"
  done
  # Verifying a unit prints nothing when it is sound; any output is a finding.
  rc=0
  out="$(cd "$tmp/units" && "$systemd_analyze" verify "${units[@]/#/$tmp/units/}" 2>&1)" || rc=$?
  if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
    echo "systemd: systemd-analyze verify passes on ${units[*]}"
  else
    report "$out" "systemd-analyze verify on ${units[*]}"
  fi
else
  cannot "systemd-analyze verify on ${units[*]}" "$(not_installed systemd-analyze)"
fi

if [ "$failed" -ne 0 ]; then
  echo "deploy check: FAILED" >&2
fi
exit "$failed"
