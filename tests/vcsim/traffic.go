package main

// Port traffic: DVPortState.stats that grow while the server runs, and RefreshDVPortState.
//
// Each port's counters are a pure function of its key and of the seconds since the server
// built its inventory: a port that carries traffic (a connectee and link up) has per-second
// rates derived from a hash of its key (FNV-1a 64, then splitmix64), and a virtual uptime
// (one to thirty-one days, also from the key) so the counters do not start at zero. A port
// with a connectee but link down keeps the counters of that uptime; a port with no connectee
// has zeros. As on vCenter, FetchDVPorts returns the state vCenter holds, which
// RefreshDVPortState renews from "the hosts": the counters only move when they are refreshed.
// See README.md, "Port traffic".

import (
	"hash/fnv"
	"math"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// portTraffic is what one port carries per second, and for how long it has (before start).
type portTraffic struct {
	uptime                      float64 // seconds of traffic before the server started
	pktInUni, pktOutUni         float64
	sizeIn, sizeOut             float64 // mean unicast frame size in bytes
	pktInMulti, pktOutMulti     float64
	pktInBroad, pktOutBroad     float64
	pnicShare                   float64 // share of the bytes that went through an uplink
	pktInDropped, pktOutDropped float64
}

type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit is a number in [0, 1).
func (r *splitmix) unit() float64 { return float64(r.next()>>11) / float64(1<<53) }

func trafficOf(key string, uplink bool) portTraffic {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	r := &splitmix{h.Sum64()}
	t := portTraffic{
		uptime:      86400 * (1 + 30*r.unit()),
		pktInUni:    50 + 950*r.unit(),
		sizeIn:      200 + 1200*r.unit(),
		sizeOut:     200 + 1200*r.unit(),
		pktInMulti:  1 + 3*r.unit(),
		pktOutMulti: r.unit(),
		pktInBroad:  1 + 2*r.unit(),
		pktOutBroad: 0.5 * r.unit(),
		pnicShare:   0.2 + 0.5*r.unit(),
	}
	t.pktOutUni = t.pktInUni * (0.5 + r.unit())
	if uplink {
		t.pnicShare = 1
	}
	return t
}

func counter(rate, seconds float64) int64 {
	v := math.Floor(rate * seconds)
	if v >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// statsAt is the port's counters after `seconds` of traffic.
func (t portTraffic) statsAt(seconds float64) types.DistributedVirtualSwitchPortStatistics {
	const multiSize, broadSize = 120, 90
	s := types.DistributedVirtualSwitchPortStatistics{
		PacketsInUnicast:    counter(t.pktInUni, seconds),
		PacketsOutUnicast:   counter(t.pktOutUni, seconds),
		BytesInUnicast:      counter(t.pktInUni*t.sizeIn, seconds),
		BytesOutUnicast:     counter(t.pktOutUni*t.sizeOut, seconds),
		PacketsInMulticast:  counter(t.pktInMulti, seconds),
		PacketsOutMulticast: counter(t.pktOutMulti, seconds),
		BytesInMulticast:    counter(t.pktInMulti*multiSize, seconds),
		BytesOutMulticast:   counter(t.pktOutMulti*multiSize, seconds),
		PacketsInBroadcast:  counter(t.pktInBroad, seconds),
		PacketsOutBroadcast: counter(t.pktOutBroad, seconds),
		BytesInBroadcast:    counter(t.pktInBroad*broadSize, seconds),
		BytesOutBroadcast:   counter(t.pktOutBroad*broadSize, seconds),
		PacketsInDropped:    counter(t.pktInDropped, seconds),
		PacketsOutDropped:   counter(t.pktOutDropped, seconds),
	}
	s.BytesInFromPnic = counter(t.pnicShare*(t.pktInUni*t.sizeIn+t.pktInMulti*multiSize+t.pktInBroad*broadSize), seconds)
	s.BytesOutToPnic = counter(t.pnicShare*(t.pktOutUni*t.sizeOut+t.pktOutMulti*multiSize+t.pktOutBroad*broadSize), seconds)
	return s
}

// carries reports whether a port's counters grow: something is connected and the link is up.
func carries(p *types.DistributedVirtualPort) bool {
	return p.Connectee != nil && p.State != nil && p.State.RuntimeInfo != nil && p.State.RuntimeInfo.LinkUp
}

// portStats is port i's counters at `now`: its own traffic (from the server's start) and what
// mirror sessions forwarded to it (mirror.go).
func (s *DVS) portStats(i int, now time.Time) types.DistributedVirtualSwitchPortStatistics {
	p := &s.ports[i]
	if p.Connectee == nil {
		return types.DistributedVirtualSwitchPortStatistics{}
	}
	t := trafficOf(p.Key, isUplinkPort(s, p))
	if !carries(p) {
		return t.statsAt(t.uptime)
	}
	st := t.statsAt(t.uptime + now.Sub(s.started).Seconds())
	kept, dropped := delivered(p.Key, s.mirroredTotal(i, now))
	addMirrored(&st, kept)
	st.PacketsOutDropped += int64(dropped)
	return st
}

// refreshStats renews the held state of ports i (all when nil).
func (s *DVS) refreshStats(idx []int) {
	labMirror.mu.Lock()
	defer labMirror.mu.Unlock()
	now := time.Now()
	if idx == nil {
		for i := range s.ports {
			s.refreshPort(i, now)
		}
		return
	}
	for _, i := range idx {
		s.refreshPort(i, now)
	}
}

func (s *DVS) refreshPort(i int, now time.Time) {
	p := &s.ports[i]
	if p.State == nil {
		p.State = &types.DVPortState{}
	}
	// A fresh DVPortState: replies already serialized keep the one they had.
	state := *p.State
	state.Stats = s.portStats(i, now)
	p.State = &state
}

// RefreshDVPortState renews the state (counters) of the given ports, or of every port when
// portKeys is unset. An unknown key is NotFound and nothing is refreshed (NotFound is a declared
// fault of the method in pyVmomi's type table; what vCenter does with a partly unknown list is not
// verified).
func (s *DVS) RefreshDVPortState(req *types.RefreshDVPortState) soap.HasFault {
	body := &methods.RefreshDVPortStateBody{}
	if req.PortKeys == nil {
		s.refreshStats(nil)
		body.Res = &types.RefreshDVPortStateResponse{}
		return body
	}
	idx := make([]int, 0, len(req.PortKeys))
	for _, k := range req.PortKeys {
		i, ok := s.portIdx[k]
		if !ok {
			body.Fault_ = simulator.Fault("no port with key "+k+" on this switch", &types.NotFound{})
			return body
		}
		idx = append(idx, i)
	}
	s.refreshStats(idx)
	body.Res = &types.RefreshDVPortStateResponse{}
	return body
}
