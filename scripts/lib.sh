# shellcheck shell=bash
# Shared by scripts/run, scripts/stop, scripts/test and scripts/stack: installing what is missing,
# building, and a private PostgreSQL and Mosquitto on loopback under a state directory.

PULSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

REQUIRED_PACKAGES=(
    build-essential cmake ninja-build pkg-config ca-certificates curl procps
    libpoco-dev libpaho-mqttpp-dev libpaho-mqtt-dev libboost-dev libboost-filesystem-dev
    libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libpq-dev libsodium-dev libsimdjson-dev
    postgresql postgresql-contrib mosquitto mosquitto-clients mosquitto-dev libmosquitto-dev prometheus
    clang libc++-14-dev libc++abi-14-dev libclang-rt-14-dev clang-format json-schema-test-suite
    chromium fonts-dejavu-core python3-cryptography libcurl4-openssl-dev python3-aiosmtpd snmp snmptrapd libsnmp-dev libkainjow-mustache-dev
)

# npm for the OpenAPI linter (tests/openapi): Debian's nodejs and npm unless a Node.js with npm is there.
ensure_npm() {
    command -v npm >/dev/null && return 0
    local saved=("${REQUIRED_PACKAGES[@]}")
    REQUIRED_PACKAGES=(nodejs npm)
    ensure_packages
    REQUIRED_PACKAGES=("${saved[@]}")
}

# The console (spa/) builds with Vite 8, which needs Node.js ^20.19 or >= 22.12.
SPA_NODE_RANGE="^20.19.0 || >=22.12.0"

# Builds spa/dist when anything it is built from changed since the last build (the inputs' hash is kept in
# spa/.dist-inputs, outside what pulsed serves): npm ci when the lock file changed, then the type check, the
# bundle and its size budget (spa/package.json "build").
build_spa() {
    ensure_npm
    node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)||(a===20&&b>=19)?0:1)' ||
        die "the console needs Node.js $SPA_NODE_RANGE to build, and this machine has $(node --version): install a newer Node.js (for example from nodejs.org or NodeSource), then run this again"
    local spa="$PULSE_ROOT/spa" inputs
    inputs="$(cd "$PULSE_ROOT" && find spa/src spa/public spa/scripts spa/index.html spa/package-lock.json spa/vite.config.ts \
        spa/tsconfig.json docs/openapi.json -type f ! -name schema.gen.ts -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
    if [ ! -x "$spa/node_modules/.bin/vite" ] || [ "$spa/package-lock.json" -nt "$spa/node_modules/.package-lock.json" ]; then
        log "installing the console's packages (npm ci)"
        (cd "$spa" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in spa/"
    fi
    if [ -f "$spa/dist/index.html" ] && [ -f "$spa/.dist-inputs" ] && [ "$(cat "$spa/.dist-inputs")" = "$inputs" ]; then
        log "the console (spa/dist) is current"
        return 0
    fi
    log "building the console (spa/dist)"
    (cd "$spa" && npm run --silent build) || die "the console's build failed"
    echo "$inputs" >"$spa/.dist-inputs"
}

