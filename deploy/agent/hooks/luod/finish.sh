#!/usr/bin/env bash
# Step finish (new kernel): close the session; the blackout is over and the kernel frees what the
# previous kernel handed over. CANNOT RUN HERE; see common.sh. Idempotent (--if-present).
source "$(dirname "$(readlink -f "$0")")/common.sh"
read_request

"$LUOCTL" session finish --name "$SESSION" --if-present
log "session $SESSION finished"
