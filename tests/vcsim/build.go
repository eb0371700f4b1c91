package main

// Building the simulator inventory from a lab. Objects are made directly (not through
// CreateVM_Task and friends), which keeps building linear and fast at 10,000+ VMs, and
// keeps the lab's managed object IDs (host-11, dvportgroup-46, vm-1000, dvs-21) where the
// lab has them, so both backends load the same keys.

import (
	"crypto/sha1"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type builder struct {
	lab *lab
	now time.Time

	dcs       []*simulator.Datacenter
	dcIndex   map[string]int
	hostRef   map[string]types.ManagedObjectReference
	hostObj   map[string]*simulator.HostSystem
	hostPool  map[string]*simulator.ResourcePool
	hostCR    map[string]*mo.ComputeResource
	vmRef     map[string]types.ManagedObjectReference
	switches  map[string]*DVS // by lab key (= uuid)
	swLab     map[string]*labSwitch
	pgs       map[string]*simulator.DistributedVirtualPortgroup // by lab key
	pgLab     map[string]*labPortgroup
	settings  map[string]*types.VMwareDVSPortSetting // by pg key + promiscuous
	members   map[string][]string                    // switch key -> host keys, in lab order
	hostDC    map[string]int
	generated int
}

func bp(b bool) *bool { return &b }

func moref(kind, value string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: kind, Value: value}
}

func stableUUID(s string) string {
	sum := sha1.Sum([]byte(s))
	u, _ := uuid.FromBytes(sum[:16])
	return u.String()
}

// setRef gives obj the lab's ID, or a fresh one when the lab has none.
func (b *builder) setRef(e mo.Entity, kind, key string) {
	if key == "" {
		simulator.Map.NewEntity(e)
		return
	}
	e.Entity().Self = moref(kind, key)
}

// putChild is simulator's folderPutChild without the per-object bookkeeping.
func putChild(f *simulator.Folder, e mo.Entity) {
	f.ChildEntity = append(f.ChildEntity, e.Entity().Self)
	simulator.Map.PutEntity(f, e)
}

func folder(ref types.ManagedObjectReference) *simulator.Folder {
	return simulator.Map.Get(ref).(*simulator.Folder)
}

func vlanSpec(v *labVlan) types.BaseVmwareDistributedVirtualSwitchVlanSpec {
	switch {
	case v == nil:
		return &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 0}
	case v.Trunk != nil:
		spec := &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{}
		for _, r := range v.Trunk {
			spec.VlanId = append(spec.VlanId, types.NumericRange{Start: r[0], End: r[1]})
		}
		return spec
	case v.Pvlan != nil:
		return &types.VmwareDistributedVirtualSwitchPvlanSpec{PvlanId: *v.Pvlan}
	case v.ID != nil:
		return &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: *v.ID}
	}
	return &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: 0}
}

func portSetting(vlan types.BaseVmwareDistributedVirtualSwitchVlanSpec, promiscuous bool) *types.VMwareDVSPortSetting {
	return &types.VMwareDVSPortSetting{
		Vlan: vlan,
		SecurityPolicy: &types.DVSSecurityPolicy{
			AllowPromiscuous: &types.BoolPolicy{Value: bp(promiscuous)},
			MacChanges:       &types.BoolPolicy{Value: bp(false)},
			ForgedTransmits:  &types.BoolPolicy{Value: bp(false)},
		},
		MacManagementPolicy: &types.DVSMacManagementPolicy{
			AllowPromiscuous: bp(promiscuous),
			MacChanges:       bp(false),
			ForgedTransmits:  bp(false),
		},
		UplinkTeamingPolicy: &types.VmwareUplinkPortTeamingPolicy{
			Policy:         &types.StringPolicy{Value: "loadbalance_srcid"},
			ReversePolicy:  &types.BoolPolicy{Value: bp(true)},
			NotifySwitches: &types.BoolPolicy{Value: bp(true)},
			RollingOrder:   &types.BoolPolicy{Value: bp(false)},
		},
	}
}