log() { printf '\033[1m[pulse]\033[0m %s\n' "$*" >&2; }
die() { printf '[pulse] error: %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages that are missing. System services that packages would start (a
# PostgreSQL "main" cluster, mosquitto, prometheus) are kept from starting: Pulse runs its own.
ensure_packages() {
    local missing=() p
    for p in "${REQUIRED_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}) and not root"
        sudo="sudo"
    fi
    $sudo mkdir -p /etc/postgresql-common
    [ -f /etc/postgresql-common/createcluster.conf ] ||
        echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
    local policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
        >/tmp/pulse-apt.log 2>&1 || { tail -20 /tmp/pulse-apt.log >&2; die "apt-get install failed (log: /tmp/pulse-apt.log)"; }
    [ $policy_added -eq 1 ] && $sudo rm -f /usr/sbin/policy-rc.d
    return 0
}

# configure_and_build <build-dir> <build-type> [extra cmake args...]
configure_and_build() {
    local dir="$1" type="$2"
    shift 2
    mkdir -p "$dir"
    cmake -S "$PULSE_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >"$dir/configure.log" 2>&1 ||
        { cat "$dir/configure.log" >&2; die "cmake configure failed"; }
    cmake --build "$dir" -j "$(nproc)" || die "build failed"
}

random_secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

as_user() {  # as_user <user> <command...>: root drops to the service user; others run as themselves
    local user="$1"
    shift
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

wait_for_port() {  # wait_for_port <port> <seconds>
    local port="$1" deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

# A directory a service user can write. When the checkout is not reachable by that user (for example
# under /root), the real directory lives under /var/tmp and the state directory holds a symlink.
service_dir() {  # service_dir <path> <user>
    local path="$1" user="$2"
    if [ "$(id -u)" -ne 0 ]; then
        mkdir -p "$path"
        return
    fi
    if [ ! -e "$path" ]; then
        mkdir -p "$path"
        chown "$user:" "$path"
        if ! runuser -u "$user" -- test -w "$path"; then
            rmdir "$path"
            local real
            real="/var/tmp/pulse-$(echo "$path" | cksum | cut -d' ' -f1)-$(basename "$path")"
            mkdir -p "$real"
            chown "$user:" "$real"
            ln -s "$real" "$path"
        fi
    fi
    chown -R "$user:" "$(readlink -f "$path")"
}

# ---- the stack: STACK_DIR, PG_PORT and MQTT_PORT select an instance ---------------------------------

stack_env() {  # stack_env <state-dir> <pg-port> <mqtt-port>
    mkdir -p "$1"
    STACK_DIR="$(cd "$1" && pwd)"
    PG_PORT="$2"
    MQTT_PORT="$3"              # the device listener
    MQTT_INGEST_PORT=$((MQTT_PORT + 1))  # the service listener, for Pulse's ingest account only
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$PG_BIN" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    PGDATA_DIR="$STACK_DIR/pg/data"
    PG_SOCKET_DIR="$STACK_DIR/pg/run"
    MQTT_DIR="$STACK_DIR/mqtt"
    SECRETS="$STACK_DIR/secrets.env"
    chmod 755 "$STACK_DIR"
    if [ ! -f "$SECRETS" ]; then
        umask 077
        cat >"$SECRETS" <<EOF
PG_OWNER_PASSWORD=$(random_secret)
PG_APP_PASSWORD=$(random_secret)
MQTT_INGEST_PASSWORD=$(random_secret)
DEMO_PASSWORD=demo-$(random_secret | cut -c1-12)
EOF
        umask 022
    fi
    # The key that seals notification channel secrets in the database (secrets.key_file).
    if [ ! -f "$STACK_DIR/secrets.key" ]; then
        (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$STACK_DIR/secrets.key")
    fi
    PULSE_SECRETS_KEY_FILE="$STACK_DIR/secrets.key"
    # shellcheck disable=SC1090
    source "$SECRETS"
    PULSE_DB_URI="host=127.0.0.1 port=$PG_PORT dbname=pulse user=pulse_app password=$PG_APP_PASSWORD"
    PULSE_DB_MIGRATE_URI="host=127.0.0.1 port=$PG_PORT dbname=pulse user=pulse_owner password=$PG_OWNER_PASSWORD"
    # pulsed keeps the broker's password file in step with the device credentials, and the MQTT ingest
    # plugin reads the broker address and its password from the environment (plugins.d/ingest_mqtt).
    PULSE_MQTT_PASSWORD_FILE="$MQTT_DIR/passwd"
    PULSE_MQTT_PASSWORD_BASE_FILE="$MQTT_DIR/passwd.base"
    PULSE_MQTT_BROKER_PID_FILE="$MQTT_DIR/mosquitto.pid"
    PULSE_MQTT_URI="tcp://127.0.0.1:$MQTT_INGEST_PORT"
    PULSE_MQTT_DEVICE_URI="tcp://127.0.0.1:$MQTT_PORT"  # where devices (and fleet_sim) connect
    PULSE_MQTT_INGEST_PASSWORD="$MQTT_INGEST_PASSWORD"
    export PULSE_DB_URI PULSE_DB_MIGRATE_URI PULSE_MQTT_PASSWORD_FILE PULSE_MQTT_PASSWORD_BASE_FILE \
        PULSE_MQTT_BROKER_PID_FILE PULSE_MQTT_URI PULSE_MQTT_DEVICE_URI PULSE_MQTT_INGEST_PASSWORD PULSE_SECRETS_KEY_FILE
    # For running pulsed by hand against this stack: . var/pulse.env
    (umask 077 && for v in PULSE_DB_URI PULSE_DB_MIGRATE_URI PULSE_MQTT_PASSWORD_FILE PULSE_MQTT_PASSWORD_BASE_FILE \
        PULSE_MQTT_BROKER_PID_FILE PULSE_MQTT_URI PULSE_MQTT_DEVICE_URI PULSE_MQTT_INGEST_PASSWORD \
        PULSE_SECRETS_KEY_FILE; do
        printf "export %s='%s'\n" "$v" "${!v}"
    done >"$STACK_DIR/pulse.env")
}

pg_running() { [ -f "$PGDATA_DIR/postmaster.pid" ] && as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; }

pg_start() {
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        mkdir -p "$STACK_DIR/pg"
        chmod 755 "$STACK_DIR/pg"
        service_dir "$PGDATA_DIR" postgres
        service_dir "$PG_SOCKET_DIR" postgres
        log "initialising PostgreSQL in $PGDATA_DIR"
        as_user postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$STACK_DIR/pg/initdb.log" 2>&1 ||
            { cat "$STACK_DIR/pg/initdb.log" >&2; die "initdb failed"; }
    fi
    service_dir "$PG_SOCKET_DIR" postgres
    if ! pg_running; then
        as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_SOCKET_DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
            { tail -20 "$PGDATA_DIR/postgres.log" >&2; die "PostgreSQL did not start"; }
    fi
    pg_provision
}

pg_psql() {  # superuser psql over the private socket
    as_user postgres psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres "$@"
}

# The schema owner (migrations) and the application role (owns nothing, cannot bypass RLS).
pg_provision() {
    pg_psql -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pulse_owner') THEN CREATE ROLE pulse_owner LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pulse_app') THEN CREATE ROLE pulse_app LOGIN; END IF;
END \$\$;
ALTER ROLE pulse_owner LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS PASSWORD '$PG_OWNER_PASSWORD';
ALTER ROLE pulse_app LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS PASSWORD '$PG_APP_PASSWORD';
SELECT 'CREATE DATABASE pulse OWNER pulse_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'pulse')
\gexec
REVOKE ALL ON DATABASE pulse FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE pulse TO pulse_app;
SQL
}

pg_stop() {
    if pg_running; then as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null; fi
}

mqtt_running() { [ -f "$MQTT_DIR/mosquitto.pid" ] && kill -0 "$(cat "$MQTT_DIR/mosquitto.pid")" 2>/dev/null; }

# Mosquitto with persistence, no anonymous access, a service account for pulsed and per-device ACL patterns.
mqtt_start() {
    mkdir -p "$MQTT_DIR"
    service_dir "$MQTT_DIR/data" mosquitto
    local conf="$MQTT_DIR/mosquitto.conf"
    # The broker's budget plugin, built here because the broker starts before (and without) Pulse's build.
    local plugin_src="$PULSE_ROOT/plugins/mosquitto_budget/mosquitto_budget.cpp"
    if [ ! -f "$MQTT_DIR/mosquitto_budget.so" ] || [ "$plugin_src" -nt "$MQTT_DIR/mosquitto_budget.so" ]; then
        g++ -std=c++20 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$MQTT_DIR/mosquitto_budget.so" "$plugin_src" ||
            die "the broker budget plugin did not build"
    fi
    sed -e "s|@PORT@|$MQTT_PORT|g" -e "s|@INGEST_PORT@|$MQTT_INGEST_PORT|g" -e "s|@DIR@|$(readlink -f "$MQTT_DIR")|g" \
        -e "s|@DEVICE_MESSAGES_PER_S@|${PULSE_BROKER_DEVICE_MESSAGES_PER_S:-1000}|" \
        -e "s|@DEVICE_BURST@|${PULSE_BROKER_DEVICE_BURST:-10000}|" \
        -e "s|@TENANT_MESSAGES_PER_S@|${PULSE_BROKER_TENANT_MESSAGES_PER_S:-50000}|" \
        -e "s|@TENANT_BURST@|${PULSE_BROKER_TENANT_BURST:-200000}|" \
        "$PULSE_ROOT/etc/mosquitto/mosquitto.conf.in" >"$conf"
    cp "$PULSE_ROOT/etc/mosquitto/acl" "$MQTT_DIR/acl"
    cp "$PULSE_ROOT/etc/mosquitto/acl.ingest" "$MQTT_DIR/acl.ingest"
    # The service listener's only account is the ingest service's. The device listener's file is
    # pulsed's: passwd = passwd.base (accounts Pulse does not manage; none here) + device accounts.
    rm -f "$MQTT_DIR/passwd.ingest"
    (umask 077 && touch "$MQTT_DIR/passwd.ingest" && : >"$MQTT_DIR/passwd.base")
    mosquitto_passwd -b "$MQTT_DIR/passwd.ingest" pulse-ingest "$MQTT_INGEST_PASSWORD" 2>/dev/null
    [ -f "$MQTT_DIR/passwd" ] || (umask 077 && cp "$MQTT_DIR/passwd.base" "$MQTT_DIR/passwd")
    if [ "$(id -u)" -eq 0 ]; then
        chown mosquitto: "$MQTT_DIR/passwd" "$MQTT_DIR/passwd.ingest" "$MQTT_DIR/acl" "$MQTT_DIR/acl.ingest" "$conf"
    fi
    if ! mqtt_running; then
        nohup mosquitto -c "$conf" >>"$MQTT_DIR/mosquitto.out" 2>&1 &
        echo $! >"$MQTT_DIR/mosquitto.pid"
    fi
    wait_for_port "$MQTT_PORT" 20 && wait_for_port "$MQTT_INGEST_PORT" 20 ||
        { tail -20 "$MQTT_DIR/data/mosquitto.log" "$MQTT_DIR/mosquitto.out" >&2; die "Mosquitto did not start"; }
}

mqtt_stop() {
    if mqtt_running; then
        local pid
        pid="$(cat "$MQTT_DIR/mosquitto.pid")"
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$MQTT_DIR/mosquitto.pid"
}

stack_up() { pg_start; mqtt_start; }
stack_down() { mqtt_stop; pg_stop; }
