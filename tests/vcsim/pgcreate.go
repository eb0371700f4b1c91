package main

// CreateDVPortgroup_Task and a portgroup's Destroy_Task, as vCenter answers them (for `dvmirror monitor
// prepare` / `restore`). govmomi 0.24.2 has no CreateDVPortgroup_Task at all (only AddDVPortgroup_Task, on
// its own DistributedVirtualSwitch type), and its portgroup Destroy_Task type-asserts that type, which our
// switches are not (dvs.go). So: CreateDVPortgroupTask is a method of our DVS, and Destroy_Task's request
// type is registered anew (as vmops.go does) so that a portgroup's comes here; any other object's goes to
// its own govmomi method, called as the simulator would have.
//
// Faults, as the API reference declares them for CreateDVPortgroup_Task: DuplicateName (a network of the
// datacenter has the name), InvalidName (empty or longer than 80 characters), InvalidArgument (a VLAN ID
// outside 0-4094, a default port setting that is not a VMwareDVSPortSetting, an unknown binding type).
// Destroy_Task of a portgroup with a connected port is ResourceInUse.

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

type destroyRequest struct {
	types.Destroy_Task
	target types.ManagedObjectReference
}

func (r *destroyRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return redirect(d, start, &r.Destroy_Task, &r.This, &r.target)
}

func init() {
	types.Add("Destroy_Task", reflect.TypeOf((*destroyRequest)(nil)).Elem())
}

// DestroyTask removes a portgroup of our switches; any other object is destroyed by its own method.
func (o *vmOps) DestroyTask(ctx *simulator.Context, r *destroyRequest) soap.HasFault {
	obj := simulator.Map.Get(r.target)
	if obj == nil {
		return &serverFault{notFoundBody(r.target)}
	}
	pg, ok := obj.(*simulator.DistributedVirtualPortgroup)
	if !ok {
		m := reflect.ValueOf(obj).MethodByName("DestroyTask")
		if !m.IsValid() {
			return &serverFault{simulator.Fault("", &types.NotSupported{})}
		}
		req := &types.Destroy_Task{This: r.target}
		var args []reflect.Value
		if m.Type().NumIn() == 2 {
			args = []reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(req)}
		} else {
			args = []reflect.Value{reflect.ValueOf(req)}
		}
		var res soap.HasFault
		simulator.Map.WithLock(obj, func() { res = m.Call(args)[0].Interface().(soap.HasFault) })
		return res
	}
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(pg, func() {
		task := simulator.CreateTask(pg, "destroy", nil)
		runTask(task, func() *vspanFault { return destroyPortgroup(pg) })
		ref = task.Self
	})
	return &methods.Destroy_TaskBody{Res: &types.Destroy_TaskResponse{Returnval: ref}}
}

