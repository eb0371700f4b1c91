package main

// Mirrored traffic: an enabled Distributed Port Mirroring session adds its sources' traffic to
// its destination ports' "out" counters (what the switch forwards to the monitor VM), when
// vCenter would deliver it. See README.md, "Port traffic".
//
// Only sessions to distributed ports on the source's host are modelled (dvPortMirror, and legacy
// mixedDestMirror to port destinations): a source delivers when it carries traffic (traffic.go), sits on
// the same host as the destination (proxyHost; Distributed Port Mirroring is local to a host,
// vspan.md §2.1, V28) and the destination carries too (connected, link up). Rx sources give their
// received (in) counters, Tx sources their forwarded (out) ones; one packet in samplingRate is
// mirrored and each mirrored frame is cut to mirroredPacketLength bytes when that is set.
// Sessions change over time, so what they delivered is folded into per-port totals whenever the
// switch is reconfigured, and the current rates run on from there.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// localTypes deliver to destination ports on the source's host: Distributed Port Mirroring, and
// the legacy mixed-destination type "to a number of distributed ports ... on the corresponding
// host" (vspan.md §8). An unset sessionType is stored as mixedDestMirror (vspan.go).
var localTypes = map[string]bool{"dvPortMirror": true, "mixedDestMirror": true}

// mirrored is traffic forwarded to a destination: per second (rates) or in total (accumulated).
type mirrored struct {
	pktUni, pktMulti, pktBroad    float64
	byteUni, byteMulti, byteBroad float64
}

func (m *mirrored) add(o mirrored, k float64) {
	m.pktUni += o.pktUni * k
	m.pktMulti += o.pktMulti * k
	m.pktBroad += o.pktBroad * k
	m.byteUni += o.byteUni * k
	m.byteMulti += o.byteMulti * k
	m.byteBroad += o.byteBroad * k
}

func cut(size float64, length *int32) float64 {
	if length != nil && *length > 0 {
		return math.Min(size, float64(*length))
	}
	return size
}

func hasKey(p *VMwareVspanPort, key string) bool {
	if p == nil {
		return false
	}
	for _, k := range p.PortKey {
		if k == key {
			return true
		}
	}
	return false
}

func sameHost(a, b *types.DistributedVirtualPort) bool {
	return a.ProxyHost != nil && b.ProxyHost != nil && *a.ProxyHost == *b.ProxyHost
}

// mirrorRates is what the sessions configured now deliver to port i per second.
func (s *DVS) mirrorRates(i int) mirrored {
	var out mirrored
	dst := &s.ports[i]
	if !carries(dst) {
		return out
	}
	const multiSize, broadSize = 120, 90
	for _, vs := range s.config().VspanSession {
		if !vs.Enabled || vs.SessionType == nil || !localTypes[*vs.SessionType] || !hasKey(vs.DestinationPort, dst.Key) {
			continue
		}
		every := 1.0
		if vs.SamplingRate != nil && *vs.SamplingRate > 1 {
			every = float64(*vs.SamplingRate)
		}
		for _, dir := range []struct {
			ports *VMwareVspanPort
			rx    bool
		}{{vs.SourcePortReceived, true}, {vs.SourcePortTransmitted, false}} {
			if dir.ports == nil {
				continue
			}
			for _, k := range dir.ports.PortKey {
				j, ok := s.portIdx[k]
				if !ok || j == i {
					continue
				}
				src := &s.ports[j]
				if !carries(src) || !sameHost(src, dst) {
					continue
				}
				t := trafficOf(src.Key, isUplinkPort(s, src))
				uni, multi, broad, size := t.pktOutUni, t.pktOutMulti, t.pktOutBroad, t.sizeOut
				if dir.rx {
					uni, multi, broad, size = t.pktInUni, t.pktInMulti, t.pktInBroad, t.sizeIn
				}
				out.add(mirrored{
					pktUni: uni, pktMulti: multi, pktBroad: broad,
					byteUni:   uni * cut(size, vs.MirroredPacketLength),
					byteMulti: multi * cut(multiSize, vs.MirroredPacketLength),
					byteBroad: broad * cut(broadSize, vs.MirroredPacketLength),
				}, 1/every)
			}
		}
	}
	return out
}

// foldMirror adds what the current sessions delivered since the last fold to each port's total;
// call it before the sessions change.
func (s *DVS) foldMirror(now time.Time) {
	if s.mirrorAcc == nil {
		s.mirrorAcc = map[int]*mirrored{}
		s.mirrorFold = s.started
	}
	dt := now.Sub(s.mirrorFold).Seconds()
	if dt > 0 {
		for i := range s.ports {
			r := s.mirrorRates(i)
			if r != (mirrored{}) {
				acc := s.mirrorAcc[i]
				if acc == nil {
					acc = &mirrored{}
					s.mirrorAcc[i] = acc
				}
				acc.add(r, dt)
			}
		}
	}
	s.mirrorFold = now
}

// mirroredTotal is everything port i has been forwarded by mirror sessions until now.
func (s *DVS) mirroredTotal(i int, now time.Time) mirrored {
	var total mirrored
	if s.mirrorAcc == nil {
		s.mirrorAcc = map[int]*mirrored{}
		s.mirrorFold = s.started
	}
	if acc := s.mirrorAcc[i]; acc != nil {
		total = *acc
	}
	if dt := now.Sub(s.mirrorFold).Seconds(); dt > 0 {
		total.add(s.mirrorRates(i), dt)
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

// delivered splits what was mirrored to the port with key `key` into what reached its VM and the
// packets dropped.
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
