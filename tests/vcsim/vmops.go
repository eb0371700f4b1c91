package main

// vMotion and NIC reconnect: RelocateVM_Task / MigrateVM_Task with a host, and ReconfigVM_Task
// editing a NIC's distributed port backing, kept consistent with the switch's ports (dvs.go).
//
// The VMs are govmomi's simulator.VirtualMachine (the simulator type-asserts them everywhere, so
// they cannot be wrapped). govmomi 0.24.2's RelocateVMTask changes runtime.host but leaves the
// ports (which live in our DVS) on the old host, and its ReconfigVMTask refuses every DVS backing
// on our switches (validateSwitchMembers looks for *simulator.DistributedVirtualSwitch). So the
// request types of these three methods are registered anew (as vspan.go does for VSPAN types):
// their decoder sends the call to vmOps, which handles what it knows and hands everything else to
// govmomi's own method, exactly as the simulator would have called it. See README.md.

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// vmOpsRef is where the redirected calls go; the real target is kept in the request.
var vmOpsRef = types.ManagedObjectReference{Type: "DvmirrorVmOps", Value: "vmops"}

type vmOps struct {
	mo.PropertyFilter // any mo type: the registry needs one
}

type relocateRequest struct {
	types.RelocateVM_Task
	target types.ManagedObjectReference
}

type migrateRequest struct {
	types.MigrateVM_Task
	target types.ManagedObjectReference
}

type reconfigRequest struct {
	types.ReconfigVM_Task
	target types.ManagedObjectReference
}

func redirect(d *xml.Decoder, start xml.StartElement, v interface{}, this, target *types.ManagedObjectReference) error {
	if err := d.DecodeElement(v, &start); err != nil {
		return err
	}
	*target = *this
	*this = vmOpsRef
	return nil
}

func (r *relocateRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return redirect(d, start, &r.RelocateVM_Task, &r.This, &r.target)
}

func (r *migrateRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return redirect(d, start, &r.MigrateVM_Task, &r.This, &r.target)
}

func (r *reconfigRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return redirect(d, start, &r.ReconfigVM_Task, &r.This, &r.target)
}

func init() {
	types.Add("RelocateVM_Task", reflect.TypeOf((*relocateRequest)(nil)).Elem())
	types.Add("MigrateVM_Task", reflect.TypeOf((*migrateRequest)(nil)).Elem())
	types.Add("ReconfigVM_Task", reflect.TypeOf((*reconfigRequest)(nil)).Elem())
}

func registerVMOps() {
	ops := &vmOps{}
	ops.Self = vmOpsRef
	simulator.Map.Put(ops)
}

func notFoundBody(ref types.ManagedObjectReference) *soap.Fault {
	return simulator.Fault(fmt.Sprintf("managed object not found: %s", ref), &types.ManagedObjectNotFound{Obj: ref})
}

// lookupVM finds the target and calls f as the simulator calls a method: the VM locked, it the caller.
func lookupVM(ctx *simulator.Context, ref types.ManagedObjectReference, f func(vm *simulator.VirtualMachine) soap.HasFault) soap.HasFault {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return &serverFault{notFoundBody(ref)}
	}
	caller := ctx.Caller
	ctx.Caller = &vm.Self
	defer func() { ctx.Caller = caller }()
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() { res = f(vm) })
	return res
}

type serverFault struct{ f *soap.Fault }

func (s *serverFault) Fault() *soap.Fault { return s.f }

// runVMTask runs f as a task of the VM, with a readable localizedMessage for faults.
func runVMTask(vm *simulator.VirtualMachine, name string, f func() *vspanFault) types.ManagedObjectReference {
	task := simulator.CreateTask(vm, name, nil)
	runTask(task, f)
	return task.Self
}

func (o *vmOps) RelocateVMTask(ctx *simulator.Context, r *relocateRequest) soap.HasFault {
	return lookupVM(ctx, r.target, func(vm *simulator.VirtualMachine) soap.HasFault {
		spec := r.Spec
		if spec.Host == nil || spec.Datastore != nil || spec.Folder != nil || len(spec.DeviceChange) > 0 || len(spec.Disk) > 0 {
			// Not a compute vMotion: govmomi's own relocate.
			req := r.RelocateVM_Task
			req.This = vm.Self
			return vm.RelocateVMTask(ctx, &req)
		}
		if f := checkHost(*spec.Host); f != nil {
			return &serverFault{f}
		}
		ref := runVMTask(vm, "relocateVm", func() *vspanFault { return migrate(ctx, vm, *spec.Host, spec.Pool) })
		return &methods.RelocateVM_TaskBody{Res: &types.RelocateVM_TaskResponse{Returnval: ref}}
	})
}

