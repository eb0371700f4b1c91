package main

// The lab JSON format of tui/backends/snapshot.py (parse_inventory / dump_inventory).

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
)

type labVlan struct {
	ID    *int32     `json:"id"`
	Trunk [][2]int32 `json:"trunk"`
	Pvlan *int32     `json:"pvlan"`
}

type labHost struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

type labCapability struct {
	Vspan               json.RawMessage `json:"vspan"`
	SessionTypes        []string        `json:"sessionTypes"`
	UnknownSessionTypes []string        `json:"unknownSessionTypes"`
	Erspan              json.RawMessage `json:"erspan"`
}

type labSwitch struct {
	Key           string            `json:"key"`
	Name          string            `json:"name"`
	Moid          string            `json:"moid"`
	Datacenter    string            `json:"datacenter"`
	Version       string            `json:"version"`
	UplinkNames   []string          `json:"uplinkNames"`
	ConfigVersion string            `json:"configVersion"`
	Capability    *labCapability    `json:"capability"`
	Sessions      []json.RawMessage `json:"sessions"`
}

type labPortgroup struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Switch      string   `json:"switch"`
	Vlan        *labVlan `json:"vlan"`
	Binding     string   `json:"binding"`
	Promiscuous bool     `json:"promiscuous"`
	Uplink      bool     `json:"uplink"`
	NumPorts    int32    `json:"numPorts"`
	// A portgroup of an NSX segment (the snapshot format's "nsx"): config.backingType "nsx" (7.0).
	Nsx bool `json:"nsx"`
}

type labConnectee struct {
	Type   string `json:"type"`
	Entity string `json:"entity"`
	NicKey string `json:"nicKey"`
}

type labPort struct {
	Key         string        `json:"key"`
	Switch      string        `json:"switch"`
	Portgroup   string        `json:"portgroup"`
	Name        string        `json:"name"`
	Connectee   *labConnectee `json:"connectee"`
	Host        string        `json:"host"`
	LinkUp      bool          `json:"linkUp"`
	Mac         string        `json:"mac"`
	Promiscuous bool          `json:"promiscuous"`
}

type labNic struct {
	Key       int32    `json:"key"`
	Label     string   `json:"label"`
	Mac       string   `json:"mac"`
	Switch    string   `json:"switch"`
	Portgroup string   `json:"portgroup"`
	Port      string   `json:"port"`
	Connected *bool    `json:"connected"`
	Ips       []string `json:"ips"`
}

type labVM struct {
	Key   string   `json:"key"`
	Name  string   `json:"name"`
	Host  string   `json:"host"`
	Power string   `json:"power"`
	Nics  []labNic `json:"nics"`
}

type lab struct {
	Format      string         `json:"format"`
	Version     int            `json:"version"`
	Vcenter     string         `json:"vcenter"`
	Datacenters []string       `json:"datacenters"`
	Hosts       []labHost      `json:"hosts"`
	Switches    []labSwitch    `json:"switches"`
	Portgroups  []labPortgroup `json:"portgroups"`
	Ports       []labPort      `json:"ports"`
	Vms         []labVM        `json:"vms"`
}

// labSession is a session as the lab stores it (MirrorSession.to_api): nulls for unset values.
type labSession struct {
	Key                   *string       `json:"key"`
	Name                  string        `json:"name"`
	Description           string        `json:"description"`
	Enabled               *bool         `json:"enabled"`
	SessionType           *string       `json:"sessionType"`
	SourcePortTransmitted *labVspanPort `json:"sourcePortTransmitted"`
	SourcePortReceived    *labVspanPort `json:"sourcePortReceived"`
	DestinationPort       *labVspanPort `json:"destinationPort"`
	EncapsulationVlanID   *int32        `json:"encapsulationVlanId"`
	StripOriginalVlan     bool          `json:"stripOriginalVlan"`
	MirroredPacketLength  *int32        `json:"mirroredPacketLength"`
	NormalTrafficAllowed  bool          `json:"normalTrafficAllowed"`
	SamplingRate          *int32        `json:"samplingRate"`
	EncapType             *string       `json:"encapType"`
	ErspanID              *int32        `json:"erspanId"`
	ErspanCOS             *int32        `json:"erspanCOS"`
	ErspanGraNanosec      *bool         `json:"erspanGraNanosec"`
	Netstack              *string       `json:"netstack"`
}

type labVspanPort struct {
	PortKey                   []string `json:"portKey"`
	UplinkPortName            []string `json:"uplinkPortName"`
	Vlans                     []int32  `json:"vlans"`
	IPAddress                 []string `json:"ipAddress"`
	WildcardPortConnecteeType []string `json:"wildcardPortConnecteeType"`
}

func readLab(path string) (*lab, error) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var l lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if l.Format != "dvmirror-snapshot" {
		return nil, fmt.Errorf("%s: format %q is not dvmirror-snapshot", path, l.Format)
	}
	if l.Version != 1 && l.Version != 2 { // 2 adds portStatistics, which this server does not read
		return nil, fmt.Errorf("%s: version %d is not supported", path, l.Version)
	}
	return &l, nil
}

func strOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// strPtr is nil for "" (the lab's unset text), else a pointer to s.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *labSession) toVspan() VMwareVspanSession {
	out := VMwareVspanSession{
		Key:                   s.Key,
		Name:                  strPtr(s.Name),
		Description:           strPtr(s.Description),
		Enabled:               s.Enabled == nil || *s.Enabled,
		SourcePortTransmitted: s.SourcePortTransmitted.toVspan(),
		SourcePortReceived:    s.SourcePortReceived.toVspan(),
		DestinationPort:       s.DestinationPort.toVspan(),
		EncapsulationVlanId:   s.EncapsulationVlanID,
		StripOriginalVlan:     s.StripOriginalVlan,
		MirroredPacketLength:  s.MirroredPacketLength,
		NormalTrafficAllowed:  s.NormalTrafficAllowed,
		SessionType:           s.SessionType,
		SamplingRate:          s.SamplingRate,
		EncapType:             strPtr(strOr(s.EncapType, "")),
		ErspanId:              s.ErspanID,
		ErspanCOS:             s.ErspanCOS,
		ErspanGraNanosec:      s.ErspanGraNanosec,
		Netstack:              strPtr(strOr(s.Netstack, "")),
	}
	return out
}

func (p *labVspanPort) toVspan() *VMwareVspanPort {
	if p == nil {
		return nil
	}
	return &VMwareVspanPort{
		PortKey:                   p.PortKey,
		UplinkPortName:            p.UplinkPortName,
		WildcardPortConnecteeType: p.WildcardPortConnecteeType,
		Vlans:                     p.Vlans,
		IpAddress:                 p.IPAddress,
	}
}