// withUplinkOrder is a portgroup's default setting with its teaming's uplinkPortOrder as vCenter reports it: the
// switch's uplinks active, in order, none standby (what `monitor prepare` copies to a new portgroup). An uplink
// portgroup has no teaming order.
func withUplinkOrder(s *types.VMwareDVSPortSetting, uplinks []string, uplink bool) *types.VMwareDVSPortSetting {
	if uplink || s.UplinkTeamingPolicy == nil || len(uplinks) == 0 {
		return s
	}
	out := *s
	teaming := *s.UplinkTeamingPolicy
	teaming.UplinkPortOrder = &types.VMwareUplinkPortOrderPolicy{
		ActiveUplinkPort: append([]string(nil), uplinks...),
	}
	out.UplinkTeamingPolicy = &teaming
	return &out
}

// buildLab turns the stock (empty) VPX model into the lab's inventory.
func buildLab(l *lab) error {
	b := &builder{
		lab:      l,
		now:      time.Now(),
		dcIndex:  map[string]int{},
		hostRef:  map[string]types.ManagedObjectReference{},
		hostObj:  map[string]*simulator.HostSystem{},
		hostPool: map[string]*simulator.ResourcePool{},
		hostCR:   map[string]*mo.ComputeResource{},
		vmRef:    map[string]types.ManagedObjectReference{},
		switches: map[string]*DVS{},
		swLab:    map[string]*labSwitch{},
		pgs:      map[string]*simulator.DistributedVirtualPortgroup{},
		pgLab:    map[string]*labPortgroup{},
		settings: map[string]*types.VMwareDVSPortSetting{},
		members:  map[string][]string{},
		hostDC:   map[string]int{},
	}
	if err := b.datacenters(); err != nil {
		return err
	}
	b.memberships()
	b.hosts()
	if err := b.switchesAndPortgroups(); err != nil {
		return err
	}
	if err := b.vms(); err != nil {
		return err
	}
	if err := b.ports(); err != nil {
		return err
	}
	ordered := make([]*DVS, 0, len(b.lab.Switches))
	for _, s := range b.lab.Switches {
		ordered = append(ordered, b.switches[s.Key])
	}
	registerSwitches(ordered, b.now) // mirror sessions of one switch can deliver to another (mirror.go)
	for _, d := range ordered {
		d.refreshStats(nil) // the counters vCenter holds at start (traffic.go)
	}
	switchByUUID = b.switches
	return nil
}

// switchByUUID is every switch by its UUID (NIC backings name a switch by UUID only; vmops.go).
var switchByUUID map[string]*DVS

func (b *builder) datacenters() error {
	byName := map[string]*simulator.Datacenter{}
	for _, e := range simulator.Map.All("Datacenter") {
		dc := e.(*simulator.Datacenter)
		byName[dc.Name] = dc
	}
	names := b.lab.Datacenters
	if len(names) == 0 {
		names = []string{"DC0"}
	}
	for i, name := range names {
		dc := byName[fmt.Sprintf("DC%d", i)]
		if dc == nil {
			return fmt.Errorf("the model has no datacenter DC%d", i)
		}
		dc.Name = name
		b.dcs = append(b.dcs, dc)
		b.dcIndex[name] = i
	}
	return nil
}

// memberships finds, in one pass, which hosts belong to which switch and which datacenter.
func (b *builder) memberships() {
	seen := map[[2]string]bool{}
	add := func(sw, host string) {
		if sw == "" || host == "" || seen[[2]string{sw, host}] {
			return
		}
		seen[[2]string{sw, host}] = true
		b.members[sw] = append(b.members[sw], host)
	}
	for i := range b.lab.Switches {
		s := &b.lab.Switches[i]
		b.swLab[s.Key] = s
	}
	for _, p := range b.lab.Ports {
		add(p.Switch, p.Host)
	}
	for _, vm := range b.lab.Vms {
		for _, n := range vm.Nics {
			add(n.Switch, vm.Host)
		}
	}
	for _, s := range b.lab.Switches {
		for _, h := range b.members[s.Key] {
			if _, ok := b.hostDC[h]; !ok {
				b.hostDC[h] = b.dcIndex[s.Datacenter]
			}
		}
	}
}

