#!/bin/sh
# crash.sh - 20 rounds of SIGKILL at random moments (make stress runs 100)
. "$(dirname "$0")/lib.sh"
exec sh "$top/tests/stress/crash.sh" 20