func (o *vmOps) MigrateVMTask(ctx *simulator.Context, r *migrateRequest) soap.HasFault {
	return lookupVM(ctx, r.target, func(vm *simulator.VirtualMachine) soap.HasFault {
		host := r.Host
		if host == nil {
			if r.Pool == nil {
				return &serverFault{simulator.Fault("neither host nor pool", &types.InvalidArgument{InvalidProperty: "host"})}
			}
			h := hostOfPool(*r.Pool)
			if h == nil {
				return &serverFault{simulator.Fault("the pool's compute resource has no host", &types.InvalidArgument{InvalidProperty: "pool"})}
			}
			host = h
		}
		if f := checkHost(*host); f != nil {
			return &serverFault{f}
		}
		h := *host
		ref := runVMTask(vm, "migrateVm", func() *vspanFault { return migrate(ctx, vm, h, r.Pool) })
		return &methods.MigrateVM_TaskBody{Res: &types.MigrateVM_TaskResponse{Returnval: ref}}
	})
}

func checkHost(ref types.ManagedObjectReference) *soap.Fault {
	if _, ok := simulator.Map.Get(ref).(*simulator.HostSystem); !ok {
		return notFoundBody(ref)
	}
	return nil
}

func hostOfPool(ref types.ManagedObjectReference) *types.ManagedObjectReference {
	pool, ok := simulator.Map.Get(ref).(*simulator.ResourcePool)
	if !ok || pool.Owner.Value == "" {
		return nil
	}
	if cr, ok := simulator.Map.Get(pool.Owner).(*mo.ComputeResource); ok && len(cr.Host) > 0 {
		h := cr.Host[0]
		return &h
	}
	return nil
}

func poolOfHost(host *simulator.HostSystem) *types.ManagedObjectReference {
	if host.Parent == nil {
		return nil
	}
	if cr, ok := simulator.Map.Get(*host.Parent).(*mo.ComputeResource); ok {
		return cr.ResourcePool
	}
	return nil
}

func without(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	out := make([]types.ManagedObjectReference, 0, len(refs))
	for _, r := range refs {
		if r != ref {
			out = append(out, r)
		}
	}
	return out
}

func with(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, r := range refs {
		if r == ref {
			return refs
		}
	}
	return append(append([]types.ManagedObjectReference(nil), refs...), ref)
}

// dvsNICs is the VM's NICs on our switches: device index -> backing.
func dvsNICs(vm *simulator.VirtualMachine) map[int]*types.VirtualEthernetCardDistributedVirtualPortBackingInfo {
	out := map[int]*types.VirtualEthernetCardDistributedVirtualPortBackingInfo{}
	if vm.Config == nil {
		return out
	}
	for i, d := range vm.Config.Hardware.Device {
		if _, ok := d.(types.BaseVirtualEthernetCard); !ok {
			continue
		}
		if b, ok := d.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo); ok {
			out[i] = b
		}
	}
	return out
}

func isMember(d *DVS, host types.ManagedObjectReference) bool {
	for _, h := range d.Summary.HostMember {
		if h == host {
			return true
		}
	}
	return false
}

