#!/usr/bin/env bash
# As the official redis image: redis-server runs as redis, owns /data, and has protected mode off.
set -euo pipefail
if [ "${1:-}" = redis-server ]; then
  if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
  fi
  set -- "$@" --protected-mode no
fi
exec "$@"
