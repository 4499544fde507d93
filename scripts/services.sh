#!/usr/bin/env bash
# Installs and starts what the bridge's tests need, when missing: redis-server, MariaDB, PostgreSQL,
# php-cli, php-redis, php-mysql, php-sqlite3, php-pgsql and Laravel 8 (Debian's php-laravel-framework).
# Safe to run again; used by scripts/test.sh and .ci/run.
set -euo pipefail

apt_updated=
need_pkg() { # need_pkg PACKAGE...: install the Debian packages that are not installed yet
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v go >/dev/null || { echo "services: Go is not installed (want Go 1.26+)" >&2; exit 1; }

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null || need_pkg redis-server redis-tools
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi


need_pkg php-cli php-redis php-mysql php-sqlite3 php-pgsql php-laravel-framework
php -r 'exit(extension_loaded("redis") && extension_loaded("pdo_mysql") && extension_loaded("pdo_sqlite") ? 0 : 1);' ||
  { echo "services: php-redis, pdo_mysql or pdo_sqlite is not loaded" >&2; exit 1; }

mariadb_up() { mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
if ! mariadb_up; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need_pkg mariadb-server
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  for _ in $(seq 100); do mariadb_up && break; sleep 0.2; done
  mariadb_up || { echo "services: MariaDB did not start on 127.0.0.1:3306" >&2; exit 1; }
fi

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! postgres_up; then
  command -v pg_ctlcluster >/dev/null || need_pkg postgresql
  for v in $(ls /etc/postgresql 2>/dev/null); do pg_ctlcluster --skip-systemctl-redirect "$v" main start || true; done
  for _ in $(seq 100); do postgres_up && break; sleep 0.2; done
  postgres_up || { echo "services: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