// migrate moves the VM to host (vMotion): runtime.host, the hosts' and pools' VM lists, and the
// proxyHost of every distributed port the VM is connected to. Port keys stay (vMotion keeps the port).
func migrate(ctx *simulator.Context, vm *simulator.VirtualMachine, hostRef types.ManagedObjectReference, pool *types.ManagedObjectReference) *vspanFault {
	target := simulator.Map.Get(hostRef).(*simulator.HostSystem)
	if vm.Runtime.Host == nil {
		return &vspanFault{&types.InvalidState{}, "the virtual machine has no host"}
	}
	from := *vm.Runtime.Host
	if from == hostRef {
		return nil
	}
	switches := map[*DVS]bool{}
	for _, b := range dvsNICs(vm) {
		d := switchByUUID[b.Port.SwitchUuid]
		if d == nil {
			continue
		}
		if !isMember(d, hostRef) {
			return &vspanFault{&types.MigrationFault{}, fmt.Sprintf(
				"host %s is not a member of the distributed switch %s that a network adapter of %s is connected to",
				target.Name, d.Name, vm.Name)}
		}
		switches[d] = true
	}
	newPool := pool
	if newPool == nil {
		newPool = poolOfHost(target)
	}
	now := time.Now()
	for d := range switches {
		simulator.Map.WithLock(d, func() {
			labMirror.mu.Lock() // what mirror sessions delivered until now, before ports move (mirror.go)
			defer labMirror.mu.Unlock()
			foldMirror(now)
			h := hostRef
			for i := range d.ports {
				p := &d.ports[i]
				if p.Connectee != nil && p.Connectee.ConnectedEntity != nil && *p.Connectee.ConnectedEntity == vm.Self {
					p.ProxyHost = &h
				}
			}
		})
	}
	if old, ok := simulator.Map.Get(from).(*simulator.HostSystem); ok {
		simulator.Map.WithLock(old, func() {
			simulator.Map.Update(old, []types.PropertyChange{{Name: "vm", Val: without(old.Vm, vm.Self)}})
		})
	}
	simulator.Map.WithLock(target, func() {
		simulator.Map.Update(target, []types.PropertyChange{{Name: "vm", Val: with(target.Vm, vm.Self)}})
	})
	changes := []types.PropertyChange{
		{Name: "runtime.host", Val: hostRef},
		{Name: "summary.runtime.host", Val: hostRef},
	}
	if newPool != nil && (vm.ResourcePool == nil || *vm.ResourcePool != *newPool) {
		if vm.ResourcePool != nil {
			if p, ok := simulator.Map.Get(*vm.ResourcePool).(*simulator.ResourcePool); ok {
				simulator.Map.WithLock(p, func() {
					simulator.Map.Update(p, []types.PropertyChange{{Name: "vm", Val: without(p.Vm, vm.Self)}})
				})
			}
		}
		if p, ok := simulator.Map.Get(*newPool).(*simulator.ResourcePool); ok {
			simulator.Map.WithLock(p, func() {
				simulator.Map.Update(p, []types.PropertyChange{{Name: "vm", Val: with(p.Vm, vm.Self)}})
			})
		}
		changes = append(changes, types.PropertyChange{Name: "resourcePool", Val: *newPool})
	}
	source := types.HostEventArgument{Host: from}
	if old, ok := simulator.Map.Get(from).(*simulator.HostSystem); ok {
		source.Name = old.Name
	}
	simulator.Map.Update(vm, changes)
	postEvent(ctx, &types.VmMigratedEvent{
		VmEvent:    types.VmEvent{Event: vmEventBase(vm, target)},
		SourceHost: source,
	}, fmt.Sprintf("Migration of virtual machine %s from %s to %s completed", vm.Name, source.Name, target.Name))
	return nil
}

// reconnect is one NIC edit of a ReconfigVM_Task that moves a NIC to another distributed port.
type reconnect struct {
	index   int // in spec.deviceChange
	dev     int // in config.hardware.device
	nic     types.BaseVirtualDevice
	from    *types.VirtualEthernetCardDistributedVirtualPortBackingInfo
	to      types.DistributedVirtualSwitchPortConnection
	d       *DVS
	pg      *simulator.DistributedVirtualPortgroup
	newPort int // index in d.ports; -1: a new port is added
}

func (o *vmOps) ReconfigVMTask(ctx *simulator.Context, r *reconfigRequest) soap.HasFault {
	return lookupVM(ctx, r.target, func(vm *simulator.VirtualMachine) soap.HasFault {
		spec := r.Spec
		var edits []int
		for i, c := range spec.DeviceChange {
			dc := c.GetVirtualDeviceConfigSpec()
			if dc.Operation != types.VirtualDeviceConfigSpecOperationEdit || dc.Device == nil {
				continue
			}
			if _, ok := dc.Device.(types.BaseVirtualEthernetCard); !ok {
				continue
			}
			if _, ok := dc.Device.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo); ok {
				edits = append(edits, i)
			}
		}
		if len(edits) == 0 {
			req := r.ReconfigVM_Task
			req.This = vm.Self
			return vm.ReconfigVMTask(ctx, &req)
		}
		ref := runVMTask(vm, "reconfigVm", func() *vspanFault {
			rest := spec
			rest.DeviceChange = nil
			if rest.ChangeVersion != "" && vm.Config != nil && rest.ChangeVersion != vm.Config.ChangeVersion {
				return &vspanFault{&types.ConcurrentAccess{}, fmt.Sprintf(
					"the virtual machine changed: changeVersion is %s, the change was made for %s", vm.Config.ChangeVersion, rest.ChangeVersion)}
			}
			rest.ChangeVersion = ""
			if len(edits) != len(spec.DeviceChange) || !reflect.DeepEqual(rest, types.VirtualMachineConfigSpec{}) {
				return &vspanFault{&types.NotSupported{}, "this test server applies a NIC's distributed port backing only in a spec that changes nothing else"}
			}
			return reconnectNICs(ctx, vm, &spec, edits)
		})
		return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: ref}}
	})
}

