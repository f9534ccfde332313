#!/usr/bin/env bash
# podman as podman-compose 1.3 expects it, on Debian bookworm's podman 4.3 without systemd
# (podman-compose --podman-path test/deploy/images/podman-compat.sh), for the compose test:
# - `wait --condition=healthy` (podman 4.6+) is one `podman healthcheck run` of each container,
#   failing while one is not healthy (podman-compose asks again every second). podman 4.3 runs
#   healthchecks only from systemd timers, which these machines' containers do not have;
# - `wait --condition=stopped` (podman-compose's service_completed_successfully) holds only once
#   the container has run and exited 0: podman 4.3 answers at once for one not started yet, and
#   podman-compose does not look at the exit code;
# - no `--requires` on create/run: podman-compose waits for depends_on's conditions itself before
#   it starts a container, while podman 4.3, given --requires, restarts a one-shot dependency that
#   has completed (migrate) and fails with "generating dependency graph ... not found in input list";
# - every container runs with runc.
set -euo pipefail
if [ "${1:-}" = wait ] && [[ " $* " == *" --condition=healthy "* ]]; then
  shift
  for name in "$@"; do
    case "$name" in --*) continue ;; esac
    podman healthcheck run "$name" >/dev/null 2>&1 || exit 1
  done
  exit 0
fi
if [ "${1:-}" = wait ] && [[ " $* " == *" --condition=stopped "* ]]; then
  shift
  for name in "$@"; do
    case "$name" in --*) continue ;; esac
    state="$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}} {{.State.FinishedAt.IsZero}}' "$name")"
    case "$state" in "exited 0 false" | "stopped 0 false") ;; *) exit 1 ;; esac
  done
  exit 0
fi
if [ "${1:-}" = create ] || [ "${1:-}" = run ]; then
  args=()
  for a in "$@"; do case "$a" in --requires=*) ;; *) args+=("$a") ;; esac; done
  set -- "${args[@]}"
fi
exec podman --runtime runc "$@"
