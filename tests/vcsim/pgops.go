package main

// ReconfigureDVPortgroup_Task as vCenter applies it: govmomi 0.24.2's (simulator/portgroup.go)
// assigns the spec's fields directly (an unset name or numPorts becomes "" or 0), checks no
// configVersion and reports nothing to the PropertyCollector. The request type is registered anew
// (as in vmops.go) so the call comes here. See README.md, "Updates, vMotion, reconnect, events".

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

type reconfigPortgroupRequest struct {
	types.ReconfigureDVPortgroup_Task
	target types.ManagedObjectReference
}

func (r *reconfigPortgroupRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	return redirect(d, start, &r.ReconfigureDVPortgroup_Task, &r.This, &r.target)
}

func init() {
	types.Add("ReconfigureDVPortgroup_Task", reflect.TypeOf((*reconfigPortgroupRequest)(nil)).Elem())
}

func (o *vmOps) ReconfigureDVPortgroupTask(ctx *simulator.Context, r *reconfigPortgroupRequest) soap.HasFault {
	pg, ok := simulator.Map.Get(r.target).(*simulator.DistributedVirtualPortgroup)
	if !ok {
		return &serverFault{notFoundBody(r.target)}
	}
	var ref types.ManagedObjectReference
	simulator.Map.WithLock(pg, func() {
		task := simulator.CreateTask(pg, "reconfigureDvPortgroup", nil)
		runTask(task, func() *vspanFault { return reconfigurePortgroup(pg, &r.Spec) })
		ref = task.Self
	})
	return &methods.ReconfigureDVPortgroup_TaskBody{Res: &types.ReconfigureDVPortgroup_TaskResponse{Returnval: ref}}
}

func boolOf(p *types.BoolPolicy) *bool {
	if p == nil {
		return nil
	}
	return p.Value
}

// mergeSetting applies what a spec's port setting sets on top of a stored one (a new object).
func mergeSetting(stored *types.VMwareDVSPortSetting, spec *types.VMwareDVSPortSetting) *types.VMwareDVSPortSetting {
	out := *stored
	if spec == nil {
		return &out
	}
	if spec.Vlan != nil {
		out.Vlan = spec.Vlan
	}
	if sp := spec.SecurityPolicy; sp != nil {
		merged := types.DVSSecurityPolicy{}
		if out.SecurityPolicy != nil {
			merged = *out.SecurityPolicy
		}
		if sp.AllowPromiscuous != nil {
			merged.AllowPromiscuous = sp.AllowPromiscuous
		}
		if sp.MacChanges != nil {
			merged.MacChanges = sp.MacChanges
		}
		if sp.ForgedTransmits != nil {
			merged.ForgedTransmits = sp.ForgedTransmits
		}
		out.SecurityPolicy = &merged
	}
	if mp := spec.MacManagementPolicy; mp != nil {
		merged := types.DVSMacManagementPolicy{}
		if out.MacManagementPolicy != nil {
			merged = *out.MacManagementPolicy
		}
		if mp.AllowPromiscuous != nil {
			merged.AllowPromiscuous = mp.AllowPromiscuous
		}
		if mp.MacChanges != nil {
			merged.MacChanges = mp.MacChanges
		}
		if mp.ForgedTransmits != nil {
			merged.ForgedTransmits = mp.ForgedTransmits
		}
		out.MacManagementPolicy = &merged
	}
	if spec.UplinkTeamingPolicy != nil {
		out.UplinkTeamingPolicy = spec.UplinkTeamingPolicy
	}
	return &out
}

func promiscuousOf(s *types.VMwareDVSPortSetting) *bool {
	if s == nil || s.SecurityPolicy == nil {
		return nil
	}
	return boolOf(s.SecurityPolicy.AllowPromiscuous)
}