func destroyPortgroup(pg *simulator.DistributedVirtualPortgroup) *vspanFault {
	if pg.Config.DistributedVirtualSwitch == nil {
		return &vspanFault{&types.NotSupported{}, "the portgroup has no switch"}
	}
	d, ok := simulator.Map.Get(*pg.Config.DistributedVirtualSwitch).(*DVS)
	if !ok {
		return &vspanFault{&types.NotSupported{}, "the portgroup's switch is not one of this lab's"}
	}
	if d.uplinkPG[pg.Key] {
		return &vspanFault{&types.InvalidArgument{InvalidProperty: "this"}, "an uplink portgroup cannot be removed"}
	}
	var inUse string
	simulator.Map.WithLock(d, func() {
		for _, p := range d.ports {
			if p.PortgroupKey == pg.Key && p.Connectee != nil {
				inUse = p.Key
				return
			}
		}
		labMirror.mu.Lock()
		defer labMirror.mu.Unlock()
		foldMirror(time.Now())
		kept := d.ports[:0:0]
		acc := map[int]*mirrored{}
		for i, p := range d.ports {
			if p.PortgroupKey != pg.Key {
				if m, ok := d.mirrorAcc[i]; ok {
					acc[len(kept)] = m // what was delivered to the port stays with it
				}
				kept = append(kept, p)
			}
		}
		d.ports = kept
		d.portIdx = map[string]int{}
		for i, p := range d.ports {
			d.portIdx[p.Key] = i
		}
		d.uplinkAt = nil
		if d.mirrorAcc != nil {
			d.mirrorAcc = acc
		}
		delete(d.pgVlan, pg.Key)
		names := []string{}
		for _, n := range d.Summary.PortgroupName {
			if n != pg.Name {
				names = append(names, n)
			}
		}
		simulator.Map.Update(d, []types.PropertyChange{
			{Name: "portgroup", Val: without(d.Portgroup, pg.Self)},
			{Name: "summary.portgroupName", Val: names},
		})
	})
	if inUse != "" {
		return &vspanFault{&types.ResourceInUse{Type: "DistributedVirtualPortgroup", Name: pg.Name},
			fmt.Sprintf("port %s of %s is in use", inUse, pg.Name)}
	}
	for _, h := range pg.Host {
		if host, ok := simulator.Map.Get(h).(*simulator.HostSystem); ok {
			simulator.Map.WithLock(host, func() {
				simulator.Map.Update(host, []types.PropertyChange{{Name: "network", Val: without(host.Network, pg.Self)}})
			})
		}
	}
	if pg.Parent != nil {
		if f, ok := simulator.Map.Get(*pg.Parent).(*simulator.Folder); ok {
			simulator.Map.WithLock(f, func() {
				simulator.Map.Update(f, []types.PropertyChange{{Name: "childEntity", Val: without(f.ChildEntity, pg.Self)}})
			})
		}
	}
	simulator.Map.Remove(pg.Self)
	return nil
}

// CreateDVPortgroupTask adds one portgroup to the switch (the switch is locked by the caller).
func (s *DVS) CreateDVPortgroupTask(ctx *simulator.Context, req *types.CreateDVPortgroup_Task) soap.HasFault {
	task := simulator.CreateTask(s, "createDVPortgroup", nil)
	var created types.ManagedObjectReference
	runTask(task, func() *vspanFault {
		ref, f := s.createPortgroup(&req.Spec)
		created = ref
		return f
	})
	if created.Value != "" {
		simulator.Map.Update(task, []types.PropertyChange{{Name: "info.result", Val: created}})
	}
	return &methods.CreateDVPortgroup_TaskBody{Res: &types.CreateDVPortgroup_TaskResponse{Returnval: task.Self}}
}