func (b *builder) hosts() {
	for _, h := range b.lab.Hosts {
		dc := b.dcs[b.hostDC[h.Key]]

		cr := &mo.ComputeResource{
			ConfigurationEx: &types.ComputeResourceConfigInfo{
				VmSwapPlacement: string(types.VirtualMachineConfigInfoSwapPlacementTypeVmDirectory),
			},
			Summary: &types.ComputeResourceSummary{},
		}
		cr.Name = h.Name
		simulator.Map.NewEntity(cr)
		putChild(folder(dc.HostFolder), cr)

		host := simulator.NewHostSystem(esx.HostSystem)
		b.setRef(host, "HostSystem", h.Key)
		host.Name = h.Name
		host.Summary.Config.Name = h.Name
		host.Summary.Host = &host.Self
		host.Runtime.ConnectionState = types.HostSystemConnectionStateConnected
		host.Runtime.PowerState = types.HostSystemPowerStatePoweredOn
		id := stableUUID("host:" + h.Name)
		host.Summary.Hardware.Uuid = id
		host.Hardware.SystemInfo.Uuid = id
		host.Vm = nil
		host.Network = nil
		simulator.Map.PutEntity(cr, host)

		sum := cr.Summary.GetComputeResourceSummary()
		sum.TotalCpu = host.Summary.Hardware.CpuMhz
		sum.TotalMemory = host.Summary.Hardware.MemorySize
		sum.NumCpuCores = host.Summary.Hardware.NumCpuCores
		sum.NumCpuThreads = host.Summary.Hardware.NumCpuThreads
		sum.NumHosts = 1
		sum.NumEffectiveHosts = 1
		sum.OverallStatus = types.ManagedEntityStatusGreen

		pool := simulator.NewResourcePool()
		simulator.Map.NewEntity(pool)
		pool.Vm = nil
		pool.ResourcePool.ResourcePool = nil
		pool.Owner = cr.Self
		simulator.Map.PutEntity(cr, pool)

		cr.Host = []types.ManagedObjectReference{host.Self}
		cr.ResourcePool = &pool.Self

		b.hostRef[h.Key] = host.Self
		b.hostObj[h.Key] = host
		b.hostPool[h.Key] = pool
		b.hostCR[h.Key] = cr
	}
}

