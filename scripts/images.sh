#!/usr/bin/env bash
# Builds the container images of the integration tests from Debian's packages, with no image registry: a
# Debian bookworm root filesystem made on the host by mmdebstrap (with the packages of docker/base/packages
# already installed, so nothing inside a container needs the network), imported as qb/base:<base tag>, and on
# it qb/php:<tag> (docker/php), qb/redis:<tag> (docker/redis) and qb/mariadb:<tag> (docker/mariadb).
#
# Tags are hashes of the inputs' content: <base tag> of this script and docker/base/packages; <tag> of those,
# the three Dockerfiles (and what their directories hold) and the test apps (integration/testdata/laravel and
# integration/testdata/php, without the app's local scratch in storage/). Images of the current tags are
# reused; a change to an input builds what depends on it (a test app edit: the three images, not the root
# filesystem). The bridge's own image (docker/bridge) is built by the tests, from the binaries they build.
#
# usage: scripts/images.sh            build what is missing; print the image names
#        scripts/images.sh --tag      print <tag> only (no Docker needed)
#        scripts/images.sh --inputs   list the files <tag> hashes, which are also the build context
#        scripts/images.sh --prune    remove qb/* images of other tags
# Needs root (or sudo) for mmdebstrap and the package installs, and a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

images=(php redis mariadb)

base_inputs() { printf '%s\n' scripts/images.sh docker/base/packages; }
inputs() {
  { base_inputs
    find "${images[@]/#/docker/}" integration/testdata/laravel integration/testdata/php \
      -path integration/testdata/laravel/storage -prune -o -type f -print
  } | LC_ALL=C sort
}

# Content only (file names and bytes, not times or modes), so every checkout of one commit has one tag.
hash_of() { "$@" | xargs -d '\n' sha256sum | sha256sum | cut -c1-16; }
tag() { hash_of inputs; }

case "${1:-}" in
  --tag) tag; exit 0 ;;
  --inputs) inputs; exit 0 ;;
  --prune)
    keep="qb/base:$(hash_of base_inputs)"
    for name in "${images[@]}"; do keep+=" qb/$name:$(tag)"; done
    docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^qb/(base|php|redis|mariadb):' |
      grep -vxF -f <(tr ' ' '\n' <<<"$keep") | xargs -r docker image rm
    exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--tag|--inputs|--prune]" >&2; exit 2 ;;
esac

sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
t=$(tag)
base="qb/base:$(hash_of base_inputs)"
have() { docker image inspect "$1" >/dev/null 2>&1; }

missing=()
for name in "${images[@]}"; do have "qb/$name:$t" || missing+=("$name"); done

if [ ${#missing[@]} -gt 0 ] && ! have "$base"; then
  if ! command -v mmdebstrap >/dev/null; then
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq mmdebstrap >/dev/null
  fi
  packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' docker/base/packages | tr -s '[:space:]' ',' | sed 's/,$//')
  echo "images: $base from Debian bookworm: $packages" >&2
  # The host's mirror (deb.debian.org with bookworm-updates and -security, as the host uses); no docs, man pages
  # or translations; no resolv.conf or hostname of the host in the image (Docker provides both).
  $sudo mmdebstrap --variant=apt --quiet --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -f "$1"/etc/resolv.conf "$1"/etc/hostname' \
    bookworm - |
    docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' \
      --message "scripts/images.sh: mmdebstrap bookworm with docker/base/packages" - "$base" >/dev/null
fi

if [ ${#missing[@]} -gt 0 ]; then
  context=$(mktemp)
  trap 'rm -f "$context"' EXIT
  inputs | tar -cf "$context" -T -
  for name in "${missing[@]}"; do
    echo "images: qb/$name:$t from docker/$name/Dockerfile" >&2
    docker build --quiet --build-arg "BASE=$base" -f "docker/$name/Dockerfile" -t "qb/$name:$t" - <"$context" >/dev/null
  done
fi

echo "$base"
for name in "${images[@]}"; do echo "qb/$name:$t"; done