func badBacking(index int, prop, format string, args ...interface{}) *vspanFault {
	return invalidArgument(fmt.Sprintf("spec.deviceChange[%d].device.backing.port.%s", index, prop), format, args...)
}

// reconnectNICs checks every edit first and changes nothing unless all are valid.
func reconnectNICs(ctx *simulator.Context, vm *simulator.VirtualMachine, spec *types.VirtualMachineConfigSpec, edits []int) *vspanFault {
	if vm.Runtime.Host == nil {
		return &vspanFault{&types.InvalidState{}, "the virtual machine has no host"}
	}
	host := *vm.Runtime.Host
	claimed := map[*DVS]map[int]bool{}
	var plan []*reconnect
	for _, i := range edits {
		dc := spec.DeviceChange[i].GetVirtualDeviceConfigSpec()
		key := dc.Device.GetVirtualDevice().Key
		rc := &reconnect{index: i, dev: -1, newPort: -1}
		for j, d := range vm.Config.Hardware.Device {
			if d.GetVirtualDevice().Key == key {
				rc.dev, rc.nic = j, d
			}
		}
		if rc.dev < 0 {
			return &vspanFault{&types.InvalidDeviceSpec{DeviceIndex: int32(i)}, fmt.Sprintf("%s has no device with key %d", vm.Name, key)}
		}
		if _, ok := rc.nic.(types.BaseVirtualEthernetCard); !ok {
			return &vspanFault{&types.InvalidDeviceSpec{DeviceIndex: int32(i)}, fmt.Sprintf("device %d of %s is not a network adapter", key, vm.Name)}
		}
		rc.from, _ = rc.nic.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo)
		want := dc.Device.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo).Port
		d := switchByUUID[want.SwitchUuid]
		if d == nil {
			return badBacking(i, "switchUuid", "no distributed switch with UUID %q", want.SwitchUuid)
		}
		if !isMember(d, host) {
			return badBacking(i, "switchUuid", "the host of %s is not a member of the distributed switch %s", vm.Name, d.Name)
		}
		rc.d = d
		if claimed[d] == nil {
			claimed[d] = map[int]bool{}
		}
		pgKey := want.PortgroupKey
		if want.PortKey != "" {
			idx, ok := d.portIdx[want.PortKey]
			if !ok {
				return badBacking(i, "portKey", "the distributed switch %s has no port %q", d.Name, want.PortKey)
			}
			port := &d.ports[idx]
			if pgKey == "" {
				pgKey = port.PortgroupKey
			}
			if port.PortgroupKey != pgKey {
				return badBacking(i, "portKey", "port %s is not in portgroup %s", want.PortKey, pgKey)
			}
			if claimed[d][idx] || (port.Connectee != nil && !connectedTo(port, vm, rc.nic)) {
				return &vspanFault{&types.InvalidDeviceBacking{InvalidDeviceSpec: types.InvalidDeviceSpec{DeviceIndex: int32(i)}},
					fmt.Sprintf("port %s of %s is in use", want.PortKey, d.Name)}
			}
			rc.newPort = idx
		}
		if pgKey == "" {
			return badBacking(i, "portgroupKey", "neither a portgroup nor a port")
		}
		pg, ok := simulator.Map.Get(moref("DistributedVirtualPortgroup", pgKey)).(*simulator.DistributedVirtualPortgroup)
		if !ok || pg.Config.DistributedVirtualSwitch == nil || *pg.Config.DistributedVirtualSwitch != d.Self {
			return badBacking(i, "portgroupKey", "the distributed switch %s has no portgroup %q", d.Name, pgKey)
		}
		if d.uplinkPG[pgKey] {
			return badBacking(i, "portgroupKey", "%s is an uplink portgroup", pg.Name)
		}
		rc.pg = pg
		if rc.newPort < 0 {
			// The NIC stays on its port when that is already in the portgroup; else vCenter picks a free one.
			if rc.from != nil && rc.from.Port.SwitchUuid == d.Uuid && rc.from.Port.PortgroupKey == pgKey {
				if idx, ok := d.portIdx[rc.from.Port.PortKey]; ok {
					rc.newPort = idx
				}
			}
		}
		if rc.newPort < 0 {
			for _, k := range pg.PortKeys {
				idx, ok := d.portIdx[k]
				if ok && d.ports[idx].Connectee == nil && !claimed[d][idx] {
					rc.newPort = idx
					break
				}
			}
		}
		if rc.newPort < 0 && (pg.Config.AutoExpand == nil || !*pg.Config.AutoExpand) {
			return &vspanFault{&types.InvalidDeviceBacking{InvalidDeviceSpec: types.InvalidDeviceSpec{DeviceIndex: int32(i)}},
				fmt.Sprintf("portgroup %s has no free port", pg.Name)}
		}
		if rc.newPort >= 0 {
			claimed[d][rc.newPort] = true
		}
		plan = append(plan, rc)
	}

	devices := append([]types.BaseVirtualDevice(nil), vm.Config.Hardware.Device...)
	var guestNet []types.GuestNicInfo
	if vm.Guest != nil {
		guestNet = append([]types.GuestNicInfo(nil), vm.Guest.Net...)
	}
	now := time.Now()
	for _, rc := range plan {
		nic := rc.nic.GetVirtualDevice()
		card := rc.nic.(types.BaseVirtualEthernetCard).GetVirtualEthernetCard()
		// The old port loses its connectee (if it is another port).
		if rc.from != nil {
			if old := switchByUUID[rc.from.Port.SwitchUuid]; old != nil {
				simulator.Map.WithLock(old, func() {
					if idx, ok := old.portIdx[rc.from.Port.PortKey]; ok && !(old == rc.d && idx == rc.newPort) {
						labMirror.mu.Lock() // what mirror sessions delivered until now, before ports move (mirror.go)
						defer labMirror.mu.Unlock()
						foldMirror(now)
						p := &old.ports[idx]
						p.Connectee = nil
						if p.State != nil && p.State.RuntimeInfo != nil {
							state := *p.State
							info := *state.RuntimeInfo
							info.LinkUp = false
							info.MacAddress = ""
							state.RuntimeInfo = &info
							p.State = &state
						}
					}
				})
			}
		}
		var newKey string
		added := false
		simulator.Map.WithLock(rc.d, func() {
			labMirror.mu.Lock() // what mirror sessions delivered until now, before ports move (mirror.go)
			defer labMirror.mu.Unlock()
			foldMirror(now)
			if rc.newPort < 0 {
				rc.newPort = rc.d.addPort(rc.pg, now)
				added = true
			}
			p := &rc.d.ports[rc.newPort]
			h := host
			ent := vm.Self
			p.Connectee = &types.DistributedVirtualSwitchPortConnectee{
				ConnectedEntity: &ent,
				NicKey:          strconv.Itoa(int(nic.Key)),
				Type:            string(types.DistributedVirtualSwitchPortConnecteeConnecteeTypeVmVnic),
			}
			p.ProxyHost = &h
			state := types.DVPortState{}
			if p.State != nil {
				state = *p.State
			}
			info := types.DVPortStatus{}
			if state.RuntimeInfo != nil {
				info = *state.RuntimeInfo
			}
			info.LinkUp = vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn &&
				nic.Connectable != nil && nic.Connectable.Connected
			info.MacAddress = card.MacAddress
			info.Mtu = 1500
			state.RuntimeInfo = &info
			p.State = &state
			p.LastStatusChange = now
			newKey = p.Key
		})
		if added {
			portAdded(rc.pg, newKey)
		}
		// The device, as a copy with the new backing.
		edited := reflect.New(reflect.TypeOf(rc.nic).Elem())
		edited.Elem().Set(reflect.ValueOf(rc.nic).Elem())
		dev := edited.Interface().(types.BaseVirtualDevice)
		vd := dev.GetVirtualDevice()
		vd.Backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{
			Port: types.DistributedVirtualSwitchPortConnection{SwitchUuid: rc.d.Uuid, PortgroupKey: rc.pg.Key, PortKey: newKey},
		}
		if vd.DeviceInfo != nil {
			info := *vd.DeviceInfo.GetDescription()
			info.Summary = "DVSwitch: " + rc.d.Uuid
			vd.DeviceInfo = &info
		}
		if c := spec.DeviceChange[rc.index].GetVirtualDeviceConfigSpec().Device.GetVirtualDevice().Connectable; c != nil {
			cc := *c
			vd.Connectable = &cc
		}
		devices[rc.dev] = dev
		for j := range guestNet {
			if guestNet[j].DeviceConfigId == nic.Key {
				guestNet[j].Network = rc.pg.Name
			}
		}
	}
	// Portgroup VM lists and the VM's networks follow its NICs.
	pgsBefore := vm.Network
	var pgsNow []types.ManagedObjectReference
	seen := map[types.ManagedObjectReference]bool{}
	for _, d := range devices {
		if b, ok := d.GetVirtualDevice().Backing.(*types.VirtualEthernetCardDistributedVirtualPortBackingInfo); ok {
			ref := moref("DistributedVirtualPortgroup", b.Port.PortgroupKey)
			if !seen[ref] {
				seen[ref] = true
				pgsNow = append(pgsNow, ref)
			}
		}
	}
	for _, ref := range pgsBefore {
		if ref.Type == "DistributedVirtualPortgroup" && !seen[ref] {
			if pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok {
				simulator.Map.WithLock(pg, func() {
					simulator.Map.Update(pg, []types.PropertyChange{{Name: "vm", Val: without(pg.Vm, vm.Self)}})
				})
			}
		}
	}
	for _, ref := range pgsNow {
		if pg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok {
			simulator.Map.WithLock(pg, func() {
				simulator.Map.Update(pg, []types.PropertyChange{{Name: "vm", Val: with(pg.Vm, vm.Self)}})
			})
		}
	}
	for _, ref := range pgsBefore {
		if ref.Type != "DistributedVirtualPortgroup" {
			pgsNow = append(pgsNow, ref)
		}
	}
	changes := []types.PropertyChange{
		{Name: "config.hardware.device", Val: devices},
		{Name: "config.changeVersion", Val: now.UTC().Format(time.RFC3339Nano)},
		{Name: "network", Val: pgsNow},
	}
	if vm.Guest != nil {
		changes = append(changes, types.PropertyChange{Name: "guest.net", Val: guestNet})
	}
	simulator.Map.Update(vm, changes)
	postEvent(ctx, &types.VmReconfiguredEvent{
		VmEvent:    types.VmEvent{Event: vmEventBase(vm, nil)},
		ConfigSpec: *spec,
	}, fmt.Sprintf("Reconfigured %s on %s", vm.Name, hostName(host)))
	return nil
}