func (b *builder) switchesAndPortgroups() error {
	// Portgroups by switch, in lab order.
	pgsOf := map[string][]*labPortgroup{}
	for i := range b.lab.Portgroups {
		pg := &b.lab.Portgroups[i]
		if b.swLab[pg.Switch] == nil {
			return fmt.Errorf("portgroup %q refers to unknown switch %q", pg.Name, pg.Switch)
		}
		pgsOf[pg.Switch] = append(pgsOf[pg.Switch], pg)
		b.pgLab[pg.Key] = pg
	}
	numPorts := map[string]int32{}
	for _, p := range b.lab.Ports {
		numPorts[p.Switch]++
	}

	for i := range b.lab.Switches {
		s := &b.lab.Switches[i]
		dc := b.dcs[b.dcIndex[s.Datacenter]]
		net := folder(dc.NetworkFolder)

		d := &DVS{
			portIdx: map[string]int{}, uplinkPG: map[string]bool{}, nsxPG: map[string]bool{}, started: b.now,
			pgVlan: map[string]types.BaseVmwareDistributedVirtualSwitchVlanSpec{},
		}
		b.setRef(d, "VmwareDistributedVirtualSwitch", s.Moid)
		d.Name = s.Name
		d.Uuid = s.Key
		putChild(net, d)
		dc.Network = append(dc.Network, d.Self)

		var hostRefs []types.ManagedObjectReference
		var hostMembers []types.DistributedVirtualSwitchHostMember
		for _, h := range b.members[s.Key] {
			ref, ok := b.hostRef[h]
			if !ok {
				continue
			}
			hostRefs = append(hostRefs, ref)
			r := ref
			hostMembers = append(hostMembers, types.DistributedVirtualSwitchHostMember{
				Config: types.DistributedVirtualSwitchHostMemberConfigInfo{
					Host:                &r,
					MaxProxySwitchPorts: 512,
					Backing:             &types.DistributedVirtualSwitchHostMemberPnicBacking{},
				},
				Status: "up",
			})
		}

		var pgRefs, uplinkPGs []types.ManagedObjectReference
		var pgNames []string
		var pvlans []types.VMwareDVSPvlanMapEntry
		for _, l := range pgsOf[s.Key] {
			pg := &simulator.DistributedVirtualPortgroup{}
			b.setRef(pg, "DistributedVirtualPortgroup", l.Key)
			pg.Name = l.Name
			pg.Entity().Name = l.Name
			pg.Key = pg.Self.Value
			vlan := vlanSpec(l.Vlan)
			d.pgVlan[pg.Key] = vlan
			if pv, ok := vlan.(*types.VmwareDistributedVirtualSwitchPvlanSpec); ok {
				pvlans = append(pvlans, types.VMwareDVSPvlanMapEntry{
					PrimaryVlanId: pv.PvlanId, SecondaryVlanId: pv.PvlanId, PvlanType: "promiscuous",
				})
			}
			binding := l.Binding
			if binding == "" {
				binding = "earlyBinding"
			}
			setting := portSetting(vlan, l.Promiscuous)
			b.settings[l.Key+"/"+fmt.Sprint(l.Promiscuous)] = setting
			dref := d.Self
			pgSetting := withUplinkOrder(setting, s.UplinkNames, l.Uplink) // the ports' settings stay as they were
			pg.Config = types.DVPortgroupConfigInfo{
				Key:                      pg.Key,
				Name:                     l.Name,
				NumPorts:                 l.NumPorts,
				DistributedVirtualSwitch: &dref,
				DefaultPortConfig:        pgSetting,
				Type:                     binding,
				Policy: &types.VMwareDVSPortgroupPolicy{
					DVPortgroupPolicy: types.DVPortgroupPolicy{
						BlockOverrideAllowed:               true,
						PortConfigResetAtDisconnect:        true,
						NetworkResourcePoolOverrideAllowed: bp(false),
						TrafficFilterOverrideAllowed:       bp(false),
					},
					IpfixOverrideAllowed: bp(false),
				},
				ConfigVersion: "1",
				AutoExpand:    bp(binding != "ephemeral"),
				Uplink:        bp(l.Uplink),
				BackingType:   backingType(l.Nsx),
			}
			pg.Host = hostRefs
			putChild(net, pg)
			pg.Summary = &types.NetworkSummary{Network: &pg.Self, Name: l.Name, Accessible: true}
			dc.Network = append(dc.Network, pg.Self)

			pgRefs = append(pgRefs, pg.Self)
			pgNames = append(pgNames, l.Name)
			if l.Uplink {
				uplinkPGs = append(uplinkPGs, pg.Self)
				d.uplinkPG[pg.Key] = true
			}
			if l.Nsx {
				d.nsxPG[pg.Key] = true
			}
			b.pgs[l.Key] = pg
		}
		for _, h := range b.members[s.Key] {
			if host := b.hostObj[h]; host != nil {
				host.Network = append(host.Network, pgRefs...)
				cr := b.hostCR[h]
				cr.Network = append(cr.Network, pgRefs...)
			}
		}

		product := types.DistributedVirtualSwitchProductSpec{
			Name: "DVS", Vendor: "VMware, Inc.", Version: s.Version, ForwardingClass: "etherswitch",
		}
		features, err := featuresSupported(s.Capability)
		if err != nil {
			return fmt.Errorf("switch %q: %v", s.Name, err)
		}
		d.Capability = types.DVSCapability{
			DvsOperationSupported:         bp(true),
			DvPortGroupOperationSupported: bp(true),
			DvPortOperationSupported:      bp(true),
			FeaturesSupported:             features,
		}

		var sessions []VMwareVspanSession
		next := 1
		for i, raw := range s.Sessions {
			var ls labSession
			if err := decodeJSON(raw, &ls); err != nil {
				return fmt.Errorf("switch %q session %d: %v", s.Name, i, err)
			}
			vs := ls.toVspan()
			if vs.Key == nil || *vs.Key == "" {
				k := fmt.Sprint(next)
				vs.Key = &k
			}
			if n := numericKey(*vs.Key); n >= next {
				next = n + 1
			}
			sessions = append(sessions, vs)
		}
		d.nextKey = next

		configVersion := s.ConfigVersion
		if configVersion == "" {
			configVersion = "1"
		}
		uplinkNames := s.UplinkNames
		if uplinkNames == nil {
			uplinkNames = []string{}
		}
		d.Portgroup = pgRefs
		d.Summary = types.DVSSummary{
			Name:          s.Name,
			Uuid:          s.Key,
			NumPorts:      numPorts[s.Key],
			ProductInfo:   &product,
			HostMember:    hostRefs,
			PortgroupName: pgNames,
			NumHosts:      int32(len(hostRefs)),
		}
		d.Config = &VMwareDVSConfigInfo{
			DVSConfigInfo: types.DVSConfigInfo{
				Uuid:                          s.Key,
				Name:                          s.Name,
				NumPorts:                      numPorts[s.Key],
				MaxPorts:                      60000,
				UplinkPortPolicy:              &types.DVSNameArrayUplinkPortPolicy{UplinkPortName: uplinkNames},
				UplinkPortgroup:               uplinkPGs,
				DefaultPortConfig:             portSetting(&types.VmwareDistributedVirtualSwitchVlanIdSpec{}, false),
				Host:                          hostMembers,
				ProductInfo:                   product,
				ConfigVersion:                 configVersion,
				CreateTime:                    b.now,
				NetworkResourceControlVersion: "version3",
				DefaultProxySwitchMaxNumPorts: 512,
			},
			VspanSession:                sessions,
			PvlanConfig:                 pvlans,
			MaxMtu:                      1500,
			LinkDiscoveryProtocolConfig: &types.LinkDiscoveryProtocolConfig{Protocol: "cdp", Operation: "listen"},
			LacpApiVersion:              "multipleLag",
			MulticastFilteringMode:      "legacyFiltering",
		}
		b.switches[s.Key] = d
	}
	return nil
}

