#!/bin/sh
# crash.sh - 20 rounds of SIGKILL at random moments (make stress runs 100)
exec sh "$PORTRES_TOP/tests/stress/crash.sh" 20
