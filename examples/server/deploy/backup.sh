#!/usr/bin/env bash
# Backs up a Pochi shop: the database (SQLite, PostgreSQL or MySQL, picked from
# POCHI_DATABASE_URL like the server does) and the media directory, into timestamped files in
# BACKUP_DIR, keeping the newest KEEP_DAYS days.
#
#   POCHI_DATA_DIR=/var/lib/pochi BACKUP_DIR=/var/backups/pochi ./backup.sh
#   # or with the server's environment file:
#   set -a; . /etc/pochi/pochi.env; set +a; BACKUP_DIR=/var/backups/pochi ./backup.sh
#
# Daily from cron: 15 3 * * * pochi /usr/local/bin/pochi-backup.sh
# Needs: sqlite3 (SQLite), pg_dump (PostgreSQL) or mysqldump/mariadb-dump (MySQL), tar, gzip.
set -euo pipefail
umask 077

DATA_DIR="${POCHI_DATA_DIR:-./pochi-data}"
MEDIA_DIR="${POCHI_MEDIA_DIR:-$DATA_DIR/media}"
DATABASE_URL="${POCHI_DATABASE_URL:-sqlite://$DATA_DIR/pochi.db}"
BACKUP_DIR="${BACKUP_DIR:-./pochi-backups}"
KEEP_DAYS="${KEEP_DAYS:-14}"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$BACKUP_DIR"
tmp="$(mktemp -d "$BACKUP_DIR/.partial-$stamp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

case "$DATABASE_URL" in
  sqlite::memory:*)
    echo "backup: the database is in memory; nothing to back up" >&2
    exit 1
    ;;
  sqlite:*)
    file="${DATABASE_URL#sqlite://}"
    file="${file#sqlite:}"
    file="${file%%\?*}"
    # .backup copies a consistent snapshot while the server keeps writing (WAL mode).
    sqlite3 "$file" ".backup '$tmp/pochi.db'"
    sqlite3 "$tmp/pochi.db" "PRAGMA integrity_check;" | grep -qx ok
    gzip "$tmp/pochi.db"
    db_file="pochi-$stamp.sqlite.gz"
    mv "$tmp/pochi.db.gz" "$tmp/$db_file"
    ;;
  postgres://*|postgresql://*)
    db_file="pochi-$stamp.pgdump"
    # Custom format: compressed, restorable with pg_restore --clean --if-exists.
    pg_dump --format=custom --no-owner --dbname="$DATABASE_URL" --file="$tmp/$db_file"
    ;;
  mysql://*|mariadb://*)
    rest="${DATABASE_URL#*://}"
    creds="${rest%%@*}"; hostpart="${rest#*@}"
    user="${creds%%:*}"; password="${creds#*:}"
    hostport="${hostpart%%/*}"; database="${hostpart#*/}"; database="${database%%\?*}"
    host="${hostport%%:*}"; port="${hostport#*:}"; [ "$port" = "$hostport" ] && port=3306
    dump="$(command -v mariadb-dump || command -v mysqldump)"
    # The password goes through a file only the backup user can read, never the command line.
    printf '[client]\npassword=%s\n' "$password" > "$tmp/my.cnf"
    db_file="pochi-$stamp.sql.gz"
    "$dump" --defaults-extra-file="$tmp/my.cnf" --host="$host" --port="$port" --user="$user" \
      --single-transaction --routines --triggers "$database" | gzip > "$tmp/$db_file"
    rm -f "$tmp/my.cnf"
    ;;
  *)
    echo "backup: unsupported POCHI_DATABASE_URL scheme" >&2
    exit 2
    ;;
esac
mv "$tmp/$db_file" "$BACKUP_DIR/$db_file"

if [ -d "$MEDIA_DIR" ]; then
  tar -C "$MEDIA_DIR" -czf "$BACKUP_DIR/media-$stamp.tar.gz" .
fi

# Retention: remove backups older than KEEP_DAYS days, but never the newest database backup.
newest="$BACKUP_DIR/$db_file"
find "$BACKUP_DIR" -maxdepth 1 -type f \( -name 'pochi-*' -o -name 'media-*' \) \
  -mtime "+$KEEP_DAYS" ! -path "$newest" -print -delete

echo "backup: $BACKUP_DIR/$db_file"
