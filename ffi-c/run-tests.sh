#!/usr/bin/env bash
# The C and C++ checks of the ffi-c crate:
#   1. build the library; regenerate include/rocketmq_ons.h and fail on any difference
#      (the crate's unit tests, which include `header_is_current`);
#   2. build the C examples (-std=c11) and C++ examples (-std=c++11 -pedantic) and the ABI test
#      with -Wall -Wextra -Werror;
#   3. run them against the cluster at NAMESRV_ADDR, and cross-check the admin calls with
#      mqadmin (ffi-c/tests/admin_mqadmin.sh);
#   4. run them again built with AddressSanitizer (leak checking on), against a library built
#      without mimalloc (ASan checks and scans only the memory it allocates);
#   5. install into a temporary prefix and build against it with pkg-config and with CMake.
#
# Without NAMESRV_ADDR it starts a cluster of its own with tests/harness/rmq.sh (the broker
# checks transactions every 3 s, which the transaction examples wait for, and filters by SQL92,
# which cpp/sdk_compat.cpp subscribes with).
#   ffi-c/run-tests.sh            all of the above
#   ffi-c/run-tests.sh --bless    rewrite include/rocketmq_ons.h from the sources, then stop
# Prints "N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
step() { printf '\n=== ffi-c: %s ===\n' "$*" >&2; }

if [[ ${1:-} == --bless ]]; then
  ONS_BLESS_HEADER=1 cargo test -p rocketmq-ons-ffi --lib header_is_current
  exit
fi
if [[ -z ${NAMESRV_ADDR:-} ]]; then
  exec tests/harness/rmq.sh run --auto-ports --broker-conf transactionCheckInterval=3000 \
    --broker-conf enablePropertyFilter=true -- "$0" "$@"
fi

# The SQL92 subscription of cpp/sdk_compat needs property filtering, off in a broker by default;
# a cluster given by NAMESRV_ADDR gets it switched on at run time (as the Rust and Python tests do).
tests/harness/rmq.sh mqadmin ${RMQ_DIR:+--dir "$RMQ_DIR"} -- updateBrokerConfig \
  -c "${ONS_TEST_CLUSTER:-DefaultCluster}" -k enablePropertyFilter -v true >/dev/null

