"""The NAT lab's wider networks (docs/natlab.md "Wider networks"): a carrier-grade NAT with home NATs behind
it (Cgnat) and an IPv6-only network behind NAT64 (Nat64). Built through Lab.add_cgnat / Lab.add_nat64."""
import os
import sys

from natlab import HTTP_PORT, LabError, apply_rules, wait_until


class Cgnat:
    """A carrier-grade NAT (RFC 6888) between home NATs and the public segment: its LAN is shared address space
    (100.64.{16s+j}.0/24 of 100.64.0.0/10, bridge br1), its WAN 198.18.0.{b+24+j}. Endpoint-independent mapping
    with port-block allocation (each home NAT gets a block and keeps its ports inside it, so a mapping is
    public:port for exactly one home NAT) and endpoint-independent filtering (inbound to a block goes to that
    home NAT, whose own filter then applies). Hairpinning on: a home NAT's datagram to the CGNAT's public
    address is reflected to the home NAT owning the port, from public:source-port (RFC 4787 REQ-9)."""

    BLOCKS = ((20000, 39999), (40000, 59999))  # at most two home NATs per CGNAT

    def __init__(self, lab, index, label, hairpin):
        self.lab, self.index, self.label, self.hairpin = lab, index, label, hairpin
        s = lab.slot
        self.ns = lab.ns_name("cgn%d" % index)
        self.public_ip = "198.18.0.%d" % (32 * s + 24 + index)
        self.net = "100.64.%d" % (16 * s + index)
        self.lan_ip = self.net + ".1"
        self.homes = []

    def attach(self, nat):
        if len(self.homes) >= len(self.BLOCKS):
            raise LabError("CGNAT %s has room for %d home NATs" % (self.label, len(self.BLOCKS)))
        self.homes.append(nat)
        return "%s.%d" % (self.net, 10 + len(self.homes) - 1)

    def block(self, nat):
        return self.BLOCKS[self.homes.index(nat)]

    def build(self):
        lab, c = self.lab, self.ns
        lab.add_ns(c)
        port = "c%d" % self.index
        lab.ip(lab.pub_ns, "link", "add", port, "type", "veth", "peer", "name", "wan", "netns", c)
        lab.ip(lab.pub_ns, "link", "set", port, "master", "br0", "up")
        lab.ip(c, "addr", "add", self.public_ip + "/24", "dev", "wan")
        lab.ip(c, "link", "set", "wan", "up")
        lab.ip(c, "route", "add", "198.18.0.0/16", "dev", "wan")
        lab.ip(c, "link", "add", "br1", "type", "bridge")
        lab.ip(c, "addr", "add", self.lan_ip + "/24", "dev", "br1")
        lab.ip(c, "link", "set", "br1", "up")
        lab.ns_exec(c, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])

    def rules(self):
        """Applied once every home NAT is attached (the port blocks name them)."""
        ipt = ["iptables", "-w"]
        pub, lan = self.public_ip, self.net + ".0/24"
        r = [ipt + ["-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"],
             ipt + ["-P", "FORWARD", "DROP"],
             ipt + ["-A", "FORWARD", "-i", "wan", "-o", "br1", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                    "-j", "ACCEPT"],
             ipt + ["-A", "FORWARD", "-i", "wan", "-o", "br1", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"],
             ipt + ["-A", "FORWARD", "-i", "br1", "-o", "wan", "-j", "ACCEPT"]]
        for home in self.homes:
            lo, hi = self.block(home)
            # EIM: the port is kept (it lies in the home NAT's block); inbound to the block goes to that home NAT.
            r.append(ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-s", home.public_ip, "-p", "udp", "-j",
                            "SNAT", "--to-source", "%s:%d-%d" % (pub, lo, hi)])
            r.append(ipt + ["-t", "nat", "-A", "PREROUTING", "-i", "wan", "-d", pub, "-p", "udp", "--dport",
                            "%d:%d" % (lo, hi), "-j", "DNAT", "--to-destination", home.public_ip])
            if self.hairpin:
                r.append(ipt + ["-t", "nat", "-A", "PREROUTING", "-i", "br1", "-d", pub, "-p", "udp", "--dport",
                                "%d:%d" % (lo, hi), "-j", "DNAT", "--to-destination", home.public_ip])
        r.append(ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-s", lan, "-j", "SNAT", "--to-source", pub])
        if self.hairpin:
            # The reflected datagram leaves from public:source-port, as if it came from outside.
            r.append(ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "br1", "-s", lan, "-d", lan, "-p", "udp", "-j", "SNAT",
                            "--to-source", pub])
            r.append(ipt + ["-A", "FORWARD", "-i", "br1", "-o", "br1", "-j", "ACCEPT"])
        else:
            r.append(ipt + ["-A", "INPUT", "-i", "br1", "-d", pub, "-j", "DROP"])
        return r


