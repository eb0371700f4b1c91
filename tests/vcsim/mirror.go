package main

// Mirrored traffic: an enabled session adds its sources' traffic to the "out" counters of the
// ports it delivers to (what the switch forwards to a monitor VM, or sends out of an uplink),
// exactly when vCenter would deliver it. See README.md, "Port traffic", and the same model in
// tui/mirror_traffic.py (the demo lab's); the two must agree (tests/unit/test_mirror_traffic.py,
// tests/integration/test_mirror_traffic_vcsim.py).
//
// Per session type (reference/vspan.md):
//   - dvPortMirror (§2.1, V28): to destination ports on the source's host; VLANs play no part
//     (vCenter ignores encapsulationVlanId for this type, §2.2).
//   - mixedDestMirror, legacy (§2.1, §8.1): to destination ports on the source's host, and to the
//     uplink ports of the source's host named in destination.uplinkPortName. "A frame whose VLAN is
//     not equal to, or trunked by, the destination port is not mirrored" (§8.1 step 3): with an
//     encapsulation VLAN the destination port's portgroup must carry it (the app's rule
//     EncapVlanNotCarried), without one it must carry the source's access VLAN (SourceVlanNotCarried).
//     To an uplink with an encapsulation VLAN the uplink portgroup must trunk it (EncapVlanNotOnUplinks).
//   - remoteMirrorSource, RSPAN (§2.1, §5.7 "the uplink is picked by name"): out of the uplink port
//     of each source's host with a name in destination.uplinkPortName, tagged with the (required)
//     encapsulationVlanId, when the switch's uplink portgroup trunks it (EncapVlanNotOnUplinks).
//   - remoteMirrorDest (§1.2 "VLAN IDs for ingress source", §2.1): the physical network is taken to
//     carry every VLAN between all uplinks of the lab (an assumption: a real one may not). A session
//     delivers to its destination ports what RSPAN sources (and legacy sessions to uplinks with an
//     encapsulation VLAN) anywhere in the lab sent out on a VLAN of its sourcePortReceived.vlans,
//     when its own switch's uplink portgroup trunks that VLAN (SourceVlanNotOnUplinks).
//   - encapsulatedRemoteMirrorSource (ERSPAN/GRE to an IP): not modelled (README says why).
//
// Every delivery needs a source that carries traffic and a destination that carries (connected,
// link up). One packet in samplingRate is mirrored; each frame is cut to mirroredPacketLength.
// Frames sent out of an uplink also count in its bytesOutToPnic. No 802.1Q tag bytes are added:
// vspan.md says mirrored frames are tagged (§1.1, §8.1) but no source says whether a port's byte
// counters count the tag.
//
// What a port is forwarded depends on the sessions of every switch (remoteMirrorDest), so the
// rates are computed for the whole lab at once, and what they delivered is folded into per-port
// totals whenever any switch is reconfigured: counters never go back.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

const (
	multiSize, broadSize = 120, 90 // mean multicast and broadcast frame sizes (traffic.go)
	vlanMax              = 4094
)

// mirrored is traffic forwarded to a port: per second (rates) or in total (accumulated).
type mirrored struct {
	pktUni, pktMulti, pktBroad    float64
	byteUni, byteMulti, byteBroad float64
	pnic                          float64 // of the bytes, those sent out of a physical NIC (uplinks)
}

func (m *mirrored) add(o mirrored, k float64) {
	m.pktUni += o.pktUni * k
	m.pktMulti += o.pktMulti * k
	m.pktBroad += o.pktBroad * k
	m.byteUni += o.byteUni * k
	m.byteMulti += o.byteMulti * k
	m.byteBroad += o.byteBroad * k
	m.pnic += o.pnic * k
}

func (m mirrored) bytes() float64 { return m.byteUni + m.byteMulti + m.byteBroad }

// sampled is one packet in `every` of m, each frame cut to `length` bytes when that is set.
func (m mirrored) sampled(every float64, length *int32) mirrored {
	var out mirrored
	out.add(m, 1/every)
	if length != nil && *length > 0 {
		l := float64(*length)
		out.byteUni = math.Min(out.byteUni, out.pktUni*l)
		out.byteMulti = math.Min(out.byteMulti, out.pktMulti*l)
		out.byteBroad = math.Min(out.byteBroad, out.pktBroad*l)
	}
	out.pnic = 0
	return out
}

func samplingOf(vs *VMwareVspanSession) float64 {
	if vs.SamplingRate != nil && *vs.SamplingRate > 1 {
		return float64(*vs.SamplingRate)
	}
	return 1
}