func connectedTo(p *types.DistributedVirtualPort, vm *simulator.VirtualMachine, nic types.BaseVirtualDevice) bool {
	c := p.Connectee
	return c.ConnectedEntity != nil && *c.ConnectedEntity == vm.Self && c.NicKey == strconv.Itoa(int(nic.GetVirtualDevice().Key))
}

// addPort adds a port to an elastic portgroup (autoExpand) that has no free one; its key is the
// switch's highest numeric key plus one.
func (s *DVS) addPort(pg *simulator.DistributedVirtualPortgroup, now time.Time) int {
	next := 0
	for _, p := range s.ports {
		if n := numericKey(p.Key); n >= next {
			next = n + 1
		}
	}
	key := strconv.Itoa(next)
	var setting types.BaseDVPortSetting = pg.Config.DefaultPortConfig
	s.ports = append(s.ports, types.DistributedVirtualPort{
		Key:              key,
		DvsUuid:          s.Uuid,
		PortgroupKey:     pg.Key,
		Config:           types.DVPortConfigInfo{Setting: setting, ConfigVersion: "1"},
		State:            &types.DVPortState{RuntimeInfo: &types.DVPortStatus{Mtu: 1500}},
		LastStatusChange: now,
	})
	s.portIdx[key] = len(s.ports) - 1
	return len(s.ports) - 1
}

// portAdded records a port added by addPort in its portgroup (called without the switch's lock:
// ReconfigureDVPortgroup_Task locks the portgroup, then the switch).
func portAdded(pg *simulator.DistributedVirtualPortgroup, key string) {
	simulator.Map.WithLock(pg, func() {
		simulator.Map.Update(pg, []types.PropertyChange{
			{Name: "portKeys", Val: append(append([]string(nil), pg.PortKeys...), key)},
			{Name: "config.numPorts", Val: pg.Config.NumPorts + 1},
		})
	})
}

func hostName(ref types.ManagedObjectReference) string {
	if h, ok := simulator.Map.Get(ref).(*simulator.HostSystem); ok {
		return h.Name
	}
	return ref.Value
}
