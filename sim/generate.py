"""Synthetic host files for benchmarks and scale tests (`sim generate`).

N running user VMs i-2-<n>-VM (dom-id n), K VIFs each, spread round-robin
over B bridges xenbr0..xenbr<B-1> (uplinks eth0..); every VIF gets a unique
MAC and a unique address in its bridge's 10.<100+b>.0.0/16.  About one VM in
five is HVM (so it also gets tap<domid>.<device>).  The same arguments and
seed always give the same file.
"""

import ipaddress
import random
import uuid as uuidlib

import hostfile

MAX_BRIDGES = 100
MAX_DOMID = 32751  # interface names vif<domid>.<device> stay within 15 chars


def _uuid(rng: random.Random) -> str:
    return str(uuidlib.UUID(int=rng.getrandbits(128), version=4))


def _mac(prefix: int, counter: int) -> str:
    """A locally administered unicast MAC: prefix byte, then the counter."""
    raw = [prefix] + [(counter >> shift) & 0xFF for shift in (32, 24, 16, 8, 0)]
    return ":".join(f"{b:02x}" for b in raw)


def generate(vms: int, vifs: int, seed: int = 1, bridges: int = 3, halted: int = 0) -> str:
    """The host-file text; ValueError for impossible sizes."""
    if vms < 0 or vifs < 0 or halted < 0:
        raise ValueError("--vms, --vifs and --halted must not be negative")
    if not 1 <= bridges <= MAX_BRIDGES:
        raise ValueError(f"--bridges must be 1..{MAX_BRIDGES}")
    if vms > MAX_DOMID:
        raise ValueError(f"at most {MAX_DOMID} running VMs (dom-ids)")
    if vifs > 1000:
        raise ValueError("at most 1000 VIFs per VM")
    per_bridge = -(-(vms + halted) * vifs // bridges)
    if per_bridge > 64000:
        raise ValueError("too many VIFs: at most 64000 per bridge (one /16 each)")

    rng = random.Random(seed)
    host = hostfile.Host(source="<generated>", name_label="simhost", uuid=_uuid(rng))
    for b in range(bridges):
        host.bridges.append(hostfile.Bridge(
            name=f"xenbr{b}", uplink=f"eth{b}", mac=_mac(0xd6, 0x5200 + b),
            ip=ipaddress.IPv4Interface(f"10.{100 + b}.0.1/16"),
            outside_ip=ipaddress.IPv4Interface(f"10.{100 + b}.0.254/16")))
    host.vms.append(hostfile.Vm(name_label="Control domain on host: simhost", uuid=_uuid(rng), domid=0,
                                running=True, kind="control", hvm=False,
                                memory=hostfile.DEFAULT_MEMORY["control"], vcpus=1))

    next_host_part = [257] * bridges  # 10.x.1.1 onwards: clear of .0.1 and .0.254
    mac_counter = 0
    total = vms + halted
    for n in range(1, total + 1):
        running = n <= vms
        vm = hostfile.Vm(name_label=f"i-2-{n}-VM", uuid=_uuid(rng), domid=n if running else -1,
                         running=running, kind="user", hvm=rng.random() < 0.2,
                         memory=hostfile.DEFAULT_MEMORY["user"], vcpus=1)
        for k in range(vifs):
            b = (n + k) % bridges
            part = next_host_part[b]
            while part & 0xFF in (0, 255):  # skip x.y.z.0 and x.y.z.255: legal in a /16 but confusing
                part += 1
            next_host_part[b] = part + 1
            mac_counter += 1
            address = ipaddress.IPv4Interface((int(ipaddress.IPv4Address(f"10.{100 + b}.0.0")) + part, 16))
            vm.vifs.append(hostfile.Vif(device=k, bridge=f"xenbr{b}", mac=_mac(0x06, mac_counter),
                                        ipv4=[address]))
        host.vms.append(vm)

    header = (f"Synthetic host: sim generate --vms {vms} --vifs {vifs} --seed {seed} "
              f"--bridges {bridges} --halted {halted}")
    text = hostfile.render(host, header=header)
    hostfile.parse(text, "<generated>")  # never hand out a file `up` would refuse
    return text
