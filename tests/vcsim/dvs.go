package main

// The distributed switch: a VmwareDistributedVirtualSwitch whose ports come from the lab.
// Stock vcsim 0.24.2 types switches as DistributedVirtualSwitch, returns ports without
// portgroupKey or connectee, ignores FetchDVPorts criteria and ignores vspanConfigSpec.

import (
	"fmt"
	"strconv"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// DVS is registered in simulator.Map in place of simulator.DistributedVirtualSwitch.
// Its first field is the mo type, so the PropertyCollector sees a VmwareDistributedVirtualSwitch.
type DVS struct {
	mo.VmwareDistributedVirtualSwitch

	ports    []types.DistributedVirtualPort
	portIdx  map[string]int
	uplinkPG map[string]bool                                             // keys of uplink portgroups
	nsxPG    map[string]bool                                             // keys of NSX-backed portgroups
	pgVlan   map[string]types.BaseVmwareDistributedVirtualSwitchVlanSpec // portgroup key -> its VLAN (mirror.go)
	uplinkAt map[[2]string]int                                           // (host, uplink name) -> index of that uplink port, built on first use (mirror.go)
	nextKey  int                                                         // next generated session key
	started  time.Time                                                   // when the inventory was built: port traffic counts from here (traffic.go)

	mirrorAcc map[int]*mirrored // port index -> mirrored traffic delivered until labMirror.foldAt (mirror.go)
}

func (s *DVS) config() *VMwareDVSConfigInfo {
	return s.Config.(*VMwareDVSConfigInfo)
}

func isUplinkPort(s *DVS, p *types.DistributedVirtualPort) bool {
	if s.uplinkPG[p.PortgroupKey] {
		return true
	}
	return p.Connectee != nil && p.Connectee.Type == string(types.DistributedVirtualSwitchPortConnecteeConnecteeTypePnic)
}

// match applies DistributedVirtualSwitchPortCriteria; unset flags do not filter.
type portFilter struct {
	c      *types.DistributedVirtualSwitchPortCriteria
	keys   map[string]bool
	pgs    map[string]bool
	hosts  map[types.ManagedObjectReference]bool
	inside bool
}

func newPortFilter(c *types.DistributedVirtualSwitchPortCriteria) *portFilter {
	f := &portFilter{c: c, inside: true}
	if c == nil {
		return f
	}
	if c.PortKey != nil {
		f.keys = map[string]bool{}
		for _, k := range c.PortKey {
			f.keys[k] = true
		}
	}
	if c.PortgroupKey != nil {
		f.pgs = map[string]bool{}
		for _, k := range c.PortgroupKey {
			f.pgs[k] = true
		}
	}
	if c.Inside != nil {
		f.inside = *c.Inside
	}
	if c.Host != nil {
		f.hosts = map[types.ManagedObjectReference]bool{}
		for _, h := range c.Host {
			f.hosts[h] = true
		}
	}
	return f
}

func (f *portFilter) match(s *DVS, p *types.DistributedVirtualPort) bool {
	c := f.c
	if c == nil {
		return true
	}
	// "NSX ports are ports of NSX port group" (the API reference of PortCriteria.nsxPort, 7.0).
	if c.NsxPort != nil && *c.NsxPort != s.nsxPG[p.PortgroupKey] {
		return false
	}
	if f.keys != nil && !f.keys[p.Key] {
		return false
	}
	if f.pgs != nil {
		in := p.PortgroupKey != "" && f.pgs[p.PortgroupKey]
		if in != f.inside {
			return false
		}
	}
	connected := p.Connectee != nil
	if c.Connected != nil && *c.Connected != connected {
		return false
	}
	if c.Active != nil {
		active := connected && p.State != nil && p.State.RuntimeInfo != nil && p.State.RuntimeInfo.LinkUp
		if *c.Active != active {
			return false
		}
	}
	if c.UplinkPort != nil && *c.UplinkPort != isUplinkPort(s, p) {
		return false
	}
	if f.hosts != nil && (p.ProxyHost == nil || !f.hosts[*p.ProxyHost]) {
		return false
	}
	return true
}

func (s *DVS) selectPorts(c *types.DistributedVirtualSwitchPortCriteria) []types.DistributedVirtualPort {
	f := newPortFilter(c)
	if c != nil && c.PortKey != nil && f.pgs == nil {
		// Fast path: look the keys up.
		var out []types.DistributedVirtualPort
		for _, k := range c.PortKey {
			if i, ok := s.portIdx[k]; ok && f.match(s, &s.ports[i]) {
				out = append(out, s.ports[i])
			}
		}
		return out
	}
	out := make([]types.DistributedVirtualPort, 0, len(s.ports))
	for i := range s.ports {
		if f.match(s, &s.ports[i]) {
			out = append(out, s.ports[i])
		}
	}
	return out
}

// FetchDVPorts returns the lab's ports that match the criteria.
func (s *DVS) FetchDVPorts(req *types.FetchDVPorts) soap.HasFault {
	return &methods.FetchDVPortsBody{
		Res: &types.FetchDVPortsResponse{Returnval: s.selectPorts(req.Criteria)},
	}
}

// FetchDVPortKeys returns the keys of the ports that match the criteria.
func (s *DVS) FetchDVPortKeys(req *types.FetchDVPortKeys) soap.HasFault {
	ports := s.selectPorts(req.Criteria)
	keys := make([]string, len(ports))
	for i := range ports {
		keys[i] = ports[i].Key
	}
	return &methods.FetchDVPortKeysBody{Res: &types.FetchDVPortKeysResponse{Returnval: keys}}
}

// ReconfigureDvsTask checks configVersion and applies vspanConfigSpec as vCenter does.
// Other parts of the spec (hosts, policies) are accepted and ignored.
func (s *DVS) ReconfigureDvsTask(ctx *simulator.Context, req *types.ReconfigureDvs_Task) soap.HasFault {
	task := simulator.CreateTask(s, "reconfigureDvs", nil)
	runTask(task, func() *vspanFault {
		f := s.reconfigure(req.Spec)
		if f == nil {
			s.postReconfigured(ctx, req.Spec) // DvsReconfiguredEvent (events.go)
		}
		return f
	})
	return &methods.ReconfigureDvs_TaskBody{
		Res: &types.ReconfigureDvs_TaskResponse{Returnval: task.Self},
	}
}

func (s *DVS) reconfigure(spec types.BaseDVSConfigSpec) *vspanFault {
	if spec == nil {
		return invalidArgument("spec", "no spec")
	}
	cfg := s.config()
	base := spec.GetDVSConfigSpec()
	if base.ConfigVersion != cfg.ConfigVersion {
		return &vspanFault{
			&types.ConcurrentAccess{},
			fmt.Sprintf("the switch configuration changed: configVersion is %s, the change was made for %q", cfg.ConfigVersion, base.ConfigVersion),
		}
	}
	sessions := cfg.VspanSession
	next := s.nextKey
	if vs, ok := spec.(*VMwareDVSConfigSpec); ok && len(vs.VspanConfigSpec) > 0 {
		vc := &vspanContext{
			portExists: func(k string) bool { _, ok := s.portIdx[k]; return ok },
			uplinks:    map[string]bool{},
		}
		if p, ok := cfg.UplinkPortPolicy.(*types.DVSNameArrayUplinkPortPolicy); ok {
			for _, u := range p.UplinkPortName {
				vc.uplinks[u] = true
			}
		}
		var f *vspanFault
		sessions, next, f = vc.applyVspan(cfg.VspanSession, vs.VspanConfigSpec, s.nextKey)
		if f != nil {
			return f
		}
	}
	version, err := strconv.ParseInt(cfg.ConfigVersion, 10, 64)
	if err != nil {
		version = 0
	}
	updated := *cfg
	updated.VspanSession = sessions
	updated.ConfigVersion = strconv.FormatInt(version+1, 10)
	s.nextKey = next
	labMirror.mu.Lock()
	foldMirror(time.Now()) // what the old sessions delivered (on every switch), before the new ones apply
	simulator.Map.Update(s, []types.PropertyChange{{Name: "config", Val: &updated}})
	labMirror.mu.Unlock()
	return nil
}

// runTask is simulator.Task.Run with a readable localizedMessage for faults.
func runTask(task *simulator.Task, run func() *vspanFault) {
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	f := run()
	state := types.TaskInfoStateSuccess
	var fault interface{}
	if f != nil {
		state = types.TaskInfoStateError
		fault = types.LocalizedMethodFault{Fault: f.fault, LocalizedMessage: f.msg}
	}
	simulator.Map.Update(task, []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.result", Val: nil},
		{Name: "info.error", Val: fault},
	})
}
