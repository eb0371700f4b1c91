package main

// VSPAN (port mirroring) as vCenter implements it in ReconfigureDvs_Task
// (DESIGN.md §7, reference/vspan.md §4, §5, §9).
//
// govmomi 0.24.2 declares the optional integers of VMwareVspanSession as plain int32 with
// omitempty, so "unset" and 0 look alike and 0 is dropped on the way out. The types below
// replace them with pointers and are registered under the WSDL names, so incoming
// VMwareDVSConfigSpec bodies decode into them and outgoing config.vspanSession keeps 0.

import (
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/vmware/govmomi/vim25/types"
)

// VMwareVspanPort is the WSDL VMwareVspanPort. govmomi's omitempty drops list items equal
// to the zero value (VLAN 0) when encoding; these lists have no omitempty.
type VMwareVspanPort struct {
	types.DynamicData

	PortKey                   []string `xml:"portKey"`
	UplinkPortName            []string `xml:"uplinkPortName"`
	WildcardPortConnecteeType []string `xml:"wildcardPortConnecteeType"`
	Vlans                     []int32  `xml:"vlans"`
	IpAddress                 []string `xml:"ipAddress"`
}

// VMwareVspanSession is the WSDL VMwareVspanSession with pointers for optional scalars.
type VMwareVspanSession struct {
	types.DynamicData

	Key                   *string          `xml:"key,omitempty"`
	Name                  *string          `xml:"name,omitempty"`
	Description           *string          `xml:"description,omitempty"`
	Enabled               bool             `xml:"enabled"`
	SourcePortTransmitted *VMwareVspanPort `xml:"sourcePortTransmitted,omitempty"`
	SourcePortReceived    *VMwareVspanPort `xml:"sourcePortReceived,omitempty"`
	DestinationPort       *VMwareVspanPort `xml:"destinationPort,omitempty"`
	EncapsulationVlanId   *int32           `xml:"encapsulationVlanId,omitempty"`
	StripOriginalVlan     bool             `xml:"stripOriginalVlan"`
	MirroredPacketLength  *int32           `xml:"mirroredPacketLength,omitempty"`
	NormalTrafficAllowed  bool             `xml:"normalTrafficAllowed"`
	SessionType           *string          `xml:"sessionType,omitempty"`
	SamplingRate          *int32           `xml:"samplingRate,omitempty"`
	EncapType             *string          `xml:"encapType,omitempty"`
	ErspanId              *int32           `xml:"erspanId,omitempty"`
	ErspanCOS             *int32           `xml:"erspanCOS,omitempty"`
	ErspanGraNanosec      *bool            `xml:"erspanGraNanosec,omitempty"`
	Netstack              *string          `xml:"netstack,omitempty"`
}

// ArrayOfVMwareVspanSession is what the PropertyCollector wraps config.vspanSession in.
type ArrayOfVMwareVspanSession struct {
	VMwareVspanSession []VMwareVspanSession `xml:"VMwareVspanSession,omitempty"`
}

// VMwareDVSVspanConfigSpec is the WSDL VMwareDVSVspanConfigSpec.
type VMwareDVSVspanConfigSpec struct {
	types.DynamicData

	VspanSession VMwareVspanSession `xml:"vspanSession"`
	Operation    string             `xml:"operation"`
}

// VMwareDVSConfigSpec is the WSDL VMwareDVSConfigSpec with our session types.
type VMwareDVSConfigSpec struct {
	types.DVSConfigSpec

	PvlanConfigSpec             []types.VMwareDVSPvlanConfigSpec   `xml:"pvlanConfigSpec,omitempty"`
	VspanConfigSpec             []VMwareDVSVspanConfigSpec         `xml:"vspanConfigSpec,omitempty"`
	MaxMtu                      int32                              `xml:"maxMtu,omitempty"`
	LinkDiscoveryProtocolConfig *types.LinkDiscoveryProtocolConfig `xml:"linkDiscoveryProtocolConfig,omitempty"`
	IpfixConfig                 *types.VMwareIpfixConfig           `xml:"ipfixConfig,omitempty"`
	LacpApiVersion              string                             `xml:"lacpApiVersion,omitempty"`
	MulticastFilteringMode      string                             `xml:"multicastFilteringMode,omitempty"`
}