// vlanCarries is tui.model.Vlan.carries: whether frames tagged `vlan` pass the policy.
func vlanCarries(spec types.BaseVmwareDistributedVirtualSwitchVlanSpec, vlan int32) bool {
	switch v := spec.(type) {
	case *types.VmwareDistributedVirtualSwitchTrunkVlanSpec:
		for _, r := range v.VlanId {
			if r.Start <= vlan && vlan <= r.End {
				return true
			}
		}
		return false
	case *types.VmwareDistributedVirtualSwitchPvlanSpec:
		return v.PvlanId == vlan
	case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
		return v.VlanId == vlan
	}
	return false
}

// trunked is the condition of the rules EncapVlanNotOnUplinks and SourceVlanNotOnUplinks
// (tui/rules_warnings.py), kept the same: the switch has no uplink portgroup, or one carries vlan.
func (s *DVS) trunked(vlan int32) bool {
	if len(s.uplinkPG) == 0 {
		return true
	}
	for key := range s.uplinkPG {
		if vlanCarries(s.pgVlan[key], vlan) {
			return true
		}
	}
	return false
}

// legacyPasses is §8.1's VLAN condition for a legacy session's frame from port src to the
// non-uplink destination port dst (rules EncapVlanNotCarried and SourceVlanNotCarried): an unknown
// VLAN (no portgroup; a trunk or private VLAN source) passes, as the rules then say nothing.
func (s *DVS) legacyPasses(src, dst *types.DistributedVirtualPort, encap int32) bool {
	dvlan, ok := s.pgVlan[dst.PortgroupKey]
	if !ok || dst.PortgroupKey == "" {
		return true
	}
	if encap != 0 {
		return vlanCarries(dvlan, encap)
	}
	svlan, ok := s.pgVlan[src.PortgroupKey]
	if !ok || src.PortgroupKey == "" {
		return true
	}
	access, ok := svlan.(*types.VmwareDistributedVirtualSwitchVlanIdSpec)
	if !ok {
		return true
	}
	return vlanCarries(dvlan, access.VlanId)
}

// flowOf is the traffic of source port j in one direction: received (in) or forwarded (out).
func (s *DVS) flowOf(j int, rx bool) mirrored {
	src := &s.ports[j]
	t := trafficOf(src.Key, isUplinkPort(s, src))
	uni, multi, broad, size := t.pktOutUni, t.pktOutMulti, t.pktOutBroad, t.sizeOut
	if rx {
		uni, multi, broad, size = t.pktInUni, t.pktInMulti, t.pktInBroad, t.sizeIn
	}
	return mirrored{
		pktUni: uni, pktMulti: multi, pktBroad: broad,
		byteUni: uni * size, byteMulti: multi * multiSize, byteBroad: broad * broadSize,
	}
}

// uplinkOn is the index of the uplink port named `name` on `host`, if there is one.
func (s *DVS) uplinkOn(host *types.ManagedObjectReference, name string) (int, bool) {
	if host == nil {
		return 0, false
	}
	if s.uplinkAt == nil {
		s.uplinkAt = map[[2]string]int{}
		for i := range s.ports {
			p := &s.ports[i]
			if p.ProxyHost != nil && isUplinkPort(s, p) {
				k := [2]string{p.ProxyHost.Value, p.Config.Name}
				if _, dup := s.uplinkAt[k]; !dup {
					s.uplinkAt[k] = i
				}
			}
		}
	}
	i, ok := s.uplinkAt[[2]string{host.Value, name}]
	return i, ok
}

// delivery is what the sessions configured now forward to each port, per second.
type delivery map[*DVS]map[int]mirrored

func (d delivery) add(s *DVS, i int, m mirrored) {
	if d[s] == nil {
		d[s] = map[int]mirrored{}
	}
	cur := d[s][i]
	cur.add(m, 1)
	d[s][i] = cur
}

// source is one source port of a session with its direction.
type source struct {
	j  int
	rx bool
}

// sourcesOf lists the session's source ports on switch s that carry traffic: Rx, then Tx.
func (s *DVS) sourcesOf(vs *VMwareVspanSession) []source {
	var out []source
	for _, dir := range []struct {
		ports *VMwareVspanPort
		rx    bool
	}{{vs.SourcePortReceived, true}, {vs.SourcePortTransmitted, false}} {
		if dir.ports == nil {
			continue
		}
		for _, k := range dir.ports.PortKey {
			if j, ok := s.portIdx[k]; ok && carries(&s.ports[j]) {
				out = append(out, source{j, dir.rx})
			}
		}
	}
	return out
}