func (s *DVS) createPortgroup(spec *types.DVPortgroupConfigSpec) (types.ManagedObjectReference, *vspanFault) {
	none := types.ManagedObjectReference{}
	name := spec.Name
	if strings.TrimSpace(name) == "" || len(name) > 80 {
		return none, &vspanFault{&types.InvalidName{Name: name}, "a portgroup name has 1 to 80 characters"}
	}
	if s.Parent == nil {
		return none, &vspanFault{&types.NotSupported{}, "the switch has no folder"}
	}
	net, ok := simulator.Map.Get(*s.Parent).(*simulator.Folder)
	if !ok {
		return none, &vspanFault{&types.NotSupported{}, "the switch has no folder"}
	}
	for _, ref := range net.ChildEntity {
		if ent, ok := simulator.Map.Get(ref).(mo.Entity); ok && ent.Entity().Name == name {
			return none, &vspanFault{&types.DuplicateName{Name: name, Object: ref}, fmt.Sprintf("a network named %s already exists", name)}
		}
	}
	binding := spec.Type
	if binding == "" {
		binding = "earlyBinding"
	}
	if binding != "earlyBinding" && binding != "lateBinding" && binding != "ephemeral" {
		return none, invalidArgument("spec.type", "unknown port binding %q", binding)
	}
	stored, _ := s.config().DefaultPortConfig.(*types.VMwareDVSPortSetting)
	if stored == nil {
		stored = &types.VMwareDVSPortSetting{}
	}
	var want *types.VMwareDVSPortSetting
	if spec.DefaultPortConfig != nil {
		w, ok := spec.DefaultPortConfig.(*types.VMwareDVSPortSetting)
		if !ok {
			return none, invalidArgument("spec.defaultPortConfig", "expected a VMwareDVSPortSetting")
		}
		want = w
		switch v := w.Vlan.(type) {
		case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
			if v.VlanId < 0 || v.VlanId > 4094 {
				return none, invalidArgument("spec.defaultPortConfig.vlan.vlanId", "VLAN %d is outside 0-4094", v.VlanId)
			}
		case *types.VmwareDistributedVirtualSwitchTrunkVlanSpec:
			for _, r := range v.VlanId {
				if r.Start < 0 || r.End > 4094 || r.Start > r.End {
					return none, invalidArgument("spec.defaultPortConfig.vlan.vlanId", "bad VLAN range %d-%d", r.Start, r.End)
				}
			}
		}
	}
	setting := mergeSetting(stored, want)
	if setting.Vlan == nil {
		setting.Vlan = &types.VmwareDistributedVirtualSwitchVlanIdSpec{}
	}

	next := 0
	for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
		v := e.Reference().Value
		if n := numericKey(strings.TrimPrefix(v, "dvportgroup-")); n >= next {
			next = n + 1
		}
	}
	pg := &simulator.DistributedVirtualPortgroup{}
	pg.Self = moref("DistributedVirtualPortgroup", fmt.Sprintf("dvportgroup-%d", next))
	pg.Name = name
	pg.Key = pg.Self.Value
	dref := s.Self
	auto := spec.AutoExpand
	if auto == nil {
		auto = bp(binding != "ephemeral")
	}
	policy := spec.Policy
	if policy == nil {
		policy = &types.VMwareDVSPortgroupPolicy{
			DVPortgroupPolicy: types.DVPortgroupPolicy{
				BlockOverrideAllowed:               true,
				PortConfigResetAtDisconnect:        true,
				NetworkResourcePoolOverrideAllowed: bp(false),
				TrafficFilterOverrideAllowed:       bp(false),
			},
			IpfixOverrideAllowed: bp(false),
		}
	}
	pg.Config = types.DVPortgroupConfigInfo{
		Key:                      pg.Key,
		Name:                     name,
		DistributedVirtualSwitch: &dref,
		DefaultPortConfig:        setting,
		Description:              spec.Description,
		Type:                     binding,
		Policy:                   policy,
		ConfigVersion:            "1",
		AutoExpand:               auto,
		Uplink:                   bp(false),
	}
	pg.Host = append([]types.ManagedObjectReference(nil), s.Summary.HostMember...)
	pg.Summary = &types.NetworkSummary{Network: &pg.Self, Name: name, Accessible: true}
	now := time.Now()
	if binding != "ephemeral" {
		labMirror.mu.Lock()
		for i := int32(0); i < spec.NumPorts; i++ {
			idx := s.addPort(pg, now)
			pg.PortKeys = append(pg.PortKeys, s.ports[idx].Key)
		}
		labMirror.mu.Unlock()
		pg.Config.NumPorts = spec.NumPorts
	}
	s.pgVlan[pg.Key] = setting.Vlan
	simulator.Map.WithLock(net, func() {
		net.ChildEntity = append(net.ChildEntity, pg.Self)
		simulator.Map.PutEntity(net, pg)
	})
	for _, h := range pg.Host {
		if host, ok := simulator.Map.Get(h).(*simulator.HostSystem); ok {
			simulator.Map.WithLock(host, func() {
				simulator.Map.Update(host, []types.PropertyChange{{Name: "network", Val: with(host.Network, pg.Self)}})
			})
		}
	}
	simulator.Map.Update(s, []types.PropertyChange{
		{Name: "portgroup", Val: with(s.Portgroup, pg.Self)},
		{Name: "summary.portgroupName", Val: append(append([]string(nil), s.Summary.PortgroupName...), name)},
		{Name: "summary.numPorts", Val: int32(len(s.ports))},
	})
	return pg.Self, nil
}
