#!/usr/bin/env bash
# Real Apache RocketMQ clusters for tests, built from Maven Central jars.
#
# Resolves the name server, broker and tools jars with Maven into a cache, starts
# `java -cp 'lib/*' ...Startup` directly (the distribution's shell scripts pass JVM options
# JDK 17 rejects), waits until every broker is registered at the name server, and stops
# everything again.  Run `rmq.sh help` for the usage.
set -euo pipefail

SCRIPT_PATH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname "$SCRIPT_PATH")
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
ORACLE_SRC=$REPO_ROOT/tests/java-oracle

DEFAULT_VERSION=${RMQ_DEFAULT_VERSION:-5.3.3}
CACHE=${RMQ_CACHE:-$HOME/.cache/rocketmq-ons}
START_TIMEOUT=${RMQ_START_TIMEOUT:-180}
STOP_TIMEOUT=${RMQ_STOP_TIMEOUT:-30}
if [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
MVN=${MVN:-mvn}
DIR=  # the cluster directory; never taken from the environment

# JDK 9+ module flags for the servers' direct/mapped buffer cleaning (reflection into java.nio and
# jdk.internal.ref). JDK 8 rejects them, so they are added only when the JVM is 9 or newer.
JDK17_FLAGS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
)
NAMESRV_JVM=(-Xms256m -Xmx256m -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow)
BROKER_JVM=(-Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxDirectMemorySize=1g -XX:-OmitStackTraceInFastThrow)
TOOLS_JVM=(-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)

