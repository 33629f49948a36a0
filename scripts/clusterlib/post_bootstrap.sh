#!/bin/sh
# Patroni's post_bootstrap hook for scripts/cluster: runs once, on the node that initialised the cluster, as
# the postgres user. Patroni appends the superuser's connection string (its password in PGPASSFILE).
#
#   post_bootstrap.sh PASSWORD_FILE CONNSTRING
#
# Creates the `hookline` role (its password read from PASSWORD_FILE) and the `hookline` database it owns;
# `hookline migrate` then creates the schema in it. (Patroni 3 dropped bootstrap.users: this is its successor.)
set -eu
password=$(cat "$1")
psql "$2" -X -q -v ON_ERROR_STOP=1 -v password="$password" <<'SQL'
CREATE ROLE hookline LOGIN PASSWORD :'password';
CREATE DATABASE hookline OWNER hookline;
SQL