func encapOf(vs *VMwareVspanSession) int32 {
	if vs.EncapsulationVlanId != nil && *vs.EncapsulationVlanId > 0 {
		return *vs.EncapsulationVlanId
	}
	return 0
}

// deliverFromSources handles every type whose sources are ports on this switch; what leaves an
// uplink tagged with an encapsulation VLAN is added to onVlan (for remoteMirrorDest sessions).
func (s *DVS) deliverFromSources(vs *VMwareVspanSession, out delivery, onVlan map[int32][]mirrored) {
	kind := *vs.SessionType
	encap := encapOf(vs)
	every := samplingOf(vs)
	legacy := kind == "mixedDestMirror"
	var dests []int
	var uplinkNames []string
	if vs.DestinationPort != nil {
		for _, k := range vs.DestinationPort.PortKey {
			if i, ok := s.portIdx[k]; ok {
				dests = append(dests, i)
			}
		}
		uplinkNames = vs.DestinationPort.UplinkPortName
	}
	toUplink := func(src source, u int) {
		if !carries(&s.ports[u]) || (encap != 0 && !s.trunked(encap)) {
			return
		}
		m := s.flowOf(src.j, src.rx).sampled(every, vs.MirroredPacketLength)
		m.pnic = m.bytes()
		out.add(s, u, m)
		if encap != 0 {
			sent := m
			sent.add(m, -dropShare[s.ports[u].Key]) // what the uplink dropped never reached the network
			onVlan[encap] = append(onVlan[encap], sent)
		}
	}
	for _, src := range s.sourcesOf(vs) {
		sp := &s.ports[src.j]
		seen := map[int]bool{}
		switch kind {
		case "dvPortMirror", "mixedDestMirror":
			for _, i := range dests {
				dst := &s.ports[i]
				if i == src.j || seen[i] || !carries(dst) || !sameHost(sp, dst) {
					continue
				}
				seen[i] = true
				if legacy && isUplinkPort(s, dst) {
					toUplink(src, i) // an uplink port named by key (§2.1: only legacy allows it)
					continue
				}
				if legacy && !s.legacyPasses(sp, dst, encap) {
					continue
				}
				m := s.flowOf(src.j, src.rx).sampled(every, vs.MirroredPacketLength)
				if isUplinkPort(s, dst) {
					m.pnic = m.bytes()
				}
				out.add(s, i, m)
			}
			if !legacy {
				continue
			}
			fallthrough
		case "remoteMirrorSource":
			if kind == "remoteMirrorSource" && encap == 0 {
				continue // nothing to tag the frames with: vCenter requires the VLAN (§2.1)
			}
			for _, name := range uplinkNames {
				if u, ok := s.uplinkOn(sp.ProxyHost, name); ok && !seen[u] && u != src.j {
					seen[u] = true
					toUplink(src, u)
				}
			}
		}
	}
}

// deliverFromVlans is a remoteMirrorDest session: what reached the VLANs it listens to.
func (s *DVS) deliverFromVlans(vs *VMwareVspanSession, out delivery, onVlan map[int32][]mirrored) {
	if vs.SourcePortReceived == nil || vs.DestinationPort == nil {
		return
	}
	every := samplingOf(vs)
	seenVlan := map[int32]bool{}
	seenDest := map[int]bool{}
	for _, k := range vs.DestinationPort.PortKey {
		i, ok := s.portIdx[k]
		if !ok || seenDest[i] || !carries(&s.ports[i]) {
			continue
		}
		seenDest[i] = true
		for v := range seenVlan {
			delete(seenVlan, v)
		}
		for _, v := range vs.SourcePortReceived.Vlans {
			if v < 0 || v > vlanMax || seenVlan[v] || !s.trunked(v) {
				continue
			}
			seenVlan[v] = true
			for _, f := range onVlan[v] {
				m := f.sampled(every, vs.MirroredPacketLength)
				if isUplinkPort(s, &s.ports[i]) {
					m.pnic = m.bytes()
				}
				out.add(s, i, m)
			}
		}
	}
}

// labMirror is the lab-wide mirror state; mu guards it and every switch's sessions and totals.
var labMirror = struct {
	mu       sync.Mutex
	switches []*DVS // in lab order
	gen      int    // bumped whenever a switch's sessions change
	ratesGen int    // the gen `rates` was computed for (-1: none)
	rates    delivery
	folded   bool
	foldAt   time.Time // the per-port totals (DVS.mirrorAcc) hold what was delivered until then
}{ratesGen: -1}

func registerSwitches(ds []*DVS, started time.Time) {
	labMirror.mu.Lock()
	defer labMirror.mu.Unlock()
	labMirror.switches = ds
	labMirror.foldAt = started
	labMirror.folded = true
	labMirror.gen++
}

