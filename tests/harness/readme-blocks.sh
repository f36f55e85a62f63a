#!/usr/bin/env bash
# Prints the fenced code blocks of one language from one "## " section of README.md, with the
# README's name-server address (127.0.0.1:9876) replaced by $NAMESRV_ADDR when it is set, so the
# tests run the README's programs as written against the cluster under test.
#
#   tests/harness/readme-blocks.sh "C and C++" c      # the C program(s) of that section
set -euo pipefail
section=${1:?usage: readme-blocks.sh SECTION LANG}
lang=${2:?usage: readme-blocks.sh SECTION LANG}
readme=$(dirname "${BASH_SOURCE[0]}")/../../README.md
awk -v section="## $section" -v lang="$lang" '
  /^## / { in_section = ($0 == section) }
  in_section && on && $0 == "```" { on = 0; next }
  on { print }
  in_section && !on && $0 == "```" lang { on = 1 }
' "$readme" | sed "s/127\.0\.0\.1:9876/${NAMESRV_ADDR:-127.0.0.1:9876}/g"
