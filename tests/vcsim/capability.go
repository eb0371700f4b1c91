package main

// The switch's VSPAN capability (capability.featuresSupported, reference/vspan.md §1.5),
// including what a vCenter may leave unset: the lab's capability says a feature is
// supported (true), not supported (false) or not reported (null, or a session type listed
// in "unknownSessionTypes"), the format of tui/backends/snapshot.py.
//
// govmomi 0.24.2 declares the five session-type flags of VMwareDVSVspanCapability as plain
// bool, so it always sends them; the types below use pointers (nil = not sent) and are
// registered under the WSDL names in place of govmomi's.

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/vmware/govmomi/vim25/types"
)

// VMwareDVSVspanCapability is the WSDL VMwareDVSVspanCapability with optional flags.
type VMwareDVSVspanCapability struct {
	types.DynamicData

	MixedDestSupported         *bool `xml:"mixedDestSupported,omitempty"`
	DvportSupported            *bool `xml:"dvportSupported,omitempty"`
	RemoteSourceSupported      *bool `xml:"remoteSourceSupported,omitempty"`
	RemoteDestSupported        *bool `xml:"remoteDestSupported,omitempty"`
	EncapRemoteSourceSupported *bool `xml:"encapRemoteSourceSupported,omitempty"`
	ErspanProtocolSupported    *bool `xml:"erspanProtocolSupported,omitempty"`
	MirrorNetstackSupported    *bool `xml:"mirrorNetstackSupported,omitempty"`
}

// VMwareDVSFeatureCapability is the WSDL VMwareDVSFeatureCapability with our VSPAN capability.
type VMwareDVSFeatureCapability struct {
	types.DVSFeatureCapability

	VspanSupported             *bool                     `xml:"vspanSupported,omitempty"`
	LldpSupported              *bool                     `xml:"lldpSupported,omitempty"`
	IpfixSupported             *bool                     `xml:"ipfixSupported,omitempty"`
	MulticastSnoopingSupported *bool                     `xml:"multicastSnoopingSupported,omitempty"`
	VspanCapability            *VMwareDVSVspanCapability `xml:"vspanCapability,omitempty"`
	NsxSupported               *bool                     `xml:"nsxSupported,omitempty"`
}

func init() {
	types.Add("VMwareDVSVspanCapability", reflect.TypeOf((*VMwareDVSVspanCapability)(nil)).Elem())
	types.Add("VMwareDVSFeatureCapability", reflect.TypeOf((*VMwareDVSFeatureCapability)(nil)).Elem())
}

// labFlag reads a lab flag: missing = true (the format's default), null = not reported (nil).
func labFlag(raw json.RawMessage, name string) (*bool, error) {
	if len(raw) == 0 {
		return bp(true), nil
	}
	var v *bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("capability.%s: %v", name, err)
	}
	return v, nil
}

// featuresSupported builds capability.featuresSupported from the lab's capability; nil when
// nothing at all is reported (vspan, every session type and ERSPAN unknown).
func featuresSupported(caps *labCapability) (types.BaseDVSFeatureCapability, error) {
	if caps == nil {
		caps = &labCapability{}
	}
	vspan, err := labFlag(caps.Vspan, "vspan")
	if err != nil {
		return nil, err
	}
	erspan, err := labFlag(caps.Erspan, "erspan")
	if err != nil {
		return nil, err
	}
	supported := map[string]bool{}
	for _, t := range caps.SessionTypes {
		supported[t] = true
	}
	if caps.SessionTypes == nil || (len(caps.SessionTypes) == 0 && caps.UnknownSessionTypes == nil) {
		// Older labs: no (or an empty) list without unknownSessionTypes means every type.
		for t := range sessionTypes {
			supported[t] = true
		}
	}
	unknown := map[string]bool{}
	for _, t := range caps.UnknownSessionTypes {
		if !sessionTypes[t] {
			return nil, fmt.Errorf("capability.unknownSessionTypes: %q is not a session type", t)
		}
		unknown[t] = true
	}
	flag := func(t string) *bool {
		if unknown[t] {
			return nil
		}
		return bp(supported[t])
	}
	allUnknown := len(unknown) == len(sessionTypes)
	if vspan == nil && allUnknown && erspan == nil {
		return nil, nil // featuresSupported not reported at all
	}
	features := &VMwareDVSFeatureCapability{
		DVSFeatureCapability: types.DVSFeatureCapability{
			NetworkResourceManagementSupported: true,
			NicTeamingPolicy:                   []string{"loadbalance_ip", "loadbalance_srcmac", "loadbalance_srcid", "failover_explicit", "loadbalance_loadbased"},
			NetworkFilterSupported:             bp(true),
			MacLearningSupported:               bp(true),
		},
		VspanSupported:             vspan,
		LldpSupported:              bp(true),
		IpfixSupported:             bp(true),
		MulticastSnoopingSupported: bp(true),
		NsxSupported:               bp(false),
	}
	if allUnknown && erspan == nil {
		return features, nil // vspanCapability not reported (as for a vDS 5.0)
	}
	features.VspanCapability = &VMwareDVSVspanCapability{
		MixedDestSupported:         flag("mixedDestMirror"),
		DvportSupported:            flag("dvPortMirror"),
		RemoteSourceSupported:      flag("remoteMirrorSource"),
		RemoteDestSupported:        flag("remoteMirrorDest"),
		EncapRemoteSourceSupported: flag("encapsulatedRemoteMirrorSource"),
		ErspanProtocolSupported:    erspan,
		MirrorNetstackSupported:    bp(true),
	}
	return features, nil
}
