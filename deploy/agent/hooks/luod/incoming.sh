#!/usr/bin/env bash
# Query hook incoming (new kernel): print {"incoming": [BDF...]} on stdout, the PCI devices the
# previous kernel preserved (liveupdate_incoming), and nothing else on stdout.
# CANNOT RUN HERE; see common.sh. Stdin carries {"hostId": ...} only; it is not needed.
source "$(dirname "$(readlink -f "$0")")/common.sh"
cat >/dev/null

"$LUOCTL" incoming --json | jq -c '{incoming: [.devices[]?.bdf]}'