// currentRates is what every port is forwarded per second with the sessions configured now.
// Call with labMirror.mu held.
func currentRates() delivery {
	if labMirror.ratesGen == labMirror.gen && labMirror.rates != nil {
		return labMirror.rates
	}
	out := delivery{}
	onVlan := map[int32][]mirrored{}
	for _, s := range labMirror.switches {
		for k := range s.config().VspanSession {
			vs := &s.config().VspanSession[k]
			if !vs.Enabled || vs.SessionType == nil {
				continue
			}
			switch *vs.SessionType {
			case "dvPortMirror", "mixedDestMirror", "remoteMirrorSource":
				s.deliverFromSources(vs, out, onVlan)
			}
		}
	}
	for _, s := range labMirror.switches {
		for k := range s.config().VspanSession {
			vs := &s.config().VspanSession[k]
			if vs.Enabled && vs.SessionType != nil && *vs.SessionType == "remoteMirrorDest" {
				s.deliverFromVlans(vs, out, onVlan)
			}
		}
	}
	labMirror.rates, labMirror.ratesGen = out, labMirror.gen
	return out
}

// foldMirror adds what the current sessions delivered since the last fold to every port's total
// on every switch; call it (labMirror.mu held) before any switch's sessions change.
func foldMirror(now time.Time) {
	rates := currentRates()
	dt := now.Sub(labMirror.foldAt).Seconds()
	if dt > 0 {
		for s, byPort := range rates {
			if s.mirrorAcc == nil {
				s.mirrorAcc = map[int]*mirrored{}
			}
			for i, r := range byPort {
				acc := s.mirrorAcc[i]
				if acc == nil {
					acc = &mirrored{}
					s.mirrorAcc[i] = acc
				}
				acc.add(r, dt)
			}
		}
		labMirror.foldAt = now
	}
	labMirror.gen++
}

// mirroredTotal is everything port i has been forwarded by mirror sessions until now
// (labMirror.mu held).
func (s *DVS) mirroredTotal(i int, now time.Time) mirrored {
	var total mirrored
	if acc := s.mirrorAcc[i]; acc != nil {
		total = *acc
	}
	if !labMirror.folded {
		return total
	}
	if dt := now.Sub(labMirror.foldAt).Seconds(); dt > 0 {
		if r, ok := currentRates()[s][i]; ok {
			total.add(r, dt)
		}
	}
	return total
}

func addMirrored(st *types.DistributedVirtualSwitchPortStatistics, m mirrored) {
	st.PacketsOutUnicast += int64(m.pktUni)
	st.PacketsOutMulticast += int64(m.pktMulti)
	st.PacketsOutBroadcast += int64(m.pktBroad)
	st.BytesOutUnicast += int64(m.byteUni)
	st.BytesOutMulticast += int64(m.byteMulti)
	st.BytesOutBroadcast += int64(m.byteBroad)
	st.BytesOutToPnic += int64(m.pnic)
}

func sameHost(a, b *types.DistributedVirtualPort) bool {
	return a.ProxyHost != nil && b.ProxyHost != nil && *a.ProxyHost == *b.ProxyHost
}

// dropShare is -drop KEY=SHARE: the share (0..1) of mirrored frames the port with that key (on any
// switch) drops on the way to its VM, e.g. a monitor VM whose receive ring overflows. Dropped
// frames count in packetsOutDropped ("packets to be forwarded dropped"), not in the out counters.
var dropShare = dropFlag{}

type dropFlag map[string]float64

func (d dropFlag) String() string { return fmt.Sprint(map[string]float64(d)) }

func (d dropFlag) Set(v string) error {
	i := strings.LastIndex(v, "=")
	if i <= 0 {
		return fmt.Errorf("%q: expected PORTKEY=SHARE, e.g. 2241=0.5", v)
	}
	share, err := strconv.ParseFloat(v[i+1:], 64)
	if err != nil || share < 0 || share > 1 || math.IsNaN(share) {
		return fmt.Errorf("%q: the share must be a number from 0 to 1", v)
	}
	d[v[:i]] = share
	return nil
}

// delivered splits what was mirrored to the port with key `key` into what reached its VM (or the
// wire) and the packets dropped.
func delivered(key string, m mirrored) (mirrored, float64) {
	f := dropShare[key]
	if f <= 0 {
		return m, 0
	}
	dropped := (m.pktUni + m.pktMulti + m.pktBroad) * f
	var kept mirrored
	kept.add(m, 1-f)
	return kept, dropped
}
