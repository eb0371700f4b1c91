// Command govview dumps, as one JSON document, what govmomi's own client libraries see on a
// vCenter: the library calls govc's ls, find, device.info and dvs.portgroup.info are built on
// (govc itself is not in Debian's govmomi package). It is the independent view dvmirror's
// contract test compares with (tests/integration/test_stock_vcsim.py):
//
//   - datacenters:   find.Finder.DatacenterList("*")                      (govc ls /, find -type d)
//   - switches:      view.Manager ContainerView.Retrieve(DistributedVirtualSwitch: name, uuid, parent)
//   - portgroups:    ContainerView.Retrieve(DistributedVirtualPortgroup: name, key, config)
//     (dvs.portgroup.info reads the portgroup key the same way)
//   - hosts:         ContainerView.Retrieve(HostSystem: name)            (govc find -type h)
//   - vms:           ContainerView.Retrieve(VirtualMachine: name, runtime, config.hardware.device)
//     and object.VirtualDeviceList for the NICs                    (govc device.info)
//   - ports:         FetchDVPorts per switch through methods.FetchDVPorts, criteria unset as
//     dvmirror sends it, and with dvs.portgroup.info's criteria (inside=true, per portgroup key)
//
// Flags: -url URL (http(s)://host:port/sdk), -user, -password, -ca FILE (trust this PEM),
// -thumbprint AB:CD:.. (pin). Exits 1 with the error on standard error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type vlan struct {
	Kind  string     `json:"kind"` // "vlan", "trunk", "pvlan" or "" (none set)
	ID    *int32     `json:"id,omitempty"`
	Trunk [][2]int32 `json:"trunk,omitempty"`
}

type nic struct {
	Key          int32  `json:"key"`
	Label        string `json:"label"`
	Name         string `json:"name"` // VirtualDeviceList.Name, e.g. ethernet-0 (govc's device name)
	Type         string `json:"type"` // VirtualDeviceList.TypeName, e.g. VirtualE1000
	MAC          string `json:"mac"`
	Connected    *bool  `json:"connected"`
	Backing      string `json:"backing"` // Go type of the backing
	SwitchUUID   string `json:"switch_uuid"`
	PortgroupKey string `json:"portgroup_key"`
	PortKey      string `json:"port_key"`
	Network      string `json:"network"` // a standard backing's deviceName; an opaque one's "type id"
}

type vmView struct {
	Moid  string `json:"moid"`
	Name  string `json:"name"`
	Host  string `json:"host"` // host name
	Power string `json:"power"`
	NICs  []nic  `json:"nics"`
}

type port struct {
	Key          string `json:"key"`
	PortgroupKey string `json:"portgroup_key"`
	DvsUUID      string `json:"dvs_uuid"`
	Connectee    *struct {
		Type   string `json:"type"`
		Entity string `json:"entity"`
		NicKey string `json:"nic_key"`
	} `json:"connectee"`
}

type dump struct {
	About struct {
		APIVersion string `json:"api_version"`
		Version    string `json:"version"`
		FullName   string `json:"full_name"`
	} `json:"about"`
	Datacenters []string `json:"datacenters"`
	Switches    []struct {
		Moid       string `json:"moid"`
		Type       string `json:"type"`
		Name       string `json:"name"`
		UUID       string `json:"uuid"`
		Datacenter string `json:"datacenter"`
	} `json:"switches"`
	Portgroups []struct {
		Moid       string `json:"moid"`
		Name       string `json:"name"`
		Key        string `json:"key"`
		SwitchUUID string `json:"switch_uuid"`
		Vlan       vlan   `json:"vlan"`
		Uplink     *bool  `json:"uplink"`
		VMs        int    `json:"vms"` // len(pg.vm): stock vcsim never fills it
	} `json:"portgroups"`
	Hosts []string `json:"hosts"`
	VMs   []vmView `json:"vms"`
	// Ports per switch UUID: FetchDVPorts with criteria unset (what dvmirror sends) ...
	Ports map[string][]port `json:"ports"`
	// ... and the count FetchDVPorts returns for dvs.portgroup.info's criteria
	// (inside=true, portgroupKey=[key]) per portgroup key: equal counts mean the criteria are ignored.
	PortsByPortgroupCriteria map[string]int `json:"ports_by_portgroup_criteria"`
	// Ports per switch moid: two switches may share a UUID (stock vcsim derives it from the name).
	PortsByMoid map[string][]port `json:"ports_by_moid"`
	// The switch moid of each portgroup (config.distributedVirtualSwitch).
	PortgroupSwitch map[string]string `json:"portgroup_switch_moid"`
}