func numericKey(k string) int {
	n := 0
	for _, c := range k {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return -1
		}
	}
	if k == "" {
		return -1
	}
	return n
}

func (b *builder) vms() error {
	// Each VM's host (or the first host) decides its datacenter and resource pool.
	vmsOfHost := map[string][]types.ManagedObjectReference{}
	vmsOfPG := map[string][]types.ManagedObjectReference{}
	firstHost := ""
	if len(b.lab.Hosts) > 0 {
		firstHost = b.lab.Hosts[0].Key
	}
	for i := range b.lab.Vms {
		l := &b.lab.Vms[i]
		hostKey := l.Host
		if _, ok := b.hostRef[hostKey]; !ok {
			hostKey = firstHost
		}
		dc := b.dcs[b.hostDC[hostKey]]

		vm := &simulator.VirtualMachine{}
		b.setRef(vm, "VirtualMachine", l.Key)
		vm.Name = l.Name
		ref := vm.Self
		b.vmRef[l.Key] = ref

		power := types.VirtualMachinePowerState(l.Power)
		if l.Power == "" {
			power = types.VirtualMachinePowerStatePoweredOn
		}
		on := power == types.VirtualMachinePowerStatePoweredOn

		var devices []types.BaseVirtualDevice
		if extraDevices > len(l.Nics) {
			devices = otherDevices(l.Name, extraDevices-len(l.Nics))
		}
		var nicInfo []types.GuestNicInfo
		var networks []types.ManagedObjectReference
		var firstIP string
		seenPG := map[string]bool{}
		for j, n := range l.Nics {
			connected := n.Connected == nil || *n.Connected
			label := n.Label
			var backing types.BaseVirtualDeviceBackingInfo
			netName := "VM Network"
			summary := netName
			if pg := b.pgs[n.Portgroup]; pg != nil && n.Switch != "" {
				netName = pg.Config.Name
				summary = "DVSwitch: " + n.Switch
				backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{
					Port: types.DistributedVirtualSwitchPortConnection{
						SwitchUuid:   n.Switch,
						PortgroupKey: pg.Key,
						PortKey:      n.Port,
					},
				}
				if !seenPG[pg.Key] {
					seenPG[pg.Key] = true
					networks = append(networks, pg.Self)
					vmsOfPG[pg.Key] = append(vmsOfPG[pg.Key], ref)
				}
			} else {
				backing = &types.VirtualEthernetCardNetworkBackingInfo{
					VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: netName},
				}
			}
			unit := int32(7 + j)
			devices = append(devices, &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{
				VirtualEthernetCard: types.VirtualEthernetCard{
					VirtualDevice: types.VirtualDevice{
						Key:        n.Key,
						DeviceInfo: &types.Description{Label: label, Summary: summary},
						Backing:    backing,
						Connectable: &types.VirtualDeviceConnectInfo{
							StartConnected:    connected,
							AllowGuestControl: true,
							Connected:         connected, // the lab's flag, even on powered-off VMs
							Status:            "ok",
						},
						ControllerKey: 100,
						UnitNumber:    &unit,
					},
					AddressType:      string(types.VirtualEthernetCardMacTypeAssigned),
					MacAddress:       strings.ToLower(n.Mac),
					WakeOnLanEnabled: bp(true),
				},
			}})
			nicInfo = append(nicInfo, types.GuestNicInfo{
				Network:        netName,
				IpAddress:      n.Ips,
				MacAddress:     strings.ToLower(n.Mac),
				Connected:      connected,
				DeviceConfigId: n.Key,
			})
			if firstIP == "" && len(n.Ips) > 0 {
				firstIP = n.Ips[0]
			}
		}
		id := stableUUID("vm:" + l.Key + ":" + l.Name)
		vmx := fmt.Sprintf("[datastore1] %s/%s.vmx", l.Name, l.Name)
		var hostPtr *types.ManagedObjectReference
		if h, ok := b.hostRef[hostKey]; ok {
			hostPtr = &h
		}
		vm.Runtime = types.VirtualMachineRuntimeInfo{
			Host:            hostPtr,
			ConnectionState: types.VirtualMachineConnectionStateConnected,
			PowerState:      power,
		}
		vm.Config = &types.VirtualMachineConfigInfo{
			Name:          l.Name,
			GuestFullName: "Other 3.x or later Linux (64-bit)",
			GuestId:       "other3xLinux64Guest",
			Uuid:          id,
			InstanceUuid:  stableUUID("instance:" + id),
			Version:       "vmx-15",
			ChangeVersion: b.now.UTC().Format(time.RFC3339),
			Files:         types.VirtualMachineFileInfo{VmPathName: vmx},
			Hardware: types.VirtualHardware{
				NumCPU:            2,
				NumCoresPerSocket: 1,
				MemoryMB:          4096,
				Device:            devices,
			},
		}
		guestState := "notRunning"
		tools := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
		if on {
			guestState = "running"
			tools = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		}
		vm.Guest = &types.GuestInfo{
			ToolsRunningStatus: tools,
			GuestId:            "other3xLinux64Guest",
			GuestFullName:      "Other 3.x or later Linux (64-bit)",
			HostName:           l.Name,
			IpAddress:          firstIP,
			Net:                nicInfo,
			GuestState:         guestState,
		}
		vm.Summary = types.VirtualMachineSummary{
			Vm:      &vm.Self,
			Runtime: vm.Runtime,
			Guest: &types.VirtualMachineGuestSummary{
				GuestId:            "other3xLinux64Guest",
				GuestFullName:      "Other 3.x or later Linux (64-bit)",
				ToolsRunningStatus: tools,
				HostName:           l.Name,
				IpAddress:          firstIP,
			},
			Config: types.VirtualMachineConfigSummary{
				Name:             l.Name,
				VmPathName:       vmx,
				MemorySizeMB:     4096,
				NumCpu:           2,
				NumEthernetCards: int32(len(l.Nics)),
				Uuid:             id,
				InstanceUuid:     vm.Config.InstanceUuid,
				GuestId:          "other3xLinux64Guest",
				GuestFullName:    "Other 3.x or later Linux (64-bit)",
			},
			OverallStatus: types.ManagedEntityStatusGreen,
		}
		vm.Network = networks
		if pool := b.hostPool[hostKey]; pool != nil {
			pr := pool.Self
			vm.ResourcePool = &pr
		}
		putChild(folder(dc.VmFolder), vm)
		if hostKey != "" {
			vmsOfHost[hostKey] = append(vmsOfHost[hostKey], ref)
		}
	}
	for h, refs := range vmsOfHost {
		if host := b.hostObj[h]; host != nil {
			host.Vm = refs
			b.hostPool[h].Vm = refs
		}
	}
	for key, refs := range vmsOfPG {
		b.pgs[key].Vm = refs
	}
	return nil
}

