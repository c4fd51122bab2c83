#!/usr/bin/python3
"""The NAT lab: network namespaces, veths and iptables that put peers behind NATs of known RFC 4787
behaviour, with a rendezvousd on a "public" segment. See docs/natlab.md.

Topology (slot s, b = 32*s; every name is prefixed with rdvl<pid>- so parallel runs never collide):

    namespace PUB (bridge br0, 198.18.0.0/24)
      rendezvousd: 198.18.0.{b+2} (primary: STUN/TURN 3478, HTTP 8080), 198.18.0.{b+3} (RFC 5780 alternate)
      n<i> --veth-- wan  namespace NAT i  (wan 198.18.0.{b+10+i}, lan 198.19.{16s+i}.1)
                         lan --veth-- eth0  namespace HOST i (198.19.{16s+i}.10, default via .1)

Nothing is created in the initial namespace: veths are made inside PUB and moved, so interface names stay
short and fixed. Lab.close() (also run on SIGINT/SIGTERM and at exit) kills every process started in the
lab's namespaces and deletes the namespaces, which removes their veths, rules, sets and conntrack state.

Only 198.18.0.0/15 (RFC 2544 benchmarking) addresses are used; the node allows them as relay peers
explicitly (--allow-peer 198.18.0.0/15), so the lab also exercises the peer allow-list.

Command line (as root):
    natlab.py up [--nats eim-eif,apdm-apdf] [--hairpin] [--bin-dir build/bin]   # until Ctrl-C
    natlab.py cleanup        # removes namespaces left by runs whose process is gone (after kill -9)
"""
import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

# RFC 4787 behaviours the lab builds, and what RFC 5780 discovery (rdv nat-type) must report for each.
BEHAVIOURS = {
    # endpoint-independent mapping and filtering ("full cone")
    "eim-eif": ("endpoint-independent", "endpoint-independent"),
    # endpoint-independent mapping, address-dependent filtering ("restricted cone")
    "eim-adf": ("endpoint-independent", "address-dependent"),
    # endpoint-independent mapping, address-and-port-dependent filtering ("port-restricted cone")
    "eim-apdf": ("endpoint-independent", "address-and-port-dependent"),
    # address-and-port-dependent mapping and filtering ("symmetric")
    "apdm-apdf": ("address-and-port-dependent", "address-and-port-dependent"),
    # address-dependent mapping and filtering: one mapping per remote IP (any remote port), with "arbitrary"
    # pooling (RFC 4787 section 4.1: each remote IP gets its own public IP, the port is kept)
    "adm-adf": ("address-dependent", "address-dependent"),
}
SHORT = {"eim-eif": "full-cone", "eim-adf": "restricted", "eim-apdf": "port-restricted", "apdm-apdf": "symmetric",
         "adm-adf": "addr-dependent"}
# Behaviours whose mapping depends on the remote endpoint: hairpinning is not modelled for them (the
# reflection keeps the port, which is the host's mapping only under endpoint-independent mapping).
NON_EIM = ("apdm-apdf", "adm-adf")

SKIP = 77  # CTest SKIP_RETURN_CODE
PREFIX = "rdvl"
STUN_PORT = 3478
HTTP_PORT = 8080
TLS_PORT = 5349
AUTH_SECRET = "natlab-shared-secret"
ADMIN_PORT = 9090  # on the PUB namespace's own loopback
ADMIN_TOKEN = "natlab-admin-token-0123456789"


class LabError(RuntimeError):
    pass


def log(*args):
    print("[natlab %s]" % time.strftime("%H:%M:%S"), *args, flush=True)


def sh(argv, check=True, timeout=30, input=None):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise LabError("%s failed (%d): %s%s" % (" ".join(argv), p.returncode, p.stdout, p.stderr))
    return p