usage() {
  cat <<EOF
rmq.sh — run a real Apache RocketMQ cluster (jars from Maven Central) for tests

Usage:
  rmq.sh fetch [VERSION]
      Resolve rocketmq-namesrv, -broker and -tools VERSION (default $DEFAULT_VERSION) with Maven
      into \$RMQ_CACHE/rocketmq-VERSION/lib (RMQ_CACHE defaults to ~/.cache/rocketmq-ons).
  rmq.sh start [--dir DIR] [START OPTIONS]
      Start a name server and 1 or 2 brokers on 127.0.0.1; wait until every broker is
      registered; write DIR/env (export NAMESRV_ADDR=..., BROKER_A_ADDR=..., ...).
      DIR defaults to <repo>/.rmq/cluster. Old name-server and broker state in DIR is wiped.
      Progress goes to stderr; stdout stays empty. \`source DIR/env\` works.
  rmq.sh stop [--dir DIR] [--purge] [--kill]
      Stop everything started in DIR (TERM, then KILL after \$RMQ_STOP_TIMEOUT=$STOP_TIMEOUT s).
      Idempotent. --purge also deletes DIR. --kill sends KILL at once (throw-away clusters).
  rmq.sh broker [--dir DIR] stop|kill|start NAME
      One broker (broker-a, broker-b, a slave broker-a-s, broker-b-s, or with --controller a
      replica broker-a-0, broker-a-1, broker-a-2) of a running cluster, for fault tests: stop = TERM and
      wait (KILL after \$RMQ_STOP_TIMEOUT); kill = KILL at once (a crash); start = launch it
      again with its previous configuration, JVM options and store, and wait until the name
      server lists it again.
  rmq.sh status [--dir DIR]
      Print DIR/env and which processes are alive (exit 1 if none).
  rmq.sh run [--dir DIR] [START OPTIONS] -- COMMAND [ARGS...]
      start, run COMMAND with NAMESRV_ADDR, ONS_TEST_NAMESRV, ONS_TEST_BROKER_VERSION, ...
      exported (see DIR/env), stop (also on failure or Ctrl-C); exits with COMMAND's status.
      Without --dir a fresh temporary directory is used and deleted afterwards.
  rmq.sh mqadmin [--version V] [--dir DIR] -- ARGS...
      Run org.apache.rocketmq.tools.command.MQAdminStartup ARGS. With --dir, the version,
      NAMESRV_ADDR (so -n may be left out), TLS and ACL credentials of that cluster are used.
      Example: rmq.sh mqadmin --dir D -- updateTopic -c DefaultCluster -t T -r 8 -w 8
  rmq.sh oracle [--client-version V] [--dir DIR] -- ARGS...
      Build (once, cached) and run the Java-client oracle in tests/java-oracle (JVM options:
      ORACLE_JAVA_OPTS, default a fast-starting small heap for tests). With --dir,
      --namesrv/TLS/ACL options of that cluster are appended unless ARGS give them.
      See tests/java-oracle/README.md for its subcommands (send, consume, view).
  rmq.sh plain-probe HOST:PORT
      Send GET_BROKER_CLUSTER_INFO over plain TCP; print the reply body; exit 1 if no reply.

START OPTIONS:
  --version V              RocketMQ version (default $DEFAULT_VERSION; 4.9.x also works)
  --namesrv-port P         default 19876; 'auto' picks free ports for everything
  --broker-port P          broker-a listenPort, default 20911 (also uses P-2 and P+1)
  --broker-b-port P        broker-b listenPort, default broker-port+1000
  --auto-ports             pick free ports for name server and brokers
  --brokers 1|2            one broker (broker-a) or two (broker-a, broker-b), default 1
  --slaves                 each broker gets a slave (broker-a-s, broker-b-s: brokerId 1, role
                           SLAVE, listenPort = its master's + 8); BROKER_A_S_ADDR etc. in env
  --controller             5.x controller mode: the name server runs an embedded controller
                           (DLedger, on the name-server port + 1, CONTROLLER_ADDR in env) and
                           broker-a is a set of 3 brokers (broker-a-0, -1, -2: listenPort =
                           broker-port, +8, +12; enableControllerMode, brokerId assigned by the
                           controller, allAckInSyncStateSet) whose master the controller elects,
                           and elects again from the sync state set when the master dies.
                           BROKER_A_0_ADDR etc. in env. broker-b (--brokers 2) stays a plain
                           master. Not with --slaves.
  --broker-conf KEY=VALUE  extra broker.conf line (repeatable; later lines win)
  --broker-jvm-opt OPT     extra broker JVM option (repeatable)
  --namesrv-jvm-opt OPT    extra name-server JVM option (repeatable)
  --acl                    5.3+: ACL 2.0, super user rocketmq/12345678;
                           older: ACL 1.0 (aclEnable) with account rocketmq2/12345678 (admin)
  --tls                    generate a test CA + server cert in DIR/tls and run name server and
                           brokers with tls.server.mode=enforcing (plain TCP is refused)
  --watch-pid PID          stop the cluster (and with --purge delete DIR) once PID has exited
  --purge                  with --watch-pid: delete DIR after the watchdog stopped the cluster
  --timeout SECONDS        start timeout (default \$RMQ_START_TIMEOUT=$START_TIMEOUT)

Environment: RMQ_CACHE, RMQ_START_TIMEOUT, RMQ_STOP_TIMEOUT, JAVA_HOME, MVN,
  RMQ_STORE=auto|tmpfs|disk (where broker stores live, default auto: see "Broker stores" in
  the script), RMQ_TMPFS_DIR (the tmpfs for them, default /dev/shm).
EOF
}

die() { echo "rmq.sh: $*" >&2; exit 1; }
log() { echo "rmq.sh: $*" >&2; }

java_major() {
  local v
  v=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
  [[ -n $v ]] || die "cannot run '$JAVA' (set JAVA_HOME or put java on PATH)"
  if [[ $v == 1.* ]]; then v=${v#1.}; fi
  echo "${v%%[.-]*}"
}

jvm_base_flags() {
  # RMQ_NO_JDK_FLAGS=1 leaves them out (to see what breaks without them).
  if [[ ${RMQ_NO_JDK_FLAGS:-0} != 1 ]] && (($(java_major) >= 9)); then printf '%s\n' "${JDK17_FLAGS[@]}"; fi
}

# version_ge A B: A >= B for dotted numeric versions
version_ge() {
  [[ $(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1) == "$2" ]]
}

#################################################################################### fetch

lib_dir() { echo "$CACHE/rocketmq-$1/lib"; }

cmd_fetch() {
  local v=${1:-$DEFAULT_VERSION}
  [[ $v =~ ^[0-9A-Za-z.-]+$ ]] || die "bad version '$v'"
  local home=$CACHE/rocketmq-$v
  if [[ -f $home/lib/.complete ]]; then echo "$home/lib"; return 0; fi
  command -v "$MVN" >/dev/null || die "Maven ('$MVN') is needed to fetch RocketMQ $v"
  mkdir -p "$home"
  (
    flock 9
    if [[ -f $home/lib/.complete ]]; then exit 0; fi
    log "resolving RocketMQ $v (namesrv, broker, tools) with Maven into $home/lib"
    cat >"$home/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by tests/harness/rmq.sh: throw-away pom to pull the RocketMQ $v server jars -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.rmq-harness</groupId>
  <artifactId>rocketmq-server-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-namesrv</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-broker</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.rocketmq</groupId><artifactId>rocketmq-tools</artifactId><version>$v</version></dependency>
  </dependencies>
</project>
EOF
    rm -rf "$home/lib.tmp"
    if ! "$MVN" -q -B -f "$home/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$home/lib.tmp" >"$home/fetch.log" 2>&1; then
      tail -n 30 "$home/fetch.log" >&2
      die "Maven could not resolve RocketMQ $v (log: $home/fetch.log). Known to resolve from Maven Central here: 5.3.3 and 4.9.7 (4.9.8 and 5.3.4 jars are not served)"
    fi
    ls "$home/lib.tmp"/rocketmq-broker-*.jar >/dev/null 2>&1 || die "no broker jar for $v"
    touch "$home/lib.tmp/.complete"
    rm -rf "${home:?}/lib"
    mv "$home/lib.tmp" "$home/lib"
  ) 9>"$home/.lock"
  echo "$home/lib"
}

# 4.x servers and the tools read logback configs from $ROCKETMQ_HOME/conf (the distribution
# ships them; Maven jars do not). 5.x servers carry theirs in the jars but read these names too.
write_logback_confs() {
  local conf=$1 name
  mkdir -p "$conf"
  for name in namesrv broker; do
    cat >"$conf/logback_$name.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>\${user.home}/logs/rocketmqlogs/$name.log</file>
    <append>true</append>
    <encoder><pattern>%d{yyy-MM-dd HH:mm:ss,SSS} %-5p [%t] %c{0} - %m%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
  done
  cat >"$conf/logback_tools.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5p %c{0} - %m%n</pattern></encoder>
  </appender>
  <root level="ERROR"><appender-ref ref="STDERR"/></root>
</configuration>
EOF
  # 5.x tools and clients use a shaded logback that reads -Drmq.logback.configurationFile; without
  # it they pick a server config from the classpath and print its status lines to stdout.
  sed -e 's/class="ch\.qos\.logback\./class="org.apache.rocketmq.logging.ch.qos.logback./' \
    "$conf/logback_tools.xml" >"$conf/rmq_logback_stderr.xml"
}

#################################################################################### ports

port_in_use() {
  # A listener (any address) on the port, or anything answering on 127.0.0.1.
  if command -v ss >/dev/null; then
    ss -Htan "sport = :$1" 2>/dev/null | grep -q . && return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

ports_free() {
  local p
  for p in "$@"; do
    if port_in_use "$p"; then return 1; fi
  done
  return 0
}

# Picks a base below the ephemeral range; name server = base (its controller base+1),
# broker-a = base+5 (uses
# base+3, base+5, base+6), broker-b = base+9 (base+7, base+9, base+10).
pick_ports() {
  local lo=20000 hi=32000 base i
  if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
    read -r e_lo _ </proc/sys/net/ipv4/ip_local_port_range
    ((e_lo > 21000)) && hi=$((e_lo - 20))
  fi
  for ((i = 0; i < 50; i++)); do
    base=$((lo + (RANDOM * 32768 + RANDOM) % ((hi - lo) / 20) * 20))
    # broker-a uses base+3,5,6, broker-b base+7,9,10; their slaves (--slaves) the same +8;
    # the --controller replicas of broker-a those of the slaves, the controller base+1.
    if ports_free "$base" $((base + 1)) $((base + 3)) $((base + 5)) $((base + 6)) $((base + 7)) $((base + 9)) $((base + 10)) \
      $((base + 11)) $((base + 13)) $((base + 14)) $((base + 15)) $((base + 17)) $((base + 18)); then
      NAMESRV_PORT=$base
      BROKER_PORT=$((base + 5))
      BROKER_B_PORT=$((base + 9))
      return 0
    fi
  done
  die "could not find free ports in $lo..$hi"
}

#################################################################################### probing

# A remoting request frame with a JSON header and no body.
request_frame() {
  local code=$1
  local hdr="{\"code\":$code,\"flag\":0,\"language\":\"JAVA\",\"opaque\":1,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":399}"
  # total length (4 + header) and header length with serialize type 0 (JSON) in the top byte
  be32 $((4 + ${#hdr}))
  be32 $((${#hdr} & 0xffffff))
  printf '%s' "$hdr"
}

be32() {
  printf '%b' "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"
}

# GET_BROKER_CLUSTER_INFO (106) over plain TCP; prints the raw reply (header + body).
plain_cluster_info() {
  local host=${1%:*} port=${1##*:}
  # shellcheck disable=SC2016 # the inner script is expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    cat >&3
    len=$(dd bs=1 count=4 <&3 2>/dev/null | od -An -tu1 | awk "{print (\$1*16777216)+(\$2*65536)+(\$3*256)+\$4}")
    [[ -n $len && $len -gt 0 ]] || exit 1
    dd bs="$len" count=1 iflag=fullblock <&3 2>/dev/null
  ' _ "$host" "$port" < <(request_frame 106)
}

# The same through TLS (openssl s_client), trusting CA file $2.
tls_cluster_info() {
  local addr=$1 ca=$2
  { request_frame 106; sleep 1.5; } |
    timeout 6 openssl s_client -quiet -no_ign_eof -connect "$addr" -CAfile "$ca" 2>/dev/null || true
}

cluster_info() {
  if [[ ${TLS:-0} == 1 ]]; then tls_cluster_info "$1" "$DIR/tls/ca.pem"; else plain_cluster_info "$1"; fi
}

cmd_plain_probe() {
  [[ $# == 1 ]] || die "usage: rmq.sh plain-probe HOST:PORT"
  local out
  out=$(plain_cluster_info "$1" | tr -d '\0') || true
  [[ -n $out ]] || { echo "no reply from $1 over plain TCP" >&2; return 1; }
  printf '%s\n' "$out"
}

#################################################################################### broker stores

# Broker stores live on a tmpfs when one is writable and has room (RMQ_STORE=auto), as a
# symlink BDIR/store -> $RMQ_TMPFS_DIR/rocketmq-ons-store.XXXXXX. A broker refuses every write
# ("service not available now ... disk is full") once its store's partition is more than 90%
# used: 5.x reads diskSpaceWarningLevelRatio and clamps it at 0.90 (DefaultMessageStore's
# CleanCommitLogService.getDiskSpaceWarningLevelRatio), so no setting lifts it. A test build
# can fill a small CI disk to that point; a tmpfs store keeps the tests about the client.
# RMQ_STORE=disk keeps stores under DIR, RMQ_STORE=tmpfs insists on the tmpfs.
STORE_MODE=${RMQ_STORE:-auto}
TMPFS_DIR=${RMQ_TMPFS_DIR:-/dev/shm}
TMPFS_MIN_KB=$((4 * 1024 * 1024))  # auto takes the tmpfs only with 4 GiB free

store_on_tmpfs() {
  case $STORE_MODE in
    disk) return 1 ;;
    tmpfs) [[ -d $TMPFS_DIR && -w $TMPFS_DIR ]] || die "RMQ_STORE=tmpfs but $TMPFS_DIR is not a writable directory"; return 0 ;;
    auto)
      [[ -d $TMPFS_DIR && -w $TMPFS_DIR ]] || return 1
      [[ $(stat -f -c %T "$TMPFS_DIR" 2>/dev/null) == tmpfs ]] || return 1
      local avail
      avail=$(df -Pk "$TMPFS_DIR" | awk 'NR == 2 {print $4}')
      [[ $avail =~ ^[0-9]+$ ]] && ((avail >= TMPFS_MIN_KB)) ;;
    *) die "RMQ_STORE must be auto, tmpfs or disk (not '$STORE_MODE')" ;;
  esac
}

# make_store BDIR: a fresh, empty BDIR/store (on the tmpfs or in BDIR).
make_store() {
  local bdir=$1
  remove_store "$bdir"
  if store_on_tmpfs; then
    local t
    t=$(mktemp -d "$TMPFS_DIR/rocketmq-ons-store.XXXXXX")
    echo "$bdir" >"$t/.rmq-harness-owner"
    ln -s "$t" "$bdir/store"
  else
    mkdir -p "$bdir/store"
    local used
    used=$(df -P "$bdir/store" | awk 'NR == 2 {sub("%", "", $5); print $5}')
    if [[ $used =~ ^[0-9]+$ ]] && ((used >= 85)); then
      log "warning: the partition of $bdir/store is ${used}% used; brokers refuse writes above 90%"
    fi
  fi
}

# remove_store BDIR: delete BDIR/store, and the tmpfs store it links to.
remove_store() {
  local s=$1/store
  if [[ -L $s ]]; then
    local t
    t=$(readlink "$s")
    if [[ -f $t/.rmq-harness-owner ]]; then rm -rf "$t"; fi
    rm -f "$s"
  elif [[ -e $s ]]; then
    rm -rf "$s"
  fi
}

# Tmpfs stores whose owner no longer links to them (a cluster directory deleted without
# `rmq.sh stop --purge`, a killed test) hold memory: free them.
reap_orphan_stores() {
  local t owner
  for t in "$TMPFS_DIR"/rocketmq-ons-store.*; do
    [[ -f $t/.rmq-harness-owner ]] || continue
    owner=$(cat "$t/.rmq-harness-owner")
    if [[ ! -L $owner/store || $(readlink "$owner/store") != "$t" ]]; then rm -rf "$t"; fi
  done
}

#################################################################################### start

# The broker set (brokerName) of broker process NAME: broker-a-s and broker-a-0 -> broker-a.
set_of() {
  local n=${1%-s}
  echo "${n%-[0-9]}"
}

# A replica of a controller-mode set (--controller): broker-a-0, broker-a-1, broker-a-2.
is_replica() { [[ $1 =~ ^broker-[ab]-[0-9]$ ]]; }

# write_broker_conf NAME PORT FILE BDIR: NAME is broker-a or broker-b (a master), or
# broker-a-s / broker-b-s: the slave (brokerId 1) of broker-a / broker-b, which finds its
# master's HA address through the name server, or broker-a-N: a replica of a controller-mode
# set (docs/en/controller/deploy.md and distribution/conf/controller/quick-start in
# apache/rocketmq 5.3.3): it starts as a SLAVE without a brokerId, gets a brokerId from the
# controller and takes the role the controller gives it (the master registers as brokerId 0).
write_broker_conf() {
  local name=$1 port=$2 f=$3 bdir=$4
  local broker_name broker_id=0 role=ASYNC_MASTER
  broker_name=$(set_of "$name")
  if [[ $name == *-s ]]; then broker_id=1; role=SLAVE; fi
  if is_replica "$name"; then broker_id=-1; role=SLAVE; fi
  {
    echo "# generated by tests/harness/rmq.sh"
    echo "brokerClusterName = DefaultCluster"
    echo "brokerName = $broker_name"
    echo "brokerId = $broker_id"
    echo "namesrvAddr = 127.0.0.1:$NAMESRV_PORT"
    echo "listenPort = $port"
    echo "brokerIP1 = 127.0.0.1"
    echo "rocketmqHome = $bdir/home"
    echo "storePathRootDir = $bdir/store"
    echo "storePathCommitLog = $bdir/store/commitlog"
    echo "brokerRole = $role"
    echo "flushDiskType = ASYNC_FLUSH"
    echo "mappedFileSizeCommitLog = 134217728"
    echo "autoCreateTopicEnable = true"
    echo "autoCreateSubscriptionGroup = true"
    if [[ $MAJOR -ge 5 ]]; then
      echo "timerWheelEnable = true"
    fi
    if is_replica "$name"; then
      echo "enableControllerMode = true"
      echo "controllerAddr = 127.0.0.1:$CONTROLLER_PORT"
      # A send is acknowledged once every broker of the sync state set has it, so a master
      # elected from that set holds every acknowledged message.
      echo "allAckInSyncStateSet = true"
    fi
    if [[ $ACL == 1 ]]; then
      if acl2; then
        echo "authenticationEnabled = true"
        echo "authenticationProvider = org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider"
        echo "authenticationMetadataProvider = org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider"
        echo "authorizationEnabled = true"
        echo "authorizationProvider = org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider"
        echo "authorizationMetadataProvider = org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider"
        echo "initAuthenticationUser = {\"username\":\"$ACL_AK\",\"password\":\"$ACL_SK\"}"
        echo "innerClientAuthenticationCredentials = {\"accessKey\":\"$ACL_AK\",\"secretKey\":\"$ACL_SK\"}"
      else
        echo "aclEnable = true"
      fi
    fi
    local kv
    for kv in "${EXTRA_CONF[@]+"${EXTRA_CONF[@]}"}"; do
      echo "${kv%%=*} = ${kv#*=}"
    done
  } >"$f"
}

# The env variable holding broker NAME's address: broker-a -> BROKER_A_ADDR, broker-a-s ->
# BROKER_A_S_ADDR, broker-a-0 -> BROKER_A_0_ADDR.
name_var() {
  local up=${1^^}
  echo "${up//-/_}_ADDR"
}

acl2() { [[ $MAJOR -ge 6 ]] || { [[ $MAJOR == 5 ]] && version_ge "$VERSION" 5.3.0; }; }

write_plain_acl() {
  cat >"$1" <<EOF
# generated by tests/harness/rmq.sh (ACL 1.0). No global white list: every request must be signed.
globalWhiteRemoteAddresses: []
accounts:
  - accessKey: $ACL_AK
    secretKey: $ACL_SK
    whiteRemoteAddress:
    admin: true
EOF
}

gen_tls() {
  local t=$DIR/tls
  command -v openssl >/dev/null || die "--tls needs openssl"
  rm -rf "$t"
  mkdir -p "$t"
  (
    cd "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 -subj "/CN=rmq-harness test CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server.key 2>/dev/null
    openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
      -extfile server.ext -out server.pem 2>/dev/null
    rm -f server.csr server.ext
  ) || die "openssl failed to create the test certificates"
  head -n1 "$t/server.key" | grep -q 'BEGIN PRIVATE KEY' || die "server key is not PKCS#8"
}

tls_server_props() {
  local t=$DIR/tls
  printf '%s\n' -Dtls.server.mode=enforcing -Dtls.test.mode.enable=false \
    "-Dtls.server.certPath=$t/server.pem" "-Dtls.server.keyPath=$t/server.key" \
    -Dtls.server.need.client.auth=none -Dtls.client.authServer=true \
    "-Dtls.client.trustCertPath=$t/ca.pem" -Dtls.enable=true
}

tls_client_props() {
  printf '%s\n' -Dtls.enable=true -Dtls.test.mode.enable=false -Dtls.client.authServer=true \
    "-Dtls.client.trustCertPath=$1/tls/ca.pem"
}

# launch NAME CLASS LOGDIR JVMOPTS... -- ARGS...
launch() {
  local name=$1 class=$2 home=$3
  shift 3
  local jvm=() args=()
  while (($#)); do
    if [[ $1 == -- ]]; then shift; args=("$@"); break; fi
    jvm+=("$1"); shift
  done
  mkdir -p "$home/home/conf"
  write_logback_confs "$home/home/conf"
  local cp
  cp="$(lib_dir "$VERSION")/*"
  # The whole command line, NUL-separated, so `rmq.sh broker start` can launch it again.
  printf '%s\0' "$home" "${jvm[@]}" "-Duser.home=$home" "-Drocketmq.home.dir=$home/home" \
    "-Drmq.harness.dir=$DIR" -cp "$cp" "$class" "${args[@]}" >"$DIR/$name.cmdline"
  launch_saved "$name"
}

# launch_saved NAME: runs the command line saved by `launch` in the background.
launch_saved() {
  local name=$1 saved=()
  mapfile -d '' -t saved <"$DIR/$name.cmdline"
  local home=${saved[0]}
  # setsid: own session, so a Ctrl-C to the caller's terminal does not hit the JVMs directly;
  # `run` and `stop` shut them down in order.
  ROCKETMQ_HOME=$home/home setsid "$JAVA" "${saved[@]:1}" </dev/null >"$home/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$DIR/$name.pid"
  log "started $name (pid $pid)"
}

tail_logs() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    echo "----- tail of $f -----" >&2
    tail -n 40 "$f" >&2 || true
  done
}

# wait_line NAME PATTERN FILE...: wait until PATTERN appears in FILE[0] while NAME's pid lives.
wait_line() {
  local name=$1 pattern=$2 file=$3
  shift 3
  local pid deadline
  pid=$(cat "$DIR/$name.pid")
  deadline=$((SECONDS + START_TIMEOUT))
  while ! grep -q -- "$pattern" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail_logs "$file" "$@"
      die "$name exited before it was ready (logs above; dir $DIR)"
    fi
    if ((SECONDS >= deadline)); then
      tail_logs "$file" "$@"
      die "$name not ready after ${START_TIMEOUT}s (logs above; dir $DIR)"
    fi
    sleep 0.2
  done
}

# wait_registered NAME [PORT]: until the name server lists broker NAME (a slave or replica:
# its address, 127.0.0.1:PORT, under its set's name).
wait_registered() {
  local name=$1 port=${2:-} deadline=$((SECONDS + START_TIMEOUT)) out
  while :; do
    out=$(cluster_info "127.0.0.1:$NAMESRV_PORT" | tr -d '\0' || true)
    if [[ $out == *"\"brokerName\":\"$(set_of "$name")\""* && ( -z $port || $out == *"127.0.0.1:$port\""* ) ]]; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      tail_logs "$DIR/$name/stdout.log" "$DIR/$name/logs/rocketmqlogs/broker.log" "$DIR/namesrv/stdout.log"
      die "$name is not listed by the name server after ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
}

any_alive() {
  local f pid
  for f in "$DIR"/*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    if is_ours "$pid"; then return 0; fi
  done
  return 1
}

# A pid is ours if it still runs with our marker (pids can be reused).
is_ours() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -r /proc/$pid/cmdline ]] || return 0
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "-Drmq.harness.dir=$DIR" && return 0
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "_watchdog" && return 0
  return 1
}

parse_start_opts() {
  VERSION=$DEFAULT_VERSION
  NAMESRV_PORT=19876
  BROKER_PORT=20911
  BROKER_B_PORT=
  AUTO_PORTS=0
  BROKERS=1
  SLAVES=0
  CONTROLLER=0
  EXTRA_CONF=()
  BROKER_OPTS=()
  NAMESRV_OPTS=()
  ACL=0
  TLS=0
  WATCH_PID=
  PURGE=0
  REST=()
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      --version) VERSION=$2; shift 2 ;;
      --namesrv-port) NAMESRV_PORT=$2; shift 2 ;;
      --broker-port) BROKER_PORT=$2; shift 2 ;;
      --broker-b-port) BROKER_B_PORT=$2; shift 2 ;;
      --auto-ports) AUTO_PORTS=1; shift ;;
      --brokers) BROKERS=$2; shift 2 ;;
      --slaves) SLAVES=1; shift ;;
      --controller) CONTROLLER=1; shift ;;
      --broker-conf) [[ $2 == *=* ]] || die "--broker-conf wants KEY=VALUE, got '$2'"
        EXTRA_CONF+=("$2"); shift 2 ;;
      --broker-jvm-opt) BROKER_OPTS+=("$2"); shift 2 ;;
      --namesrv-jvm-opt) NAMESRV_OPTS+=("$2"); shift 2 ;;
      --acl) ACL=1; shift ;;
      --tls) TLS=1; shift ;;
      --watch-pid) WATCH_PID=$2; shift 2 ;;
      --purge) PURGE=1; shift ;;
      --timeout) START_TIMEOUT=$2; shift 2 ;;
      --) shift; REST=("$@"); break ;;
      -h | --help) usage; exit 0 ;;
      *) die "unknown option '$1' (see rmq.sh help)" ;;
    esac
  done
  [[ $BROKERS == 1 || $BROKERS == 2 ]] || die "--brokers must be 1 or 2"
  [[ $NAMESRV_PORT == auto ]] && AUTO_PORTS=1
  MAJOR=${VERSION%%.*}
  [[ $MAJOR =~ ^[0-9]+$ ]] || die "bad version '$VERSION'"
  if ((CONTROLLER)); then
    ((MAJOR >= 5)) || die "--controller needs RocketMQ 5.x (controller mode came with 5.0), not $VERSION"
    ((SLAVES == 0)) || die "--controller and --slaves do not go together (the controller elects broker-a's master)"
  fi
  if ((AUTO_PORTS == 0)); then
    [[ -n $BROKER_B_PORT ]] || BROKER_B_PORT=$((BROKER_PORT + 1000))
    local p
    for p in "$NAMESRV_PORT" "$BROKER_PORT" "$BROKER_B_PORT"; do
      if ! [[ $p =~ ^[0-9]+$ ]] || ((p <= 2 || p >= 65535)); then die "bad port '$p'"; fi
    done
  fi
  if acl2; then ACL_AK=rocketmq; else ACL_AK=rocketmq2; fi
  ACL_SK=12345678
}

cmd_start() {
  DIR=${DIR:-$REPO_ROOT/.rmq/cluster}
  parse_start_opts "$@"
  ((${#REST[@]} == 0)) || die "start takes no command (did you mean 'run'?)"
  # A failed start leaves nothing running (do_start sets LAUNCHED once it owns DIR).
  trap 'rc=$?; if ((rc != 0 && ${LAUNCHED:-0})); then cmd_stop --dir "$DIR" >&2 || true; fi; exit $rc' EXIT
  do_start
}

do_start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if any_alive; then die "a cluster is already running in $DIR (rmq.sh stop --dir $DIR)"; fi
  local t0=$SECONDS
  cmd_fetch "$VERSION" >/dev/null
  if ((AUTO_PORTS)); then pick_ports; fi
  local names=(broker-a) ports=("$BROKER_PORT")
  if ((CONTROLLER)); then
    names=(broker-a-0 broker-a-1 broker-a-2)
    ports=("$BROKER_PORT" $((BROKER_PORT + 8)) $((BROKER_PORT + 12)))
  fi
  if ((BROKERS == 2)); then names+=(broker-b); ports+=("$BROKER_B_PORT"); fi
  if ((SLAVES)); then
    names+=(broker-a-s); ports+=($((BROKER_PORT + 8)))
    if ((BROKERS == 2)); then names+=(broker-b-s); ports+=($((BROKER_B_PORT + 8))); fi
  fi
  local i p
  local need=("$NAMESRV_PORT")
  CONTROLLER_PORT=$((NAMESRV_PORT + 1))
  if ((CONTROLLER)); then need+=("$CONTROLLER_PORT"); fi
  for p in "${ports[@]}"; do need+=($((p - 2)) "$p" $((p + 1))); done
  for p in "${need[@]}"; do
    if port_in_use "$p"; then die "port $p is in use (ports needed: ${need[*]}); try --auto-ports"; fi
  done

  LAUNCHED=1
  touch "$DIR/.rmq-harness"
  reap_orphan_stores
  local bdir_old
  for bdir_old in "$DIR"/broker-*; do if [[ -d $bdir_old ]]; then remove_store "$bdir_old"; fi; done
  rm -rf "$DIR/namesrv" "$DIR"/broker-* "$DIR"/*.pid "$DIR"/*.cmdline "$DIR/env"
  mkdir -p "$DIR/namesrv"
  if ((TLS)); then gen_tls; fi

  local base=()
  mapfile -t base < <(jvm_base_flags)
  local tlsp=()
  if ((TLS)); then mapfile -t tlsp < <(tls_server_props); fi

  # name server
  printf 'listenPort=%s\nrocketmqHome=%s\nkvConfigPath=%s\nconfigStorePath=%s\n' \
    "$NAMESRV_PORT" "$DIR/namesrv/home" "$DIR/namesrv/kvConfig.json" "$DIR/namesrv/namesrv.properties" \
    >"$DIR/namesrv/namesrv.conf"
  if ((CONTROLLER)); then
    # One embedded controller (a DLedger group of one), as in distribution/conf/controller/
    # quick-start/namesrv.conf of apache/rocketmq 5.3.3; its store in DIR, with 64 MiB files
    # instead of the default 1 GiB.
    printf '%s\n' "enableControllerInNamesrv=true" "controllerDLegerGroup=group1" \
      "controllerDLegerPeers=n0-127.0.0.1:$CONTROLLER_PORT" "controllerDLegerSelfId=n0" \
      "controllerStorePath=$DIR/namesrv/controller" "mappedFileSize=67108864" \
      "enableElectUncleanMaster=false" "notifyBrokerRoleChanged=true" >>"$DIR/namesrv/namesrv.conf"
  fi
  launch namesrv org.apache.rocketmq.namesrv.NamesrvStartup "$DIR/namesrv" \
    "${base[@]}" "${NAMESRV_JVM[@]}" "${tlsp[@]+"${tlsp[@]}"}" "${NAMESRV_OPTS[@]+"${NAMESRV_OPTS[@]}"}" \
    -- -c "$DIR/namesrv/namesrv.conf"
  wait_line namesrv "boot success" "$DIR/namesrv/stdout.log" "$DIR/namesrv/logs/rocketmqlogs/namesrv.log"
  if ((CONTROLLER)); then
    wait_line namesrv "ControllerManager boot success" "$DIR/namesrv/stdout.log" "$DIR/namesrv/logs/rocketmqlogs/namesrv.log"
  fi
  log "namesrv ready after $((SECONDS - t0))s"

  # brokers
  for i in "${!names[@]}"; do
    local name=${names[$i]} bdir=$DIR/${names[$i]}
    mkdir -p "$bdir/home/conf"
    make_store "$bdir"
    write_broker_conf "$name" "${ports[$i]}" "$bdir/broker.conf" "$bdir"
    if ((ACL)) && ! acl2; then write_plain_acl "$bdir/home/conf/plain_acl.yml"; fi
    launch "$name" org.apache.rocketmq.broker.BrokerStartup "$bdir" \
      "${base[@]}" "${BROKER_JVM[@]}" "${tlsp[@]+"${tlsp[@]}"}" "${BROKER_OPTS[@]+"${BROKER_OPTS[@]}"}" \
      -- -c "$bdir/broker.conf"
  done
  for i in "${!names[@]}"; do
    local name=${names[$i]}
    wait_line "$name" "boot success" "$DIR/$name/stdout.log" "$DIR/$name/logs/rocketmqlogs/broker.log"
    log "$name booted after $((SECONDS - t0))s"
    wait_registered "$name" "${ports[$i]}"
    log "$name registered after $((SECONDS - t0))s"
  done

  if ((TLS)); then
    local out
    out=$(plain_cluster_info "127.0.0.1:$NAMESRV_PORT" | tr -d '\0' || true)
    [[ -z $out ]] || die "TLS enforcing, but the name server answered a plain TCP request"
  fi

  # `export KEY=VALUE` lines, shell-quoted where needed (printf %q), so that `source DIR/env`
  # puts them in the environment of the commands that follow.
  kv() { printf 'export %s=%q\n' "$1" "$2"; }
  {
    kv RMQ_DIR "$DIR"
    kv RMQ_VERSION "$VERSION"
    kv NAMESRV_ADDR "127.0.0.1:$NAMESRV_PORT"
    kv ONS_TEST_NAMESRV "127.0.0.1:$NAMESRV_PORT"
    kv ONS_TEST_BROKER_VERSION "$VERSION"
    kv ONS_TEST_CLUSTER DefaultCluster
    local addrs=()
    for i in "${!names[@]}"; do
      kv "$(name_var "${names[$i]}")" "127.0.0.1:${ports[$i]}"
      [[ ${names[$i]} == *-s ]] || is_replica "${names[$i]}" || addrs+=("127.0.0.1:${ports[$i]}")
    done
    # Fixed masters only: a controller-mode set's master changes (ask the name server).
    kv BROKER_ADDRS "$(IFS=,; echo "${addrs[*]}")"
    if ((CONTROLLER)); then kv CONTROLLER_ADDR "127.0.0.1:$CONTROLLER_PORT"; fi
    kv ONS_TEST_TLS "$TLS"
    if ((TLS)); then kv ONS_TEST_TLS_CA "$DIR/tls/ca.pem"; fi
    kv ONS_TEST_ACL "$ACL"
    if ((ACL)); then
      kv ONS_TEST_ACCESS_KEY "$ACL_AK"
      kv ONS_TEST_SECRET_KEY "$ACL_SK"
      if acl2; then kv ONS_TEST_ACL_VERSION 2; else kv ONS_TEST_ACL_VERSION 1; fi
    fi
  } >"$DIR/env.tmp"
  mv "$DIR/env.tmp" "$DIR/env"

  if [[ -n $WATCH_PID ]]; then start_watchdog "$WATCH_PID"; fi
  log "RocketMQ $VERSION up in $((SECONDS - t0))s: namesrv 127.0.0.1:$NAMESRV_PORT, brokers $(IFS=' '; echo "${ports[*]}") (dir $DIR; source $DIR/env)"
}

#################################################################################### watchdog

proc_starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

start_watchdog() {
  local pid=$1 st
  kill -0 "$pid" 2>/dev/null || die "--watch-pid $pid: no such process"
  st=$(proc_starttime "$pid")
  local purge=()
  ((PURGE)) && purge=(--purge)
  setsid bash "$SCRIPT_PATH" _watchdog --dir "$DIR" --pid "$pid" --starttime "$st" "${purge[@]+"${purge[@]}"}" \
    </dev/null >>"$DIR/watchdog.log" 2>&1 &
  echo $! >"$DIR/watchdog.pid"
  log "watchdog $! stops the cluster when pid $pid exits"
}

cmd_watchdog() {
  local pid='' st='' rm_dir=0
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      --pid) pid=$2; shift 2 ;;
      --starttime) st=$2; shift 2 ;;
      --purge) rm_dir=1; shift ;;
      *) die "_watchdog: bad option $1" ;;
    esac
  done
  trap 'exit 0' TERM
  while kill -0 "$pid" 2>/dev/null && [[ $(proc_starttime "$pid") == "$st" ]]; do
    sleep 1 &
    wait $! || true
  done
  echo "$(date '+%F %T') watched pid $pid is gone; stopping $DIR"
  local args=(--dir "$DIR")
  ((rm_dir)) && args+=(--purge)
  cmd_stop "${args[@]}"
}

#################################################################################### stop

cmd_stop() {
  local rm_dir=0 sig=TERM
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      --purge) rm_dir=1; shift ;;
      --kill) sig=KILL; shift ;;
      *) die "stop: unknown option '$1'" ;;
    esac
  done
  DIR=${DIR:-$REPO_ROOT/.rmq/cluster}
  [[ -d $DIR ]] || return 0
  DIR=$(cd "$DIR" && pwd)
  # The watchdog first (unless we are it), then brokers, then the name server.
  if [[ -f $DIR/watchdog.pid ]]; then
    local w
    w=$(cat "$DIR/watchdog.pid")
    if [[ $w != "$$" && $w != "${BASHPID:-$$}" ]] && is_ours "$w"; then kill -TERM "$w" 2>/dev/null || true; fi
    rm -f "$DIR/watchdog.pid"
  fi
  local f group pids=() names=()
  for group in broker namesrv; do
    pids=()
    names=()
    for f in "$DIR/$group"*.pid; do
      [[ -f $f ]] || continue
      local pid
      pid=$(cat "$f")
      if is_ours "$pid"; then
        kill "-$sig" "$pid" 2>/dev/null || true
        pids+=("$pid")
        names+=("$(basename "$f" .pid)")
      fi
    done
    local deadline=$((SECONDS + STOP_TIMEOUT)) p alive
    while :; do
      alive=()
      for p in "${pids[@]+"${pids[@]}"}"; do
        if kill -0 "$p" 2>/dev/null; then alive+=("$p"); fi
      done
      ((${#alive[@]} == 0)) && break
      if ((SECONDS >= deadline)); then
        log "killing ${alive[*]} after ${STOP_TIMEOUT}s"
        kill -KILL "${alive[@]}" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.2
    done
    ((${#names[@]} == 0)) || log "stopped ${names[*]}"
    rm -f "$DIR/$group"*.pid
  done
  if ((rm_dir)); then
    if [[ -f $DIR/.rmq-harness ]]; then
      local b
      for b in "$DIR"/broker-*; do if [[ -d $b ]]; then remove_store "$b"; fi; done
      rm -rf "$DIR"
    else log "not purging $DIR: no .rmq-harness marker"; fi
  fi
}

# stop_pid PID SIGNAL: send SIGNAL, wait until PID is gone (KILL after $STOP_TIMEOUT s).
stop_pid() {
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT))
  kill "-$2" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && is_ours "$pid"; do
    if ((SECONDS >= deadline)); then
      log "killing $pid after ${STOP_TIMEOUT}s"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
    fi
    sleep 0.1
  done
}

cmd_broker() {
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      -*) die "broker: unknown option '$1'" ;;
      *) break ;;
    esac
  done
  (($# == 2)) || die "usage: rmq.sh broker [--dir DIR] stop|kill|start NAME"
  local action=$1 name=$2
  [[ $name =~ ^broker-[ab](-s|-[0-9])?$ ]] || die "broker: NAME must be broker-a, broker-b, broker-a-s, broker-b-s or a replica broker-a-0 .. broker-a-2, got '$name'"
  DIR=${DIR:-$REPO_ROOT/.rmq/cluster}
  [[ -f $DIR/env && -f $DIR/$name.cmdline ]] || die "no $name of a cluster in $DIR"
  DIR=$(cd "$DIR" && pwd)
  local pid=''
  [[ -f $DIR/$name.pid ]] && pid=$(cat "$DIR/$name.pid")
  case $action in
    stop | kill)
      if is_ours "$pid"; then
        if [[ $action == kill ]]; then stop_pid "$pid" KILL; else stop_pid "$pid" TERM; fi
        log "${action/stop/stopp}ed $name (pid $pid)"
      else
        log "$name is not running"
      fi
      ;;
    start)
      if is_ours "$pid"; then die "$name is already running (pid $pid)"; fi
      local ns
      ns=$(read_env_var "$DIR" NAMESRV_ADDR)
      NAMESRV_PORT=${ns##*:}
      TLS=$(read_env_var "$DIR" ONS_TEST_TLS)
      VERSION=$(read_env_var "$DIR" RMQ_VERSION)
      local t0=$SECONDS
      launch_saved "$name"
      wait_line "$name" "boot success" "$DIR/$name/stdout.log" "$DIR/$name/logs/rocketmqlogs/broker.log"
      local port
      port=$(read_env_var "$DIR" "$(name_var "$name")")
      wait_registered "$name" "${port##*:}"
      log "$name registered again after $((SECONDS - t0))s"
      ;;
    *) die "broker: action must be stop, kill or start, got '$action'" ;;
  esac
}

cmd_status() {
  while (($#)); do
    case $1 in
      --dir) DIR=$2; shift 2 ;;
      *) die "status: unknown option '$1'" ;;
    esac
  done
  DIR=${DIR:-$REPO_ROOT/.rmq/cluster}
  [[ -d $DIR ]] || { echo "no cluster dir $DIR"; return 1; }
  DIR=$(cd "$DIR" && pwd)
  [[ -f $DIR/env ]] && cat "$DIR/env"
  local f any=1
  for f in "$DIR"/*.pid; do
    [[ -f $f ]] || continue
    if is_ours "$(cat "$f")"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"; any=0
    else echo "$(basename "$f" .pid): dead"; fi
  done
  return $any
}

#################################################################################### run

cmd_run() {
  local tmp=0
  parse_start_opts "$@"
  ((${#REST[@]} > 0)) || die "run needs -- COMMAND"
  if [[ -z ${DIR:-} ]]; then
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/rmq-run.XXXXXX")
    tmp=1
  fi
  local stop_args=(--dir "$DIR")
  ((tmp)) && stop_args+=(--purge)
  # shellcheck disable=SC2064
  trap "cmd_stop ${stop_args[*]@Q}" EXIT
  CHILD=
  # On a signal: pass it on to COMMAND as TERM, then the EXIT trap stops the cluster.
  trap 'if [[ -n $CHILD ]]; then kill -TERM "$CHILD" 2>/dev/null; fi; exit 130' INT
  trap 'if [[ -n $CHILD ]]; then kill -TERM "$CHILD" 2>/dev/null; fi; exit 143' TERM
  do_start >/dev/null
  set -a
  # shellcheck disable=SC1091
  source "$DIR/env"
  set +a
  # In the background + wait, so that a signal sent to this script alone is handled at once
  # (bash defers traps while a foreground child runs); <&0 keeps the caller's stdin.
  local rc=0
  "${REST[@]}" <&0 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=
  exit "$rc"
}

#################################################################################### mqadmin

# shellcheck disable=SC1091
read_env_var() { (set +u; source "$1/env" >/dev/null 2>&1 && printf '%s' "${!2:-}"); }

cmd_mqadmin() {
  local v='' dir=''
  while (($#)); do
    case $1 in
      --version) v=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  local props=() home
  if [[ -n $dir ]]; then
    [[ -f $dir/env ]] || die "no cluster env in $dir"
    dir=$(cd "$dir" && pwd)
    [[ -n $v ]] || v=$(read_env_var "$dir" RMQ_VERSION)
    export NAMESRV_ADDR=${NAMESRV_ADDR:-$(read_env_var "$dir" NAMESRV_ADDR)}
    if [[ $(read_env_var "$dir" ONS_TEST_TLS) == 1 ]]; then mapfile -t props < <(tls_client_props "$dir"); fi
    home=$dir/mqadmin-home
    mkdir -p "$home/conf"
    if [[ $(read_env_var "$dir" ONS_TEST_ACL) == 1 ]]; then
      printf 'accessKey: %s\nsecretKey: %s\n' "$(read_env_var "$dir" ONS_TEST_ACCESS_KEY)" \
        "$(read_env_var "$dir" ONS_TEST_SECRET_KEY)" >"$home/conf/tools.yml"
    else
      rm -f "$home/conf/tools.yml"
    fi
  fi
  v=${v:-${ONS_TEST_BROKER_VERSION:-$DEFAULT_VERSION}}
  local lib
  lib=$(cmd_fetch "$v")
  [[ -n ${home:-} ]] || home=$CACHE/rocketmq-$v/home
  write_logback_confs "$home/conf"
  local base=()
  mapfile -t base < <(jvm_base_flags)
  ROCKETMQ_HOME=$home exec "$JAVA" "${base[@]}" "${TOOLS_JVM[@]}" "${props[@]+"${props[@]}"}" \
    "-Drocketmq.home.dir=$home" "-Duser.home=$home" \
    "-Drmq.logback.configurationFile=$home/conf/rmq_logback_stderr.xml" \
    -cp "$lib/*" org.apache.rocketmq.tools.command.MQAdminStartup "$@"
}

#################################################################################### oracle

cmd_oracle() {
  local v=${ORACLE_CLIENT_VERSION:-$DEFAULT_VERSION} dir=
  while (($#)); do
    case $1 in
      --client-version) v=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  [[ -f $ORACLE_SRC/pom.xml ]] || die "no $ORACLE_SRC/pom.xml"
  local hash out
  hash=$(cd "$ORACLE_SRC" && find pom.xml src -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)
  out=$CACHE/java-oracle/$v-$hash
  if [[ ! -f $out/.complete ]]; then
    mkdir -p "$CACHE/java-oracle"
    (
      flock 9
      if [[ -f $out/.complete ]]; then exit 0; fi
      log "building the Java oracle (rocketmq-client $v) into $out"
      rm -rf "$CACHE/java-oracle/$v-"*  # older builds of changed sources
      local profile=()
      [[ ${v%%.*} -ge 5 ]] || profile=(-Prmq4)
      if ! "$MVN" -q -B -f "$ORACLE_SRC/pom.xml" "-Drocketmq.client.version=$v" "-Doracle.buildDir=$out" \
        "${profile[@]+"${profile[@]}"}" package dependency:copy-dependencies >"$CACHE/java-oracle/build-$v.log" 2>&1; then
        tail -n 40 "$CACHE/java-oracle/build-$v.log" >&2
        die "building the Java oracle failed (log: $CACHE/java-oracle/build-$v.log)"
      fi
      touch "$out/.complete"
    ) 9>"$CACHE/java-oracle/.lock"
  fi
  local args=("$@") props=()
  if [[ -n $dir ]]; then
    [[ -f $dir/env ]] || die "no cluster env in $dir"
    dir=$(cd "$dir" && pwd)
    [[ " ${args[*]} " == *" --namesrv "* ]] || args+=(--namesrv "$(read_env_var "$dir" NAMESRV_ADDR)")
    if [[ $(read_env_var "$dir" ONS_TEST_TLS) == 1 ]]; then mapfile -t props < <(tls_client_props "$dir"); fi
    if [[ $(read_env_var "$dir" ONS_TEST_ACL) == 1 && " ${args[*]} " != *" --access-key "* ]]; then
      args+=(--access-key "$(read_env_var "$dir" ONS_TEST_ACCESS_KEY)" --secret-key "$(read_env_var "$dir" ONS_TEST_SECRET_KEY)")
    fi
  fi
  local logs=$CACHE/java-oracle/logs
  mkdir -p "$logs"
  write_logback_confs "$CACHE/java-oracle/conf"
  local base=()
  mapfile -t base < <(jvm_base_flags)
  # Test runs want a fast start (C1 only, small serial heap); benchmarks pass their own options.
  local heap=(-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
  [[ -z ${ORACLE_JAVA_OPTS:-} ]] || read -r -a heap <<<"$ORACLE_JAVA_OPTS"
  exec "$JAVA" "${base[@]}" "${heap[@]}" \
    "${props[@]+"${props[@]}"}" "-Drocketmq.client.logRoot=$logs" -Drocketmq.client.logLevel=WARN \
    "-Drmq.logback.configurationFile=$CACHE/java-oracle/conf/rmq_logback_stderr.xml" \
    -cp "$out/oracle.jar:$out/lib/*" Oracle "${args[@]+"${args[@]}"}"
}

#################################################################################### main

main() {
  local cmd=${1:-help}
  (($#)) && shift
  case $cmd in
    fetch) cmd_fetch "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    run) cmd_run "$@" ;;
    mqadmin) cmd_mqadmin "$@" ;;
    oracle) cmd_oracle "$@" ;;
    plain-probe) cmd_plain_probe "$@" ;;
    broker) cmd_broker "$@" ;;
    _watchdog) cmd_watchdog "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