class Nat64:
    """An IPv6-only LAN (2001:db8:{s}:{i}::/64, RFC 3849 documentation addresses) behind a NAT64: Debian's tayga
    with the network-specific prefix 2001:db8:64:{s}{i}::/96 (RFC 6052; not the well-known 64:ff9b::/96, which
    RFC 6052 section 3.1 and tayga keep away from non-global IPv4 addresses such as the lab's 198.18.0.0/15)
    maps each IPv6 host to an address of a pool
    (198.19.{16s+15-i}.128/25), and a NAT44 (SNAT, port kept: endpoint-independent mapping; only conntrack
    replies come in: address-and-port-dependent filtering) maps the pool to the WAN address 198.18.0.{b+30+i}.
    The host has no IPv4 address at all: it reaches the node as <prefix>::<node IPv4> (node_url)."""

    behaviour = "nat64"
    hairpin = False
    behind = None
    block_udp = False

    def __init__(self, lab, index, label):
        if index > 1:
            raise LabError("a lab holds at most 2 NAT64 networks")
        s = lab.slot
        self.lab, self.index, self.label = lab, index, label
        self.public_ip = "198.18.0.%d" % (32 * s + 30 + index)
        self.nat_ns = lab.ns_name("v6nat%d" % index)
        self.host_ns = lab.ns_name("v6host%d" % index)
        self.gateway_ip = "2001:db8:%x:%x::1" % (s, index)
        self.host_ip = "2001:db8:%x:%x::10" % (s, index)
        self.tayga_ip6 = "2001:db8:%x:ff%02x::1" % (s, index)
        self.pool = "198.19.%d.128/25" % (16 * s + 15 - index)
        self.prefix = "2001:db8:64:%x%x::/96" % (s, index)
        self.tayga_ip = "198.19.%d.1" % (16 * s + 15 - index)

    @property
    def node_url(self):
        import ipaddress
        base = ipaddress.IPv6Network(self.prefix).network_address
        v6 = ipaddress.IPv6Address(int(base) + int(ipaddress.IPv4Address(self.lab.node_ip)))
        return "http://[%s]:%d" % (v6, HTTP_PORT)

    def describe(self):
        return "%s (IPv6-only behind NAT64 %s): host %s behind %s" % (self.label, self.prefix, self.host_ip, self.public_ip)

    def build(self):
        lab, n, h = self.lab, self.nat_ns, self.host_ns
        lab.add_ns(n)
        lab.add_ns(h)
        port = "v%d" % self.index
        lab.ip(lab.pub_ns, "link", "add", port, "type", "veth", "peer", "name", "wan", "netns", n)
        lab.ip(lab.pub_ns, "link", "set", port, "master", "br0", "up")
        lab.ip(n, "addr", "add", self.public_ip + "/24", "dev", "wan")
        lab.ip(n, "link", "set", "wan", "up")
        lab.ip(n, "route", "add", "198.18.0.0/16", "dev", "wan")
        lab.ip(n, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", h)
        lab.ip(n, "-6", "addr", "add", self.gateway_ip + "/64", "dev", "lan", "nodad")
        lab.ip(n, "link", "set", "lan", "up")
        lab.ip(h, "-6", "addr", "add", self.host_ip + "/64", "dev", "eth0", "nodad")
        lab.ip(h, "link", "set", "eth0", "up")
        lab.ip(h, "-6", "route", "add", "default", "via", self.gateway_ip)
        lab.ns_exec(n, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        lab.ns_exec(n, ["sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1"])
        data = os.path.join(lab.workdir, "tayga%d" % self.index)
        os.makedirs(data, exist_ok=True)
        conf = os.path.join(data, "tayga.conf")
        with open(conf, "w") as f:
            f.write("tun-device nat64\nipv4-addr %s\nipv6-addr %s\nprefix %s\ndynamic-pool %s\ndata-dir %s\n"
                    % (self.tayga_ip, self.tayga_ip6, self.prefix, self.pool, data))
        lab.ns_exec(n, ["tayga", "-c", conf, "--mktun"])
        lab.ip(n, "link", "set", "nat64", "up")
        # The router's own addresses on the tun device (tayga's set-up): the kernel routes through it only then.
        lab.ip(n, "addr", "add", "198.19.%d.2" % (16 * self.lab.slot + 15 - self.index), "dev", "nat64")
        lab.ip(n, "-6", "addr", "add", "2001:db8:%x:fe%02x::1" % (self.lab.slot, self.index), "dev", "nat64", "nodad")
        lab.ip(n, "route", "add", self.pool, "dev", "nat64")
        lab.ip(n, "route", "add", self.tayga_ip, "dev", "nat64")
        lab.ip(n, "-6", "route", "add", self.prefix, "dev", "nat64")
        lab.ip(n, "-6", "route", "add", self.tayga_ip6, "dev", "nat64")
        ipt = ["iptables", "-w"]
        apply_rules(lab, n, [
            ipt + ["-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"],
            ipt + ["-P", "FORWARD", "DROP"],
            ipt + ["-A", "FORWARD", "-i", "wan", "-o", "nat64", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                   "-j", "ACCEPT"],
            ipt + ["-A", "FORWARD", "-i", "nat64", "-o", "wan", "-j", "ACCEPT"],
            ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-s", self.pool, "-j", "SNAT", "--to-source",
                   self.public_ip]])
        lab.spawn(n, ["tayga", "-c", conf, "--nodetach"], "tayga%d" % self.index)
        # Ready when the host reaches the node's HTTP port through the prefix (a condition, not a delay).
        probe = ("import socket,sys\ns=socket.socket(socket.AF_INET6);s.settimeout(0.5)\n"
                 "sys.exit(0 if s.connect_ex((%r, %d)) == 0 else 1)" % (self.node_url[8:].rsplit("]", 1)[0], HTTP_PORT))
        self.probe = probe

    def wait_ready(self, seconds=15):
        """True once the IPv6-only host opens a TCP connection to the node through the NAT64 (node running)."""
        return wait_until(lambda: self.lab.run(self.host_ns, [sys.executable, "-c", self.probe], timeout=5).returncode == 0,
                          seconds, step=0.1)
