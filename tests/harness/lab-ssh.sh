#!/usr/bin/env bash
# SSH access to the lab's systemd containers as to VMs (issue #17): a throwaway key pair of the harness,
# the user `ops` of the host images (sudo without password, see build-images.sh) and each container's
# address on its Docker network.
# Usage: lab-ssh.sh key                 make the key pair when missing; print the private key's path
#        lab-ssh.sh install NAME ...    authorize the key for ops in these running containers, wait for sshd
#        lab-ssh.sh address NAME        print the container's IPv4 address (what ansible_host is set to)
#        lab-ssh.sh vars [INDENT]       print the connection variables of a lab host as YAML lines, indented by
#                                       INDENT spaces (lab.sh and benchmarks/converge.sh write them into their
#                                       inventories; molecule/runbooks/molecule.yml spells the same ones out)
# The key lives in .cache/lab/ssh (LAB_SSH_DIR): it opens nothing but the lab's containers.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${LAB_SSH_DIR:-$REPO/.cache/lab/ssh}
KEY=$DIR/id_ed25519

key() {
  if [ ! -s "$KEY" ]; then
    mkdir -p "$DIR" && chmod 0700 "$DIR"
    ssh-keygen -q -t ed25519 -N '' -C monitoring-stack-lab -f "$KEY" >/dev/null
  fi
  echo "$KEY"
}

install_key() {
  local name pub
  key >/dev/null
  pub=$(cat "$KEY.pub")
  for name in "$@"; do
    docker exec -i "$name" sh -c 'umask 077 && mkdir -p /home/ops/.ssh && cat > /home/ops/.ssh/authorized_keys \
      && chown -R ops:ops /home/ops/.ssh' <<<"$pub"
  done
  # sshd starts with the container's boot; wait (bounded) until each one listens.
  for name in "$@"; do
    for _ in $(seq 1 60); do
      docker exec "$name" sh -c 'ss -Hltn "sport = :22" | grep -q .' 2>/dev/null && continue 2
      sleep 1
    done
    echo "[lab-ssh] sshd of $name does not listen on port 22 after 60 s" >&2
    exit 1
  done
}

# The connection is named ssh, not ansible.builtin.ssh: Mitogen's strategies take over the short names only.
connection_vars() {
  local pad
  pad=$(printf '%*s' "${1:-0}" '')
  printf '%s%s\n' \
    "$pad" "ansible_connection: ssh" \
    "$pad" "ansible_user: ops" \
    "$pad" "ansible_become: true" \
    "$pad" "ansible_ssh_private_key_file: $(key)" \
    "$pad" "ansible_ssh_pipelining: true" \
    "$pad" "ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=auto -o ControlPersist=60s"
}

address() {
  docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{print $1}'
}

case "${1:-}" in
  key) key ;;
  install) shift; install_key "$@" ;;
  address) address "$2" ;;
  vars) connection_vars "${2:-0}" ;;
  *) echo "usage: $0 key | install NAME ... | address NAME | vars [INDENT]" >&2; exit 2 ;;
esac