func (b *builder) ports() error {
	for _, p := range b.lab.Ports {
		d := b.switches[p.Switch]
		if d == nil {
			return fmt.Errorf("port %q refers to unknown switch %q", p.Key, p.Switch)
		}
		if _, dup := d.portIdx[p.Key]; dup {
			return fmt.Errorf("port key %q appears twice on switch %q", p.Key, d.Name)
		}
		var setting *types.VMwareDVSPortSetting
		pgKey := ""
		if p.Portgroup != "" {
			pg := b.pgs[p.Portgroup]
			if pg == nil {
				return fmt.Errorf("port %q refers to unknown portgroup %q", p.Key, p.Portgroup)
			}
			pgKey = pg.Key
			id := p.Portgroup + "/" + fmt.Sprint(p.Promiscuous)
			setting = b.settings[id]
			if setting == nil {
				setting = portSetting(vlanSpec(b.pgLab[p.Portgroup].Vlan), p.Promiscuous)
				b.settings[id] = setting
			}
			pg.PortKeys = append(pg.PortKeys, p.Key)
		} else {
			setting = portSetting(&types.VmwareDistributedVirtualSwitchVlanIdSpec{}, p.Promiscuous)
		}
		port := types.DistributedVirtualPort{
			Key:          p.Key,
			DvsUuid:      d.Uuid,
			PortgroupKey: pgKey,
			Config: types.DVPortConfigInfo{
				Name:          p.Name,
				Setting:       setting,
				ConfigVersion: "1",
			},
			State: &types.DVPortState{
				RuntimeInfo: &types.DVPortStatus{
					LinkUp:     p.LinkUp,
					Blocked:    false,
					MacAddress: strings.ToLower(p.Mac),
					Mtu:        1500,
				},
			},
			LastStatusChange: b.now,
		}
		if p.Host != "" {
			if ref, ok := b.hostRef[p.Host]; ok {
				port.ProxyHost = &ref
			}
		}
		if c := p.Connectee; c != nil {
			conn := &types.DistributedVirtualSwitchPortConnectee{NicKey: c.NicKey, Type: c.Type}
			if c.Type == "" {
				conn.Type = string(types.DistributedVirtualSwitchPortConnecteeConnecteeTypeVmVnic)
			}
			if ref, ok := b.vmRef[c.Entity]; ok && conn.Type == "vmVnic" {
				conn.ConnectedEntity = &ref
			} else if ref, ok := b.hostRef[c.Entity]; ok {
				conn.ConnectedEntity = &ref
			} else if ref, ok := b.vmRef[c.Entity]; ok {
				conn.ConnectedEntity = &ref
			}
			port.Connectee = conn
		}
		d.portIdx[p.Key] = len(d.ports)
		d.ports = append(d.ports, port)
	}
	return nil
}

// backingType is a portgroup's config.backingType (vSphere 7.0): "nsx" or "standard".
func backingType(nsx bool) string {
	if nsx {
		return "nsx"
	}
	return "standard"
}