def skip_reason():
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "natlab needs root (network namespaces, iptables)"
    for tool in ("ip", "iptables", "ipset"):
        if shutil.which(tool) is None:
            return "natlab needs %s (scripts/install-deps.sh --test)" % tool
    probe = "%s%d-probe" % (PREFIX, os.getpid())
    p = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if p.returncode != 0:
        return "no network namespace support: " + p.stderr.strip()
    try:
        for what, argv in (("iptables NAT", ["iptables", "-w", "-t", "nat", "-L"]),
                           ("ipset hash:ip,port", ["ipset", "create", "probe", "hash:ip,port", "timeout", "1"]),
                           ("a bridge", ["ip", "link", "add", "probe0", "type", "bridge"]),
                           ("veth", ["ip", "link", "add", "probe1", "type", "veth", "peer", "name", "probe2"])):
            q = subprocess.run(["ip", "netns", "exec", probe] + argv, capture_output=True, text=True)
            if q.returncode != 0:
                return "no %s in a network namespace: %s" % (what, q.stderr.strip())
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Nat:
    """One NAT namespace and the LAN host behind it."""

    def __init__(self, lab, index, behaviour, hairpin, label, behind=None, block_udp=False, tls_only=False):
        """behind: a Cgnat this NAT sits behind (its WAN is then on the CGNAT's 100.64/10 LAN, not the public
        segment); block_udp: the network lets only TCP out (TURN over TCP must carry everything); tls_only:
        it lets out only TCP to the node's HTTP API and its TLS port (TURN over TLS must carry everything)."""
        if behaviour not in BEHAVIOURS:
            raise LabError("unknown NAT behaviour %r (one of %s)" % (behaviour, ", ".join(BEHAVIOURS)))
        if hairpin and behaviour in NON_EIM:
            # The hairpin rule reflects public:port to host:port, which is the host's mapping only when the
            # NAT preserves ports; a symmetric NAT's mappings are random, so it cannot hairpin here.
            raise LabError("hairpinning is modelled for endpoint-independent mapping only")
        self.lab, self.index, self.behaviour, self.hairpin = lab, index, behaviour, hairpin
        self.label = label or "%s%d" % (SHORT[behaviour], index)
        self.behind, self.block_udp, self.tls_only = behind, block_udp or tls_only, tls_only
        s = lab.slot
        # The NAT's WAN address: on the public segment, or (behind a CGNAT) on the CGNAT's shared address space.
        self.public_ip = behind.attach(self) if behind else "198.18.0.%d" % (32 * s + 10 + index)
        self.lan = "198.19.%d.0/24" % (16 * s + index)
        self.gateway_ip = "198.19.%d.1" % (16 * s + index)
        self.host_ip = "198.19.%d.10" % (16 * s + index)
        self.nat_ns = lab.ns_name("nat%d" % index)
        self.host_ns = lab.ns_name("host%d" % index)
        # adm-adf: the public IP that the mapping towards 198.18.0.{b+k} (an address of this lab's slot) uses is
        # 198.18.{pool}.{k+1}; other remote IPs use public_ip. A /24 of its own per NAT (index < 16).
        self.pool = 64 + 16 * s + index if behaviour == "adm-adf" else None

    def mapped_ip(self, remote_ip):
        """The public IP of this NAT's mappings towards `remote_ip` (only adm-adf depends on it)."""
        if self.pool is None:
            return self.public_ip
        k = int(remote_ip.rsplit(".", 1)[1]) - 32 * self.lab.slot
        if remote_ip.startswith("198.18.0.") and 0 <= k < 32:
            return "198.18.%d.%d" % (self.pool, k + 1)
        return self.public_ip

    def describe(self):
        extra = (", behind CGNAT %s" % self.behind.label if self.behind else "") + (", UDP blocked" if self.block_udp else "")
        return "%s (%s, hairpin %s%s): host %s behind %s" % (
            self.label, self.behaviour, "on" if self.hairpin else "off", extra, self.host_ip, self.public_ip)

    def build(self):
        lab, n, h = self.lab, self.nat_ns, self.host_ns
        lab.add_ns(n)
        lab.add_ns(h)
        # PUB side (or the CGNAT's LAN bridge): n<i> on the bridge; the NAT's wan end is moved into the NAT namespace.
        port = "n%d" % self.index
        up_ns, bridge = (self.behind.ns, "br1") if self.behind else (lab.pub_ns, "br0")
        lab.ip(up_ns, "link", "add", port, "type", "veth", "peer", "name", "wan", "netns", n)
        lab.ip(up_ns, "link", "set", port, "master", bridge, "up")
        lab.ip(n, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", h)
        lab.ip(n, "addr", "add", self.public_ip + "/24", "dev", "wan")
        lab.ip(n, "addr", "add", self.gateway_ip + "/24", "dev", "lan")
        lab.ip(n, "link", "set", "wan", "up")
        lab.ip(n, "link", "set", "lan", "up")
        lab.ip(h, "addr", "add", self.host_ip + "/24", "dev", "eth0")
        lab.ip(h, "link", "set", "eth0", "up")
        lab.ip(h, "route", "add", "default", "via", self.gateway_ip)
        if self.behind:
            lab.ip(n, "route", "add", "default", "via", self.behind.lan_ip)
            # The CGNAT maps this NAT's ports 1:1 within its port block: the host picks its ports there.
            lo, hi = self.behind.block(self)
            lab.ns_exec(h, ["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=%d %d" % (lo, hi)])
        else:
            # The public segment is on-link as a /16: adm-adf NATs answer for their mapping pools (198.18.P.0/24).
            lab.ip(n, "route", "add", "198.18.0.0/16", "dev", "wan")
        if self.pool is not None:
            # Every address of the pool is this NAT's own (it answers ARP for it), with no interface to set up.
            lab.ip(n, "route", "add", "local", "198.18.%d.0/24" % self.pool, "dev", "lo")
        lab.ns_exec(n, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        apply_rules(lab, n, self.rules())

    def rules(self):
        """The iptables/ipset commands that give this NAT its behaviour (docs/natlab.md explains each)."""
        pub, host, lan = self.public_ip, self.host_ip, self.lan
        ipt = ["iptables", "-w"]
        r = []
        # Nothing from the public side may reach the NAT box itself. Dropping in INPUT (before conntrack
        # confirms the entry) also keeps an early unsolicited packet from leaving a conntrack entry that
        # would later steal the mapping's port; a real NAT drops such packets and keeps no state.
        r.append(ipt + ["-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate", "NEW,INVALID", "-j", "DROP"])
        # Forwarding: out from the LAN freely; in only as a reply (conntrack) or when a DNAT rule below admits it.
        r.append(ipt + ["-P", "FORWARD", "DROP"])
        r.append(ipt + ["-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate",
                        "ESTABLISHED,RELATED", "-j", "ACCEPT"])
        r.append(ipt + ["-A", "FORWARD", "-i", "wan", "-o", "lan", "-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT"])
        if self.behaviour in ("eim-adf", "adm-adf"):
            # Address-dependent filtering: remember (remote IP, internal port) for every datagram the host
            # sends; admit unsolicited inbound from that IP (any port) to that port. SNAT runs after FORWARD,
            # so the port recorded is the internal one; the mapping preserves it (EIM below).
            r.append(["ipset", "create", "adf", "hash:ip,port", "timeout", "300"])
            r.append(ipt + ["-A", "FORWARD", "-i", "lan", "-o", "wan", "-p", "udp", "-j", "SET", "--add-set", "adf",
                            "dst,src", "--exist", "--timeout", "300"])
        if self.block_udp:
            # A network that lets only TCP out (UDP blocked, as some corporate and hotel networks do).
            if self.tls_only:
                # Only TLS (and the node's API, which the peers need for signalling) gets out: no TURN over TCP.
                for port in (HTTP_PORT, TLS_PORT):
                    r.append(ipt + ["-A", "FORWARD", "-i", "lan", "-o", "wan", "-p", "tcp", "-d", self.lab.node_ip,
                                    "--dport", str(port), "-j", "ACCEPT"])
            r.append(ipt + ["-A", "FORWARD", "-i", "lan", "-o", "wan", "-p", "udp", "-j", "DROP"])
            if self.tls_only:
                r.append(ipt + ["-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "DROP"])
        r.append(ipt + ["-A", "FORWARD", "-i", "lan", "-o", "wan", "-j", "ACCEPT"])
        # Mapping: SNAT to the public address. Without --random Linux keeps the source port whenever the
        # tuple is free, so one internal endpoint gets one public endpoint for every destination (EIM).
        # With --random every new 5-tuple gets a random port: address-and-port-dependent mapping.
        if self.behaviour == "adm-adf":
            # Address-dependent mapping: towards each remote IP of the lab's slot its own public IP (port kept,
            # so every remote port of that IP shares the mapping), and a datagram from that IP to that mapping is
            # let in when the host has sent to the IP from the port (the adf set): address-dependent filtering,
            # per mapping (from IP Y to the mapping of another IP: dropped).
            for k in range(32):
                remote = "198.18.0.%d" % (32 * self.lab.slot + k)
                mapped = self.mapped_ip(remote)
                r.append(ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-s", lan, "-d", remote, "-j", "SNAT",
                                "--to-source", mapped])
                r.append(ipt + ["-t", "nat", "-A", "PREROUTING", "-i", "wan", "-s", remote, "-d", mapped, "-p", "udp",
                                "-m", "set", "--match-set", "adf", "src,dst", "-j", "DNAT", "--to-destination", host])
        snat = ipt + ["-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-s", lan, "-j", "SNAT", "--to-source", pub]
        if self.behaviour == "apdm-apdf":
            snat.append("--random")
        r.append(snat)
        if self.behaviour == "eim-eif":
            # Endpoint-independent filtering: any datagram to the public address goes to the host, port kept.
            r.append(ipt + ["-t", "nat", "-A", "PREROUTING", "-i", "wan", "-d", pub, "-p", "udp", "-j", "DNAT",
                            "--to-destination", host])
        elif self.behaviour == "eim-adf":
            r.append(ipt + ["-t", "nat", "-A", "PREROUTING", "-i", "wan", "-d", pub, "-p", "udp", "-m", "set",
                            "--match-set", "adf", "src,dst", "-j", "DNAT", "--to-destination", host])
        # eim-apdf and apdm-apdf: no DNAT, so only conntrack replies (exact remote IP and port) come in.
        r += self.hairpin_rules("-A")[0 if self.hairpin else 1]
        return r

    def hairpin_rules(self, op):
        """(rules that turn hairpinning on, rules that turn it off), each added with `op` (-A, -I or -D)."""
        ipt = ["iptables", "-w"]
        pub, host, lan = self.public_ip, self.host_ip, self.lan
        # Hairpinning (RFC 4787 REQ-9): LAN -> public address:port is reflected to the host's same port, with
        # the NAT's public address as source, as if it came from outside.
        on = [ipt + ["-t", "nat", op, "PREROUTING", "-i", "lan", "-d", pub, "-p", "udp", "-j", "DNAT",
                     "--to-destination", host],
              ipt + ["-t", "nat", op, "POSTROUTING", "-o", "lan", "-s", lan, "-d", host, "-j", "SNAT",
                     "--to-source", pub],
              ipt + [op, "FORWARD", "-i", "lan", "-o", "lan", "-j", "ACCEPT"]]
        # No hairpinning: the NAT box swallows what the LAN sends to its public address (or its mapping pool).
        off = [ipt + [op, "INPUT", "-i", "lan", "-d", pub, "-j", "DROP"]]
        if self.pool is not None:
            off.append(ipt + [op, "INPUT", "-i", "lan", "-d", "198.18.%d.0/24" % self.pool, "-j", "DROP"])
        return on, off

    def set_hairpin(self, enable):
        if enable == self.hairpin:
            return
        if enable and self.behaviour in NON_EIM:
            raise LabError("hairpinning is modelled for endpoint-independent mapping only")
        on_add, off_add = self.hairpin_rules("-A")
        on_del, off_del = self.hairpin_rules("-D")
        for rule in (on_add + off_del) if enable else (off_add + on_del):
            self.lab.ns_exec(self.nat_ns, rule)
        self.hairpin = enable

    def udp_blocked_count(self):
        """Datagrams from the LAN that the UDP block dropped so far."""
        p = self.lab.ns_exec(self.nat_ns, ["iptables", "-w", "-L", "FORWARD", "-v", "-x", "-n"])
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) >= 7 and f[2] == "DROP" and f[3] in ("udp", "17") and f[5] == "lan" and f[6] == "wan":
                return int(f[0])
        raise LabError("no UDP block in %s:\n%s" % (self.nat_ns, p.stdout))

    def count_from(self, address):
        """Starts counting forwarded UDP from `address` (a rule with no target: a counter)."""
        self.lab.ns_exec(self.nat_ns, ["iptables", "-w", "-I", "FORWARD", "-i", "wan", "-s", address, "-p", "udp"])

    def counted_from(self, address):
        """Datagrams forwarded from `address` since count_from(address)."""
        p = self.lab.ns_exec(self.nat_ns, ["iptables", "-w", "-L", "FORWARD", "-v", "-x", "-n"])
        for line in p.stdout.splitlines():
            f = line.split()
            # pkts bytes target prot opt in out source destination; a counter rule has no target
            if len(f) >= 8 and f[2] in ("udp", "17") and f[4] == "wan" and f[6] == address:
                return int(f[0])
        raise LabError("no counter for %s in %s:\n%s" % (address, self.nat_ns, p.stdout))

    def drop_from(self, address, enable=True):
        """Cut (or restore) the path between this NAT's public side and `address` (an IP): drops forwarded
        UDP both ways. TCP (the signalling hub) is left alone."""
        op = "-I" if enable else "-D"
        for direction in (["-i", "wan", "-s", address], ["-o", "wan", "-d", address]):
            self.lab.ns_exec(self.nat_ns, ["iptables", "-w", op, "FORWARD"] + direction + ["-p", "udp", "-j", "DROP"])


class Lab:
    def __init__(self, bin_dir, slot=0, workdir=None, keep_logs_on_failure=True):
        if not 0 <= slot <= 7:
            raise LabError("slot must be 0..7")
        self.bin_dir = os.path.abspath(bin_dir)
        self.slot = slot
        self.run_id = "%s%d" % (PREFIX, os.getpid())
        self.namespaces = []
        self.processes = []
        self.nats = []
        self.cgnats = []
        self.node = None
        self.closed = False
        self.workdir = workdir or tempfile.mkdtemp(prefix="rdv-natlab-")
        b = 32 * slot
        self.node_ip = "198.18.0.%d" % (b + 2)
        self.node_alt_ip = "198.18.0.%d" % (b + 3)
        self.pub_ns = self.ns_name("pub")
        self._install_cleanup()

    # --- names and plumbing -------------------------------------------------------------------------------
    def ns_name(self, role):
        return "%s-s%d-%s" % (self.run_id, self.slot, role)

    def ip(self, ns, *args):
        return sh(["ip", "-n", ns] + list(args))

    def ns_exec(self, ns, argv, check=True, timeout=30):
        return sh(["ip", "netns", "exec", ns] + argv, check=check, timeout=timeout)

    def add_ns(self, ns):
        sh(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        self.ip(ns, "link", "set", "lo", "up")

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    def _install_cleanup(self):
        atexit.register(self.close)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous = signal.getsignal(sig)

            def handler(signum, frame, previous=previous):
                self.close()
                if callable(previous) and previous not in (signal.SIG_IGN, signal.SIG_DFL):
                    previous(signum, frame)
                raise SystemExit(128 + signum)

            signal.signal(sig, handler)

    # --- building -------------------------------------------------------------------------------------------
    def build(self, nats, hairpin=()):
        """nats: list of behaviours or (behaviour, label) pairs; hairpin: indexes or labels with hairpin on."""
        log("building lab %s slot %d in %s" % (self.run_id, self.slot, self.workdir))
        self.add_ns(self.pub_ns)
        self.ip(self.pub_ns, "link", "add", "br0", "type", "bridge")
        self.ip(self.pub_ns, "addr", "add", self.node_ip + "/24", "dev", "br0")
        self.ip(self.pub_ns, "addr", "add", self.node_alt_ip + "/24", "dev", "br0")
        self.ip(self.pub_ns, "link", "set", "br0", "up")
        self.ip(self.pub_ns, "route", "add", "198.18.0.0/16", "dev", "br0")  # adm-adf mapping pools are on-link
        for i, spec in enumerate(nats):
            behaviour, label = (spec, None) if isinstance(spec, str) else spec
            self.add_nat(behaviour, label, i in hairpin or (label is not None and label in hairpin))
        return self

    def add_nat(self, behaviour, label=None, hairpin=False, behind=None, block_udp=False, tls_only=False):
        """One more NAT (and its host) after build(); behind a CGNAT of add_cgnat() or on the public segment."""
        if len(self.nats) >= 14:
            raise LabError("a lab holds at most 14 NATs (public addresses b+10..b+23)")
        nat = Nat(self, len(self.nats), behaviour, hairpin, label, behind=behind, block_udp=block_udp,
                  tls_only=tls_only)
        nat.build()
        self.nats.append(nat)
        log(nat.describe())
        return nat

    def add_nat64(self, label):
        """An IPv6-only network behind NAT64 (Nat64); call wait_ready() on it once the node runs."""
        if shutil.which("tayga") is None:
            raise LabError("the NAT64 network needs tayga (scripts/install-deps.sh --test)")
        from wider import Nat64  # noqa: PLC0415 - wider.py imports this module
        net = Nat64(self, sum(1 for x in self.nats if isinstance(x, Nat64)), label)
        net.build()
        self.nats.append(net)
        log(net.describe())
        return net

    def add_cgnat(self, label, hairpin, homes):
        """A CGNAT with home NATs behind it: homes is a list of (behaviour, label). Returns the Cgnat."""
        if len(self.cgnats) >= 6:
            raise LabError("a lab holds at most 6 CGNATs")
        from wider import Cgnat  # noqa: PLC0415 - wider.py imports this module
        cgn = Cgnat(self, len(self.cgnats), label, hairpin)
        cgn.build()
        self.cgnats.append(cgn)
        for behaviour, home_label in homes:
            self.add_nat(behaviour, home_label, behind=cgn)
        apply_rules(self, cgn.ns, cgn.rules())
        log("CGNAT %s (hairpin %s): %s behind %s" % (label, "on" if hairpin else "off",
                                                     ", ".join(h.label for h in cgn.homes), cgn.public_ip))
        return cgn

    def nat(self, label):
        for n in self.nats:
            if n.label == label:
                return n
        raise LabError("no NAT labelled %r" % label)

    def start_node(self, extra_args=(), allow_peer=True, name="rendezvousd", tls=False):
        """Starts rendezvousd in PUB (stopping a previous one first); returns its ready-file JSON."""
        if self.node is not None:
            self.stop(self.node)
        data = os.path.join(self.workdir, "node-data")
        ready = os.path.join(self.workdir, name + ".ready")
        if os.path.exists(ready):
            os.unlink(ready)
        args = [self.binary("rendezvousd"), "--listen", "%s:%d" % (self.node_ip, STUN_PORT),
                "--alt-address", self.node_alt_ip, "--http-listen", "%s:%d" % (self.node_ip, HTTP_PORT),
                "--data-dir", data, "--ready-file", ready, "--auth-secret", AUTH_SECRET,
                "--admin-listen", "127.0.0.1:%d" % ADMIN_PORT, "--admin-token", ADMIN_TOKEN, "--log-level", "debug"]
        if tls:
            # TURN over TLS on TLS_PORT with a certificate for the node's address; the agents trust it
            # (--turn-ca, added to every rdv listen/connect by peers.py).
            self.node_cert = os.path.join(self.workdir, "node-cert.pem")
            key = os.path.join(self.workdir, "node-key.pem")
            sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", self.node_cert, "-days", "2", "-subj", "/CN=" + self.node_ip,
                "-addext", "subjectAltName=IP:" + self.node_ip])
            args += ["--tls-listen", "%s:%d" % (self.node_ip, TLS_PORT), "--cert", self.node_cert, "--key", key]
        if allow_peer:
            # The lab's "public" addresses are benchmarking addresses, denied as relay peers by default.
            args += ["--allow-peer", "198.18.0.0/15"]
        self.node = self.spawn(self.pub_ns, args + list(extra_args), name)
        if not wait_until(lambda: os.path.exists(ready) or self.node.poll() is not None, 15):
            raise LabError("rendezvousd did not write its ready file:\n" + self.read_log(name))
        if self.node.poll() is not None:
            raise LabError("rendezvousd exited (%d):\n%s" % (self.node.returncode, self.read_log(name)))
        with open(ready) as f:
            self.node_ready = json.load(f)
        log("%s ready:" % name, json.dumps(self.node_ready))
        return self.node_ready

    def node_metric(self, name):
        """The sum of a Prometheus counter/gauge `name` over its label sets, read from the node's admin API."""
        code = ("import urllib.request; r = urllib.request.Request('http://127.0.0.1:%d/metrics', headers="
                "{'Authorization': 'Bearer %s'}); print(urllib.request.urlopen(r, timeout=5).read().decode())"
                % (ADMIN_PORT, ADMIN_TOKEN))
        p = self.run(self.pub_ns, [sys.executable, "-c", code], timeout=20)
        if p.returncode != 0:
            raise LabError("cannot read the node's metrics: " + p.stderr)
        total, found = 0.0, False
        for line in p.stdout.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
                found = True
        if not found:
            raise LabError("no metric %s in:\n%s" % (name, p.stdout[:3000]))
        return total

    @property
    def node_url(self):
        return "http://%s:%d" % (self.node_ip, HTTP_PORT)

    @property
    def stun_server(self):
        return "%s:%d" % (self.node_ip, STUN_PORT)

    # --- processes --------------------------------------------------------------------------------------------
    def log_path(self, name):
        return os.path.join(self.workdir, name + ".log")

    def read_log(self, name, limit=20000):
        try:
            with open(self.log_path(name), errors="replace") as f:
                text = f.read()
            return text[-limit:]
        except OSError:
            return ""

    def spawn(self, ns, argv, name, stdout=None):
        """A background process in namespace `ns`; stderr (and stdout unless given) to <workdir>/<name>.log."""
        err = open(self.log_path(name), "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=stdout or err, stderr=err,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        p.lab_name = name
        self.processes.append(p)
        return p

    def run(self, ns, argv, timeout=60):
        return subprocess.run(["ip", "netns", "exec", ns] + argv, capture_output=True, text=True, timeout=timeout)

    def stop(self, p, grace=3):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # --- teardown ---------------------------------------------------------------------------------------------
    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in reversed(self.processes):
            try:
                self.stop(p, grace=2)
            except Exception:  # noqa: BLE001 - teardown must go on
                pass
        for ns in reversed(self.namespaces):
            remove_namespace(ns)
        self.namespaces = []
        shutil.rmtree(self.workdir, ignore_errors=True)


def apply_rules(lab, ns, rules):
    """Runs ipset and iptables commands in `ns`; the iptables appends go in one iptables-restore --noflush
    (one process instead of one per rule: building a lab stays fast on a busy machine)."""
    tables = {}
    for rule in rules:
        if rule[0] == "iptables" and "-A" in rule:
            args = rule[2:]
            table = "filter"
            if args[0] == "-t":
                table, args = args[1], args[2:]
            tables.setdefault(table, []).append(" ".join(args))
        else:
            lab.ns_exec(ns, rule)
    if tables:
        script = "".join("*%s\n%s\nCOMMIT\n" % (t, "\n".join(lines)) for t, lines in tables.items())
        p = subprocess.run(["ip", "netns", "exec", ns, "iptables-restore", "-w", "--noflush"], input=script,
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise LabError("iptables-restore in %s failed: %s\n%s" % (ns, p.stderr, script))


def remove_namespace(ns):
    """Kill what still runs in `ns` (processes started in the lab: only ours live there) and delete it."""
    for _ in range(3):
        p = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        pids = [int(x) for x in p.stdout.split()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def wait_until(cond, seconds, step=0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# --- a tiny STUN Binding client (RFC 8489), used only to learn a socket's mapping for the hairpin check --------
def stun_mapped_address(sock, server, timeout=2.0):
    txid = os.urandom(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid
    deadline = time.monotonic() + timeout
    rto = 0.1
    while time.monotonic() < deadline:
        sock.sendto(request, server)
        sock.settimeout(rto)
        try:
            data, _ = sock.recvfrom(2048)
        except socket.timeout:
            rto = min(rto * 2, 0.5)
            continue
        if len(data) < 20 or data[8:20] != txid:
            continue
        pos, end = 20, 20 + struct.unpack("!H", data[2:4])[0]
        while pos + 4 <= min(end, len(data)):
            kind, length = struct.unpack("!HH", data[pos:pos + 4])
            value = data[pos + 4:pos + 4 + length]
            if kind == 0x0020 and length >= 8 and value[1] == 1:  # XOR-MAPPED-ADDRESS, IPv4
                port = struct.unpack("!H", value[2:4])[0] ^ 0x2112
                addr = struct.unpack("!I", value[4:8])[0] ^ 0x2112A442
                return socket.inet_ntoa(struct.pack("!I", addr)), port
            pos += 4 + ((length + 3) & ~3)
    return None


HAIRPIN_PROBE = r"""
import socket, sys
sys.path.insert(0, %(dir)r)
from natlab import stun_mapped_address
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("0.0.0.0", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("0.0.0.0", 0))
mapped = stun_mapped_address(b, (%(server)r, %(port)d))
if mapped is None:
    print("no-mapping"); sys.exit(1)
got = False
for _ in range(5):
    a.sendto(b"hairpin", mapped)
    b.settimeout(0.2)
    try:
        data, src = b.recvfrom(100)
        got = data == b"hairpin"
        break
    except socket.timeout:
        pass
print("hairpin" if got else "no-hairpin", "%%s:%%d" %% mapped)
"""


def hairpin_works(lab, nat):
    """True when a datagram the host sends to its own mapped address (learned by STUN) comes back to it."""
    code = HAIRPIN_PROBE % {"dir": os.path.dirname(os.path.abspath(__file__)), "server": lab.node_ip,
                            "port": STUN_PORT}
    p = lab.run(nat.host_ns, [sys.executable, "-c", code], timeout=20)
    if p.returncode != 0:
        raise LabError("hairpin probe in %s failed: %s%s" % (nat.label, p.stdout, p.stderr))
    return p.stdout.startswith("hairpin")


def cleanup_stale():
    """Delete namespaces named rdvl<pid>-... whose creating process no longer exists."""
    p = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    removed = []
    for line in p.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(r"^%s(\d+)-" % PREFIX, name)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            remove_namespace(name)
            removed.append(name)
    return removed


def results_table(path):
    """docs/natlab.md's results table from a natlab-results.json."""
    with open(path) as f:
        data = json.load(f)
    names = list(BEHAVIOURS)
    lines = ["| listener ↓ connector → | " + " | ".join(SHORT[b] for b in names) + " |",
             "|---|" + "---|" * len(names)]
    for a in names:
        cells = []
        for b in names:
            r = data["pairs"].get("%s -> %s" % (a, b))
            if not r:
                cells.append("-")
            elif not r.get("connected"):
                cells.append("**failed**")
            else:
                cell = "%s %s/%s %.0f ms" % (r["path"], r["local"], r["remote"], r["time_to_first_byte_ms"])
                cells.append(cell)
        lines.append("| %s | %s |" % (SHORT[a], " | ".join(cells)))
    networks = data.get("networks", {})
    if networks:
        lines += ["", "| listener | connector | expected | path | candidates | time to first byte |", "|---|---|---|---|---|---|"]
        for r in networks.values():
            got = "**failed**" if not r.get("connected") else "%s %s/%s" % (r["path"], r["local"], r["remote"])
            ttfb = "%.0f ms" % r["time_to_first_byte_ms"] if r.get("time_to_first_byte_ms") is not None else "-"
            lines.append("| %s | %s | %s | %s | %s | %s |" % (r["listener"], r["connector"], r["expected"],
                                                             got.split(" ")[0], " ".join(got.split(" ")[1:]), ttfb))
    med = data.get("median_time_to_first_byte_ms", {})
    fmt = lambda v: "%.0f ms" % v if v is not None else "-"  # noqa: E731
    lines.append("")
    lines.append("Median time to first byte over every pair: direct %s, relayed %s (targets: 100 ms direct, 250 ms "
                 "relayed; load average %s)." % (fmt(med.get("direct")), fmt(med.get("relay")),
                                                 ", ".join("%.1f" % x for x in data.get("load_average", []))))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="build a lab, start rendezvousd, wait for Ctrl-C, tear everything down")
    up.add_argument("--bin-dir", default=os.path.join(os.path.dirname(__file__), "../../build/bin"))
    up.add_argument("--nats", default=",".join(BEHAVIOURS), help="comma-separated behaviours: " + ", ".join(BEHAVIOURS))
    up.add_argument("--hairpin", action="store_true", help="hairpinning on for every EIM NAT")
    up.add_argument("--slot", type=int, default=0)
    sub.add_parser("cleanup", help="remove namespaces of lab runs that died without tearing down")
    table = sub.add_parser("table", help="print the results table (markdown) of a natlab-results.json")
    table.add_argument("results")
    a = ap.parse_args()
    if a.cmd == "table":
        print(results_table(a.results))
        return 0
    if a.cmd == "cleanup":
        for name in cleanup_stale():
            print("removed", name)
        return 0
    reason = skip_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    lab = Lab(a.bin_dir, slot=a.slot)
    behaviours = [b for b in a.nats.split(",") if b]
    hairpin = [i for i, b in enumerate(behaviours) if a.hairpin and b not in NON_EIM]
    lab.build(behaviours, hairpin=hairpin)
    lab.start_node()
    print("\nnode: %s (STUN %s, alternate %s); logs in %s" % (lab.node_url, lab.stun_server, lab.node_alt_ip, lab.workdir))
    for n in lab.nats:
        print("  %s\n      ip netns exec %s %s nat-type %s" % (n.describe(), n.host_ns, lab.binary("rdv"), lab.stun_server))
    print("Ctrl-C tears the lab down.")
    try:
        while lab.node.poll() is None:
            time.sleep(1)
        print("rendezvousd exited:", lab.read_log("rendezvousd"))
    except KeyboardInterrupt:
        pass
    finally:
        lab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
