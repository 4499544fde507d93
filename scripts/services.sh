#!/usr/bin/env bash
# Installs, configures and starts what the bridge's tests need, when missing: redis-server, MariaDB,
# PostgreSQL, php-cli, php-redis, php-mysql, php-sqlite3, php-pgsql, Laravel 8 (Debian's
# php-laravel-framework), supervisor and headless Chromium. A fresh Debian install of MariaDB or PostgreSQL has none of the access the tests
# assume, so this also sets it up, for loopback only: MariaDB's root over TCP without a password, and
# PostgreSQL's `postgres` user trusted on 127.0.0.1 with a database `test`.
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

need_pkg redis-server redis-tools
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --databases 64
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi

need_pkg php-cli php-redis php-mysql php-sqlite3 php-pgsql php-laravel-framework supervisor
# Headless Chromium for the dashboard's browser tests, with a CJK font so its 简体中文 pages render.
need_pkg chromium fonts-wqy-microhei
php -r 'exit(extension_loaded("redis") && extension_loaded("pdo_mysql") && extension_loaded("pdo_sqlite") && extension_loaded("pdo_pgsql") ? 0 : 1);' ||
  { echo "services: php-redis, pdo_mysql, pdo_sqlite or pdo_pgsql is not loaded" >&2; exit 1; }

mariadb_up() { mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
mariadb_root_tcp() { mysql --protocol=tcp -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' >/dev/null 2>&1; }
need_pkg mariadb-server mariadb-client
if ! mariadb_up; then
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --bind-address=127.0.0.1
  for _ in $(seq 150); do mariadb_up && break; sleep 0.2; done
  mariadb_up || { echo "services: MariaDB did not start on 127.0.0.1:3306" >&2; exit 1; }
fi
if ! mariadb_root_tcp; then
  # Debian's root authenticates by unix socket only: let it in from loopback without a password too.
  mysql -u root <<'SQL'
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  mariadb_root_tcp || { echo "services: MariaDB root cannot log in over TCP without a password" >&2; exit 1; }
fi
mysql --protocol=tcp -h 127.0.0.1 -u root -e 'CREATE DATABASE IF NOT EXISTS queuebridge'

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
need_pkg postgresql
pg_version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_hba=/etc/postgresql/$pg_version/main/pg_hba.conf
if ! grep -q '^# queuebridge tests' "$pg_hba"; then
  # Trust loopback only, before Debian's own rules (the first matching line wins).
  { echo '# queuebridge tests: loopback is trusted'
    echo 'host all all 127.0.0.1/32 trust'
    echo 'host all all ::1/128 trust'
    cat "$pg_hba"; } > "$pg_hba.new" && mv "$pg_hba.new" "$pg_hba"
  chown postgres:postgres "$pg_hba"
  postgres_up && pg_ctlcluster --skip-systemctl-redirect "$pg_version" main reload
fi
if ! postgres_up; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
  for _ in $(seq 150); do postgres_up && break; sleep 0.2; done
  postgres_up || { echo "services: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
  psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null