func vlanOf(setting types.BaseDVPortSetting) vlan {
	s, ok := setting.(*types.VMwareDVSPortSetting)
	if !ok || s == nil || s.Vlan == nil {
		return vlan{}
	}
	switch v := s.Vlan.(type) {
	case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
		id := v.VlanId
		return vlan{Kind: "vlan", ID: &id}
	case *types.VmwareDistributedVirtualSwitchTrunkVlanSpec:
		out := vlan{Kind: "trunk", Trunk: [][2]int32{}}
		for _, r := range v.VlanId {
			out.Trunk = append(out.Trunk, [2]int32{r.Start, r.End})
		}
		return out
	case *types.VmwareDistributedVirtualSwitchPvlanSpec:
		id := v.PvlanId
		return vlan{Kind: "pvlan", ID: &id}
	}
	return vlan{Kind: fmt.Sprintf("%T", s.Vlan)}
}

func connect(ctx context.Context, raw, user, password, ca, thumbprint string) (*govmomi.Client, error) {
	u, err := soap.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	sc := soap.NewClient(u, false)
	if ca != "" {
		if err := sc.SetRootCAs(ca); err != nil {
			return nil, err
		}
	}
	if thumbprint != "" {
		sc.SetThumbprint(u.Host, thumbprint)
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, err
	}
	c := &govmomi.Client{Client: vc, SessionManager: session.NewManager(vc)}
	if err := c.Login(ctx, url.UserPassword(user, password)); err != nil {
		return nil, err
	}
	return c, nil
}

// datacenterOf walks parent references up to a Datacenter (govc's find prints paths the same way).
func datacenterOf(ctx context.Context, pc *property.Collector, ref *types.ManagedObjectReference) string {
	for i := 0; ref != nil && i < 64; i++ {
		var me mo.ManagedEntity
		if err := pc.RetrieveOne(ctx, *ref, []string{"name", "parent"}, &me); err != nil {
			return ""
		}
		if ref.Type == "Datacenter" {
			return me.Name
		}
		ref = me.Parent
	}
	return ""
}

