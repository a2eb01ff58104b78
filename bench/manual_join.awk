# The baseline for vif-of: the VM -> VIF -> bridge mapping the way an admin
# scripts it by hand, with awk over the same snapshot files, in one pass:
#
#   awk -f manual_join.awk xe-vm-list brctl-show ip-s-link
#
# Prints "VM VIF BRIDGE RX_BYTES TX_BYTES" per vif/tap port.  It checks
# nothing (a cut or garbled listing gives wrong lines, not an error), reads no
# guest MACs and no guest IPs, and escapes nothing: it is the cheapest
# program that gives an admin the same answer, not a competitor.

FILENAME ~ /xe-vm-list/ {
  if ($1 == "name-label") { name = $0; sub(/^[^:]*: /, "", name) }
  else if ($1 == "dom-id") { id = $0; sub(/^[^:]*: /, "", id); vm_of_dom[id] = name }
  next
}

FILENAME ~ /brctl-show/ {
  if (FNR == 1) next
  if (NF == 4) { bridge = $1; port = $4 }
  else if (NF == 1) { port = $1 }
  else next
  bridge_of[port] = bridge
  next
}

FILENAME ~ /ip-s-link/ {
  if ($1 ~ /^[0-9]+:$/) { link = $2; sub(/:$/, "", link); sub(/@.*/, "", link); next }
  if ($1 == "RX:") { getline; rx[link] = $1; next }
  if ($1 == "TX:") { getline; tx[link] = $1; next }
}

END {
  for (port in bridge_of) {
    if (port !~ /^(vif|tap)[0-9]+\.[0-9]+$/) continue
    dom = port; sub(/^(vif|tap)/, "", dom); sub(/\..*/, "", dom)
    print vm_of_dom[dom], port, bridge_of[port], rx[port], tx[port]
  }
}