target=${CARGO_TARGET_DIR:-$root/target}
[[ $target == /* ]] || target=$root/$target
lib=$target/debug
build=$target/ffi-c
mkdir -p "$build/plain" "$build/asan" "$build/logs"

step "library and header drift (cargo test -p rocketmq-ons-ffi)"
cargo build -p rocketmq-ons-ffi
cargo test -p rocketmq-ons-ffi --lib

c_programs=(send async_send order transaction consume order_consume batch_consume pull_consume admin)
cpp_programs=(send consume transaction order batch_consume pull_consume admin sdk_compat)
cflags=(-std=c11 -g -Wall -Wextra -Werror -I"$root/include")
cxxflags=(-std=c++11 -g -Wall -Wextra -Werror -pedantic -I"$root/include")
ldflags=(-L"$lib" "-Wl,-rpath,$lib" -lrocketmq_ons -lpthread)

build_all() { # DIR EXTRA_FLAGS...   (links against the library in ldflags)
  local dir=$1
  shift
  for p in "${c_programs[@]}"; do
    gcc "${cflags[@]}" "$@" "ffi-c/examples/$p.c" -o "$dir/$p" "${ldflags[@]}"
  done
  gcc "${cflags[@]}" "$@" ffi-c/tests/abi_test.c -o "$dir/abi_test" "${ldflags[@]}"
  gcc "${cflags[@]}" "$@" -I"$root/ffi-c/examples" ffi-c/tests/log_handler.c -o "$dir/log_handler" "${ldflags[@]}"
  for p in "${cpp_programs[@]}"; do
    g++ "${cxxflags[@]}" "$@" "ffi-c/examples/cpp/$p.cpp" -o "$dir/cpp_$p" "${ldflags[@]}"
  done
  g++ "${cxxflags[@]}" "$@" -I"$root/ffi-c/examples/cpp" ffi-c/tests/log_handler.cpp -o "$dir/cpp_log_handler" "${ldflags[@]}"
}

passed=0
failed=0
failures=()
run() { # NAME COMMAND...
  local name=$1 log
  shift
  log=$build/logs/${name//\//_}.log
  local started=$SECONDS
  # A panic is caught at the ABI and reported as ONS_ERR_INTERNAL, but it is still a bug.
  if timeout 240 "$@" >"$log" 2>&1 && ! grep -q "panicked at" "$log"; then
    passed=$((passed + 1))
    printf 'ok   %-28s %3ss  %s\n' "$name" $((SECONDS - started)) "$(tail -n 1 "$log")" >&2
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL %-28s %3ss  (log: %s)\n' "$name" $((SECONDS - started)) "$log" >&2
    sed 's/^/     | /' "$log" | tail -n 30 >&2
  fi
}

run_all() { # DIR PREFIX
  local dir=$1 tag=$2
  run "$tag/abi_test" "$dir/abi_test"
  run "$tag/log_handler" "$dir/log_handler"
  run "$tag/log_handler_ons_log_off" env ONS_LOG=off "$dir/log_handler"
  for p in "${c_programs[@]}"; do run "$tag/$p" "$dir/$p"; done
  for p in "${cpp_programs[@]}"; do run "$tag/cpp_$p" "$dir/cpp_$p"; done
  run "$tag/cpp_log_handler" "$dir/cpp_log_handler"
}

step "examples and ABI tests (-Wall -Wextra -Werror) against $NAMESRV_ADDR"
build_all "$build/plain"
run_all "$build/plain" plain

step "the admin calls against the official mqadmin"
run plain/admin_mqadmin ffi-c/tests/admin_mqadmin.sh "$build/plain/admin"

step "the same under AddressSanitizer (leaks included)"
# On the system allocator: mimalloc's blocks are invisible to ASan, so it would neither check
# the library's heap nor see pointers kept there (tokio keeps its threads' handles in one, and
# the leak checker reported those handles as leaked). A copy of its own, so that the stages
# below keep linking the library as shipped (the second build only copies it back).
asan_lib=$build/asan-lib
mkdir -p "$asan_lib"
cargo build -p rocketmq-ons-ffi --no-default-features
cp "$lib/librocketmq_ons.so" "$asan_lib/"
cargo build -p rocketmq-ons-ffi
shipped_ldflags=("${ldflags[@]}")
ldflags=(-L"$asan_lib" "-Wl,-rpath,$asan_lib" -lrocketmq_ons -lpthread)
build_all "$build/asan" -fsanitize=address -fno-omit-frame-pointer
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86 run_all "$build/asan" asan
ldflags=("${shipped_ldflags[@]}")

step "the README's C and C++ programs"
# The fenced c and cpp blocks of the README's "C and C++" section, pointed at this cluster.
tests/harness/readme-blocks.sh "C and C++" c >"$build/readme.c"
tests/harness/readme-blocks.sh "C and C++" cpp >"$build/readme.cpp"
gcc "${cflags[@]}" -x c "$build/readme.c" -o "$build/readme_c" "${ldflags[@]}"
g++ "${cxxflags[@]}" -x c++ "$build/readme.cpp" -o "$build/readme_cpp" "${ldflags[@]}"
run readme/c "$build/readme_c"
run readme/cpp "$build/readme_cpp"

step "docs/admin.md's C and C++ programs"
# The fenced blocks of LANG in the "C and C++" section of docs/admin.md, pointed at this cluster
# (as tests/harness/readme-blocks.sh does for the README).
admin_doc_blocks() { # LANG
  awk -v lang="$1" '/^##+ / { in_section = ($0 == "### C and C++") }
    in_section && on && $0 == "```" { on = 0; next }
    on { print }
    in_section && !on && $0 == "```" lang { on = 1 }' docs/admin.md | sed "s/127\.0\.0\.1:9876/$NAMESRV_ADDR/g"
}
admin_doc_blocks c >"$build/admin_doc.c"
admin_doc_blocks cpp >"$build/admin_doc.cpp"
gcc "${cflags[@]}" -x c "$build/admin_doc.c" -o "$build/admin_doc_c" "${ldflags[@]}"
g++ "${cxxflags[@]}" -x c++ "$build/admin_doc.cpp" -o "$build/admin_doc_cpp" "${ldflags[@]}"
run docs/admin_c "$build/admin_doc_c"
run docs/admin_cpp "$build/admin_doc_cpp"

step "install, then build with pkg-config and with CMake"
prefix=$build/prefix
rm -rf "$prefix" "$build/cmake"
ONS_FFI_PROFILE=dev CARGO_TARGET_DIR=$target ffi-c/install.sh "$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # word splitting of the flags is the point
gcc -std=c11 -Wall -Wextra -Werror ffi-c/examples/send.c -o "$build/pkgconfig_send" $(pkg-config --cflags --libs rocketmq_ons)
# shellcheck disable=SC2046
g++ -std=c++11 -Wall -Wextra -Werror ffi-c/examples/cpp/consume.cpp -o "$build/pkgconfig_cpp_consume" \
  $(pkg-config --cflags --libs rocketmq_ons)
run pkgconfig/send "$build/pkgconfig_send"
run pkgconfig/cpp_consume "$build/pkgconfig_cpp_consume"
cmake -S ffi-c/tests/cmake -B "$build/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/cmake" >/dev/null
run cmake/send_c "$build/cmake/send_c"
run cmake/send_cpp_static "$build/cmake/send_cpp_static"

if ((failed > 0)); then
  printf 'failed: %s\n' "${failures[*]}" >&2
fi
echo "$passed passed, $failed failed"
((failed == 0))
