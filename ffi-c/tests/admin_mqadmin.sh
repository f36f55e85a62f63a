#!/usr/bin/env bash
# Cross-checks the C admin calls against the official mqadmin on the cluster at NAMESRV_ADDR
# (started by tests/harness/rmq.sh; RMQ_DIR names it when set):
#   * every broker ons_admin_cluster_list reports is in `mqadmin clusterList`, with the
#     same version;
#   * a topic mqadmin creates (updateTopic -r 3 -w 5) is read back by ons_admin_topic_route
#     with those queue counts; ons_admin_delete_topic then deletes it, and `mqadmin topicList`
#     no longer lists it.
# Usage: admin_mqadmin.sh ADMIN_PROGRAM (ffi-c/examples/admin.c built)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
program=$1
mqadmin() { "$root/tests/harness/rmq.sh" mqadmin ${RMQ_DIR:+--dir "$RMQ_DIR"} -- "$@"; }
cluster=${ONS_TEST_CLUSTER:-DefaultCluster}
topic=ffi_mqadmin_$$_$(date +%s)

mqadmin updateTopic -c "$cluster" -t "$topic" -r 3 -w 5 >/dev/null
brokers=$("$program" --mqadmin "$topic")
cluster_list=$(mqadmin clusterList)
checked=0
while read -r _ name addr version; do
  # clusterList prints one row per broker: cluster, name, id, address, version, ...
  if ! grep -E "[[:space:]]$name[[:space:]].*$addr[[:space:]]+$version([[:space:]]|$)" <<<"$cluster_list" >/dev/null; then
    printf 'broker %s %s %s is not in mqadmin clusterList:\n%s\n' "$name" "$addr" "$version" "$cluster_list" >&2
    exit 1
  fi
  checked=$((checked + 1))
done <<<"$brokers"
((checked > 0)) || { echo "the admin program listed no broker" >&2; exit 1; }
if mqadmin topicList | grep -qx "$topic"; then
  echo "mqadmin topicList still lists $topic after ons_admin_delete_topic" >&2
  exit 1
fi
echo "mqadmin agrees: $checked broker(s) with their versions; $topic read back and deleted"