func sameBool(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func reconfigurePortgroup(pg *simulator.DistributedVirtualPortgroup, spec *types.DVPortgroupConfigSpec) *vspanFault {
	cfg := pg.Config
	if spec.ConfigVersion != cfg.ConfigVersion {
		return &vspanFault{&types.ConcurrentAccess{}, fmt.Sprintf(
			"the portgroup configuration changed: configVersion is %s, the change was made for %q", cfg.ConfigVersion, spec.ConfigVersion)}
	}
	var d *DVS
	if cfg.DistributedVirtualSwitch != nil {
		d, _ = simulator.Map.Get(*cfg.DistributedVirtualSwitch).(*DVS)
	}
	if spec.Name != "" && spec.Name != cfg.Name && d != nil {
		if len(spec.Name) > 80 {
			return &vspanFault{&types.InvalidName{Name: spec.Name}, "a portgroup name has at most 80 characters"}
		}
		for _, ref := range d.Portgroup {
			if other, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok && other != pg && other.Name == spec.Name {
				return &vspanFault{&types.DuplicateName{Name: spec.Name, Object: other.Self}, fmt.Sprintf("the switch already has a portgroup named %s", spec.Name)}
			}
		}
	}
	var newSetting *types.VMwareDVSPortSetting
	if spec.DefaultPortConfig != nil {
		want, ok := spec.DefaultPortConfig.(*types.VMwareDVSPortSetting)
		if !ok {
			return invalidArgument("spec.defaultPortConfig", "expected a VMwareDVSPortSetting")
		}
		stored, _ := cfg.DefaultPortConfig.(*types.VMwareDVSPortSetting)
		if stored == nil {
			stored = &types.VMwareDVSPortSetting{}
		}
		if v, ok := want.Vlan.(*types.VmwareDistributedVirtualSwitchVlanIdSpec); ok && (v.VlanId < 0 || v.VlanId > 4094) {
			return invalidArgument("spec.defaultPortConfig.vlan.vlanId", "VLAN %d is outside 0-4094", v.VlanId)
		}
		newSetting = mergeSetting(stored, want)
	}

	updated := cfg
	if spec.Name != "" {
		updated.Name = spec.Name
	}
	if spec.NumPorts > 0 {
		updated.NumPorts = spec.NumPorts
	}
	if spec.Description != "" {
		updated.Description = spec.Description
	}
	if spec.Type != "" {
		updated.Type = spec.Type
	}
	if spec.AutoExpand != nil {
		updated.AutoExpand = spec.AutoExpand
	}
	if spec.Policy != nil {
		updated.Policy = spec.Policy
	}
	if newSetting != nil {
		updated.DefaultPortConfig = newSetting
	}
	version, err := strconv.ParseInt(cfg.ConfigVersion, 10, 64)
	if err != nil {
		version = 0
	}
	updated.ConfigVersion = strconv.FormatInt(version+1, 10)

	// The portgroup's ports follow its VLAN, and its security policy where they inherit it.
	if newSetting != nil && d != nil {
		old, _ := cfg.DefaultPortConfig.(*types.VMwareDVSPortSetting)
		simulator.Map.WithLock(d, func() {
			// Mirror delivery depends on portgroup VLANs (mirror.go): fold what was delivered first.
			labMirror.mu.Lock()
			defer labMirror.mu.Unlock()
			foldMirror(time.Now())
			if newSetting.Vlan != nil && d.pgVlan != nil {
				d.pgVlan[pg.Key] = newSetting.Vlan
			}
			for i := range d.ports {
				p := &d.ports[i]
				if p.PortgroupKey != pg.Key {
					continue
				}
				ps, _ := p.Config.Setting.(*types.VMwareDVSPortSetting)
				if ps == nil {
					continue
				}
				merged := *ps
				merged.Vlan = newSetting.Vlan
				if sameBool(promiscuousOf(ps), promiscuousOf(old)) {
					merged.SecurityPolicy = newSetting.SecurityPolicy
					merged.MacManagementPolicy = newSetting.MacManagementPolicy
				}
				p.Config.Setting = &merged
				p.Config.ConfigVersion = strconv.Itoa(numericKey(p.Config.ConfigVersion) + 1)
			}
		})
	}
	changes := []types.PropertyChange{{Name: "config", Val: updated}}
	if updated.Name != cfg.Name {
		summary := *pg.Summary.GetNetworkSummary()
		summary.Name = updated.Name
		changes = append(changes,
			types.PropertyChange{Name: "name", Val: updated.Name},
			types.PropertyChange{Name: "summary", Val: &summary},
		)
	}
	simulator.Map.Update(pg, changes)
	if updated.Name != cfg.Name && d != nil {
		simulator.Map.WithLock(d, func() {
			names := append([]string(nil), d.Summary.PortgroupName...)
			for i, n := range names {
				if n == cfg.Name {
					names[i] = updated.Name
				}
			}
			simulator.Map.Update(d, []types.PropertyChange{{Name: "summary.portgroupName", Val: names}})
		})
	}
	return nil
}