func run() error {
	rawURL := flag.String("url", "", "vCenter SDK URL")
	user := flag.String("user", "user", "user name")
	password := flag.String("password", "pass", "password")
	ca := flag.String("ca", "", "PEM file of CA certificates to trust")
	thumbprint := flag.String("thumbprint", "", "SHA-1 thumbprint to pin")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := connect(ctx, *rawURL, *user, *password, *ca, *thumbprint)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	var out dump
	about := c.ServiceContent.About
	out.About.APIVersion, out.About.Version, out.About.FullName = about.ApiVersion, about.Version, about.FullName

	finder := find.NewFinder(c.Client, true)
	dcs, err := finder.DatacenterList(ctx, "*")
	if err != nil {
		return fmt.Errorf("datacenters: %w", err)
	}
	for _, dc := range dcs {
		out.Datacenters = append(out.Datacenters, dc.Name())
	}
	sort.Strings(out.Datacenters)

	m := view.NewManager(c.Client)
	v, err := m.CreateContainerView(ctx, c.ServiceContent.RootFolder, nil, true)
	if err != nil {
		return err
	}
	defer func() { _ = v.Destroy(ctx) }()
	pc := property.DefaultCollector(c.Client)

	var switches []mo.DistributedVirtualSwitch
	if err := v.Retrieve(ctx, []string{"DistributedVirtualSwitch"}, []string{"name", "uuid", "parent"}, &switches); err != nil {
		return fmt.Errorf("switches: %w", err)
	}
	uuidOf := map[string]string{}
	for _, s := range switches {
		uuidOf[s.Self.Value] = s.Uuid
		out.Switches = append(out.Switches, struct {
			Moid       string `json:"moid"`
			Type       string `json:"type"`
			Name       string `json:"name"`
			UUID       string `json:"uuid"`
			Datacenter string `json:"datacenter"`
		}{s.Self.Value, s.Self.Type, s.Name, s.Uuid, datacenterOf(ctx, pc, s.Parent)})
	}

	var pgs []mo.DistributedVirtualPortgroup
	if err := v.Retrieve(ctx, []string{"DistributedVirtualPortgroup"}, []string{"name", "key", "config", "vm"}, &pgs); err != nil {
		return fmt.Errorf("portgroups: %w", err)
	}
	for _, pg := range pgs {
		sw := ""
		if pg.Config.DistributedVirtualSwitch != nil {
			sw = uuidOf[pg.Config.DistributedVirtualSwitch.Value]
		}
		out.Portgroups = append(out.Portgroups, struct {
			Moid       string `json:"moid"`
			Name       string `json:"name"`
			Key        string `json:"key"`
			SwitchUUID string `json:"switch_uuid"`
			Vlan       vlan   `json:"vlan"`
			Uplink     *bool  `json:"uplink"`
			VMs        int    `json:"vms"`
		}{pg.Self.Value, pg.Name, pg.Key, sw, vlanOf(pg.Config.DefaultPortConfig), pg.Config.Uplink, len(pg.Vm)})
	}

	var hosts []mo.HostSystem
	if err := v.Retrieve(ctx, []string{"HostSystem"}, []string{"name"}, &hosts); err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	hostName := map[string]string{}
	for _, h := range hosts {
		hostName[h.Self.Value] = h.Name
		out.Hosts = append(out.Hosts, h.Name)
	}
	sort.Strings(out.Hosts)

	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name", "runtime", "config.hardware.device"}, &vms); err != nil {
		return fmt.Errorf("vms: %w", err)
	}
	for _, vm := range vms {
		one := vmView{Moid: vm.Self.Value, Name: vm.Name, Power: string(vm.Runtime.PowerState), NICs: []nic{}}
		if vm.Runtime.Host != nil {
			one.Host = hostName[vm.Runtime.Host.Value]
		}
		var devices object.VirtualDeviceList
		if vm.Config != nil {
			devices = object.VirtualDeviceList(vm.Config.Hardware.Device)
		}
		for _, d := range devices.SelectByType((*types.VirtualEthernetCard)(nil)) {
			card := d.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
			n := nic{Key: card.Key, Name: devices.Name(d), Type: devices.TypeName(d), MAC: card.MacAddress}
			if desc := card.DeviceInfo; desc != nil {
				n.Label = desc.GetDescription().Label
			}
			if card.Connectable != nil {
				connected := card.Connectable.Connected
				n.Connected = &connected
			}
			if card.Backing != nil {
				n.Backing = fmt.Sprintf("%T", card.Backing)
			}
			switch b := card.Backing.(type) {
			case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
				n.SwitchUUID, n.PortgroupKey, n.PortKey = b.Port.SwitchUuid, b.Port.PortgroupKey, b.Port.PortKey
			case *types.VirtualEthernetCardNetworkBackingInfo:
				n.Network = b.DeviceName
			case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
				n.Network = b.OpaqueNetworkType + " " + b.OpaqueNetworkId
			}
			one.NICs = append(one.NICs, n)
		}
		out.VMs = append(out.VMs, one)
	}
	sort.Slice(out.VMs, func(i, j int) bool { return out.VMs[i].Name < out.VMs[j].Name })

	out.Ports = map[string][]port{}
	out.PortsByPortgroupCriteria = map[string]int{}
	out.PortsByMoid = map[string][]port{}
	out.PortgroupSwitch = map[string]string{}
	for _, pg := range pgs {
		if pg.Config.DistributedVirtualSwitch != nil {
			out.PortgroupSwitch[pg.Key] = pg.Config.DistributedVirtualSwitch.Value
		}
	}
	for _, s := range switches {
		res, err := methods.FetchDVPorts(ctx, c.Client, &types.FetchDVPorts{This: s.Self})
		if err != nil {
			return fmt.Errorf("FetchDVPorts on %s: %w", s.Name, err)
		}
		list := []port{}
		for _, p := range res.Returnval {
			one := port{Key: p.Key, PortgroupKey: p.PortgroupKey, DvsUUID: p.DvsUuid}
			if ce := p.Connectee; ce != nil {
				one.Connectee = &struct {
					Type   string `json:"type"`
					Entity string `json:"entity"`
					NicKey string `json:"nic_key"`
				}{ce.Type, "", ce.NicKey}
				if ce.ConnectedEntity != nil {
					one.Connectee.Entity = ce.ConnectedEntity.Value
				}
			}
			list = append(list, one)
		}
		out.Ports[s.Uuid] = list
		out.PortsByMoid[s.Self.Value] = list
		for _, pg := range pgs {
			if pg.Config.DistributedVirtualSwitch == nil || pg.Config.DistributedVirtualSwitch.Value != s.Self.Value {
				continue
			}
			criteria := types.DistributedVirtualSwitchPortCriteria{Inside: types.NewBool(true), PortgroupKey: []string{pg.Key}}
			res, err := methods.FetchDVPorts(ctx, c.Client, &types.FetchDVPorts{This: s.Self, Criteria: &criteria})
			if err != nil {
				return fmt.Errorf("FetchDVPorts(portgroupKey=%s): %w", pg.Key, err)
			}
			out.PortsByPortgroupCriteria[pg.Key] = len(res.Returnval)
		}
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "govview:", err)
		os.Exit(1)
	}
}