// VMwareDVSConfigInfo is the WSDL VMwareDVSConfigInfo with our session type.
type VMwareDVSConfigInfo struct {
	types.DVSConfigInfo

	VspanSession                []VMwareVspanSession               `xml:"vspanSession,omitempty"`
	PvlanConfig                 []types.VMwareDVSPvlanMapEntry     `xml:"pvlanConfig,omitempty"`
	MaxMtu                      int32                              `xml:"maxMtu"`
	LinkDiscoveryProtocolConfig *types.LinkDiscoveryProtocolConfig `xml:"linkDiscoveryProtocolConfig,omitempty"`
	IpfixConfig                 *types.VMwareIpfixConfig           `xml:"ipfixConfig,omitempty"`
	LacpGroupConfig             []types.VMwareDvsLacpGroupConfig   `xml:"lacpGroupConfig,omitempty"`
	LacpApiVersion              string                             `xml:"lacpApiVersion,omitempty"`
	MulticastFilteringMode      string                             `xml:"multicastFilteringMode,omitempty"`
}

func init() {
	types.Add("VMwareVspanPort", reflect.TypeOf((*VMwareVspanPort)(nil)).Elem())
	types.Add("VMwareVspanSession", reflect.TypeOf((*VMwareVspanSession)(nil)).Elem())
	types.Add("ArrayOfVMwareVspanSession", reflect.TypeOf((*ArrayOfVMwareVspanSession)(nil)).Elem())
	types.Add("VMwareDVSVspanConfigSpec", reflect.TypeOf((*VMwareDVSVspanConfigSpec)(nil)).Elem())
	types.Add("VMwareDVSConfigSpec", reflect.TypeOf((*VMwareDVSConfigSpec)(nil)).Elem())
	types.Add("VMwareDVSConfigInfo", reflect.TypeOf((*VMwareDVSConfigInfo)(nil)).Elem())
}

// vspanFault is a fault and the message shown as the task's localizedMessage.
type vspanFault struct {
	fault types.BaseMethodFault
	msg   string
}

func invalidArgument(prop string, format string, args ...interface{}) *vspanFault {
	return &vspanFault{&types.InvalidArgument{InvalidProperty: prop}, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...interface{}) *vspanFault {
	return &vspanFault{&types.NotFound{}, fmt.Sprintf(format, args...)}
}

var sessionTypes = map[string]bool{
	"mixedDestMirror":                true,
	"dvPortMirror":                   true,
	"remoteMirrorSource":             true,
	"remoteMirrorDest":               true,
	"encapsulatedRemoteMirrorSource": true,
}

func ports(p *VMwareVspanPort) VMwareVspanPort {
	if p == nil {
		return VMwareVspanPort{}
	}
	return *p
}

// vspanContext is what session validation needs to know about the switch.
type vspanContext struct {
	portExists func(key string) bool
	uplinks    map[string]bool
}

// checkSession validates one session to be added or edited (vspan.md §2.2, §3, V1/V2, V6–V13).
func (c *vspanContext) checkSession(s *VMwareVspanSession, key string) *vspanFault {
	st := "mixedDestMirror"
	if s.SessionType != nil {
		st = *s.SessionType
	}
	if !sessionTypes[st] {
		return invalidArgument("vspanSession.sessionType", "%q is not a valid session type", st)
	}
	if n := utf8.RuneCountInString(strOr(s.Name, "")); n > 80 {
		return invalidArgument("vspanSession.name", "the session name has %d characters; at most 80 are allowed", n)
	}

	tx, rx, dst := ports(s.SourcePortTransmitted), ports(s.SourcePortReceived), ports(s.DestinationPort)

	// Lists that do not apply where they are used (V6, V7, V8).
	for _, src := range []struct {
		name string
		p    VMwareVspanPort
	}{{"sourcePortTransmitted", tx}, {"sourcePortReceived", rx}} {
		prop := "vspanSession." + src.name
		if len(src.p.UplinkPortName) > 0 {
			return invalidArgument(prop+".uplinkPortName", "uplink names cannot be mirror sources")
		}
		if len(src.p.IpAddress) > 0 {
			return invalidArgument(prop+".ipAddress", "IP addresses cannot be mirror sources")
		}
		if len(src.p.Vlans) > 0 && !(st == "remoteMirrorDest" && src.name == "sourcePortReceived") {
			return invalidArgument(prop+".vlans", "VLAN sources are only allowed as received sources of remoteMirrorDest sessions")
		}
	}
	if len(tx.WildcardPortConnecteeType) > 0 {
		return invalidArgument("vspanSession.sourcePortTransmitted.wildcardPortConnecteeType", "wildcard ports cannot be transmitted sources")
	}
	if len(dst.WildcardPortConnecteeType) > 0 {
		return invalidArgument("vspanSession.destinationPort.wildcardPortConnecteeType", "wildcard ports cannot be destinations")
	}
	if st == "remoteMirrorDest" {
		if len(tx.PortKey) > 0 || len(tx.WildcardPortConnecteeType) > 0 {
			return invalidArgument("vspanSession.sourcePortTransmitted", "remoteMirrorDest sessions have no transmitted sources")
		}
		if len(rx.PortKey) > 0 {
			return invalidArgument("vspanSession.sourcePortReceived.portKey", "remoteMirrorDest sessions take VLANs, not ports, as sources")
		}
		if len(rx.WildcardPortConnecteeType) > 0 {
			return invalidArgument("vspanSession.sourcePortReceived.wildcardPortConnecteeType", "remoteMirrorDest sessions take VLANs, not ports, as sources")
		}
	}
	if len(dst.Vlans) > 0 {
		return invalidArgument("vspanSession.destinationPort.vlans", "VLANs cannot be mirror destinations")
	}
	if len(dst.IpAddress) > 0 && st != "encapsulatedRemoteMirrorSource" {
		return invalidArgument("vspanSession.destinationPort.ipAddress", "IP destinations are only allowed for encapsulatedRemoteMirrorSource sessions")
	}
	if len(dst.UplinkPortName) > 0 && st != "remoteMirrorSource" && st != "mixedDestMirror" {
		return invalidArgument("vspanSession.destinationPort.uplinkPortName", "uplink destinations are only allowed for remoteMirrorSource and mixedDestMirror sessions")
	}
	if len(dst.PortKey) > 0 && (st == "encapsulatedRemoteMirrorSource" || st == "remoteMirrorSource") {
		return invalidArgument("vspanSession.destinationPort.portKey", "%s sessions do not mirror to ports (vspan.md §2.1)", st)
	}

	// Ranges (V11, V12).
	if s.SamplingRate != nil {
		if st == "mixedDestMirror" {
			return invalidArgument("vspanSession.samplingRate", "mixedDestMirror sessions cannot set a sampling rate")
		}
		if *s.SamplingRate < 1 || *s.SamplingRate > 65535 {
			return invalidArgument("vspanSession.samplingRate", "sampling rate %d is outside 1-65535", *s.SamplingRate)
		}
	}
	// -1 means "mirror whole frames" (vCenter's QA data, vspan.md §3): stored as unset.
	if v := s.MirroredPacketLength; v != nil && *v == -1 {
		s.MirroredPacketLength = nil
	} else if v != nil && *v < 60 {
		return invalidArgument("vspanSession.mirroredPacketLength", "mirrored packet length %d is less than 60 (or -1 for whole frames)", *v)
	}
	switch st {
	case "remoteMirrorSource":
		if s.EncapsulationVlanId == nil || *s.EncapsulationVlanId < 1 || *s.EncapsulationVlanId > 4094 {
			return invalidArgument("vspanSession.encapsulationVlanId", "remoteMirrorSource sessions need an encapsulation VLAN in 1-4094")
		}
	case "encapsulatedRemoteMirrorSource":
		if s.EncapsulationVlanId != nil {
			return invalidArgument("vspanSession.encapsulationVlanId", "encapsulatedRemoteMirrorSource sessions cannot set an encapsulation VLAN")
		}
	default:
		if v := s.EncapsulationVlanId; v != nil && (*v < 0 || *v > 4094) {
			return invalidArgument("vspanSession.encapsulationVlanId", "encapsulation VLAN %d is outside 0-4094", *v)
		}
	}
	for _, v := range rx.Vlans {
		if v < 0 || v > 4094 {
			return invalidArgument("vspanSession.sourcePortReceived.vlans", "VLAN %d is outside 0-4094", v)
		}
	}
	if v := s.ErspanId; v != nil && (*v < 0 || *v > 1023) {
		return invalidArgument("vspanSession.erspanId", "ERSPAN ID %d is outside 0-1023", *v)
	}
	if v := s.ErspanCOS; v != nil && (*v < 0 || *v > 7) {
		return invalidArgument("vspanSession.erspanCOS", "ERSPAN class of service %d is outside 0-7", *v)
	}
	switch strOr(s.EncapType, "") {
	case "", "gre", "erspan2", "erspan3":
	default:
		return invalidArgument("vspanSession.encapType", "%q is not a valid encapsulation type", *s.EncapType)
	}
	for _, ip := range dst.IpAddress {
		if net.ParseIP(ip) == nil {
			return invalidArgument("vspanSession.destinationPort.ipAddress", "%q is not an IP address", ip)
		}
	}

	// Existence (V9, V10).
	for _, list := range [][]string{tx.PortKey, rx.PortKey, dst.PortKey} {
		for _, k := range list {
			if !c.portExists(k) {
				return notFound("port %q does not exist on the switch", k)
			}
		}
	}
	for _, u := range dst.UplinkPortName {
		if !c.uplinks[u] {
			return notFound("uplink %q does not exist on the switch", u)
		}
	}

	// Same-session conflicts (V1, V2).
	src := map[string]bool{}
	for _, k := range tx.PortKey {
		src[k] = true
	}
	for _, k := range rx.PortKey {
		src[k] = true
	}
	for _, k := range dst.PortKey {
		if src[k] {
			return &vspanFault{
				&types.VspanSameSessionPortConflict{VspanSessionKey: key, PortKey: k},
				fmt.Sprintf("port %s is both a source and a destination of session %s", k, key),
			}
		}
	}
	return nil
}

// applyVspan applies a batch of session changes to sessions, all or nothing.
// nextKey is the next generated key; it returns the new sessions and the next key.
func (c *vspanContext) applyVspan(current []VMwareVspanSession, specs []VMwareDVSVspanConfigSpec, nextKey int) ([]VMwareVspanSession, int, *vspanFault) {
	sessions := make([]VMwareVspanSession, len(current))
	copy(sessions, current)
	index := func(key string) int {
		for i := range sessions {
			if sessions[i].Key != nil && *sessions[i].Key == key {
				return i
			}
		}
		return -1
	}
	seen := map[string]bool{}
	changed := map[string]bool{}

	for i := range specs {
		spec := specs[i]
		s := spec.VspanSession
		switch spec.Operation {
		case "add":
			if s.Key != nil && *s.Key != "" {
				return nil, 0, invalidArgument("vspanSession.key", "a new session must not have a key (vCenter assigns it)")
			}
			key := strconv.Itoa(nextKey)
			nextKey++
			s.Key = &key
			if s.SessionType == nil {
				t := "mixedDestMirror"
				s.SessionType = &t
			}
			if f := c.checkSession(&s, key); f != nil {
				return nil, 0, f
			}
			seen[key] = true
			changed[key] = true
			sessions = append(sessions, s)
		case "edit", "remove":
			if s.Key == nil {
				return nil, 0, invalidArgument("vspanSession.key", "%s needs the key of the session", spec.Operation)
			}
			key := *s.Key
			if seen[key] {
				return nil, 0, invalidArgument("vspanSession.key", "session %q appears more than once in one change", key)
			}
			seen[key] = true
			at := index(key)
			if at < 0 {
				return nil, 0, notFound("no session with key %q", key)
			}
			if spec.Operation == "remove" {
				sessions = append(sessions[:at:at], sessions[at+1:]...)
				continue
			}
			s = mergeSession(sessions[at], s)
			if f := c.checkSession(&s, key); f != nil {
				return nil, 0, f
			}
			changed[key] = true
			sessions[at] = s
		default:
			return nil, 0, invalidArgument("operation", "%q is not add, edit or remove", spec.Operation)
		}
	}

	if f := crossConflicts(sessions, changed); f != nil {
		return nil, 0, f
	}
	return sessions, nextKey, nil
}

// mergeSession is an edit as vCenter applies it: the fields the edit sets replace the stored
// ones, and what it leaves unset keeps its stored value (reference/vspan.md §5.2: the QA
// suite's oracle DistributedVirtualSwitchHelper.mergeVspansCfgs merges the non-null fields).
// The required booleans are always set. A port list that is sent replaces the stored list
// as a whole (dvmirror sends an empty one to clear it); that part is not verified against a
// real vCenter.
func mergeSession(stored, edit VMwareVspanSession) VMwareVspanSession {
	out := stored
	out.Key = edit.Key
	out.Enabled = edit.Enabled
	out.StripOriginalVlan = edit.StripOriginalVlan
	out.NormalTrafficAllowed = edit.NormalTrafficAllowed
	if edit.Name != nil {
		out.Name = edit.Name
	}
	if edit.Description != nil {
		out.Description = edit.Description
	}
	if edit.SourcePortTransmitted != nil {
		out.SourcePortTransmitted = edit.SourcePortTransmitted
	}
	if edit.SourcePortReceived != nil {
		out.SourcePortReceived = edit.SourcePortReceived
	}
	if edit.DestinationPort != nil {
		out.DestinationPort = edit.DestinationPort
	}
	if edit.EncapsulationVlanId != nil {
		out.EncapsulationVlanId = edit.EncapsulationVlanId
	}
	if edit.MirroredPacketLength != nil {
		out.MirroredPacketLength = edit.MirroredPacketLength
	}
	if edit.SessionType != nil {
		out.SessionType = edit.SessionType
	}
	if edit.SamplingRate != nil {
		out.SamplingRate = edit.SamplingRate
	}
	if edit.EncapType != nil {
		out.EncapType = edit.EncapType
	}
	if edit.ErspanId != nil {
		out.ErspanId = edit.ErspanId
	}
	if edit.ErspanCOS != nil {
		out.ErspanCOS = edit.ErspanCOS
	}
	if edit.ErspanGraNanosec != nil {
		out.ErspanGraNanosec = edit.ErspanGraNanosec
	}
	if edit.Netstack != nil {
		out.Netstack = edit.Netstack
	}
	return out
}

// crossConflicts finds V3 and V4 between two sessions, at least one of them changed.
func crossConflicts(sessions []VMwareVspanSession, changed map[string]bool) *vspanFault {
	dest := map[string][]string{} // port key -> sessions with it as destination
	tx := map[string][]string{}   // port key -> sessions with it as transmitted source
	var keys []string
	for _, s := range sessions {
		key := ""
		if s.Key != nil {
			key = *s.Key
		}
		for _, k := range ports(s.DestinationPort).PortKey {
			if len(dest[k]) == 0 {
				keys = append(keys, k)
			}
			dest[k] = appendOnce(dest[k], key)
		}
		for _, k := range ports(s.SourcePortTransmitted).PortKey {
			tx[k] = appendOnce(tx[k], key)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := dest[k]
		for i := 0; i < len(d); i++ {
			for j := i + 1; j < len(d); j++ {
				if changed[d[i]] || changed[d[j]] {
					return &vspanFault{
						&types.VspanDestPortConflict{VspanSessionKey1: d[i], VspanSessionKey2: d[j], PortKey: k},
						fmt.Sprintf("port %s is the destination of sessions %s and %s", k, d[i], d[j]),
					}
				}
			}
		}
	}
	for _, k := range keys {
		for _, src := range tx[k] {
			for _, d := range dest[k] {
				if src == d {
					continue // same session: checked by checkSession
				}
				if changed[src] || changed[d] {
					return &vspanFault{
						&types.VspanPortConflict{VspanSessionKey1: src, VspanSessionKey2: d, PortKey: k},
						fmt.Sprintf("port %s is a transmitted source of session %s and the destination of session %s", k, src, d),
					}
				}
			}
		}
	}
	return nil
}

func appendOnce(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
