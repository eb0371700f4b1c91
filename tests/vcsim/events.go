package main

// Events: what this server posts (DvsReconfiguredEvent, VmMigratedEvent, VmReconfiguredEvent) into
// govmomi's EventManager, and QueryEvents with the filters govmomi 0.24.2 leaves out.
//
// govmomi's EventManager (simulator/event_manager.go) keeps the last 1000 events and filters by
// entity and eventTypeId only ("TODO: spec.Time, spec.UserName"); its QueryEvents returns one page
// of maxCount events, 10 when maxCount is unset. QueryEvents requests are decoded into our type
// (as vmops.go does) and answered here: govmomi's query with the entity and type filters, then
// time (beginTime <= createdTime <= endTime), user names and chain id, then maxCount (newest
// first, as govmomi orders them; unset: all of them). CreateCollectorForEvents stays govmomi's.

import (
	"fmt"
	"reflect"
	"text/template"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

var eventsRef = types.ManagedObjectReference{Type: "DvmirrorEvents", Value: "events"}

// maxEvents is how many events govmomi's EventManager keeps (its maxPageSize).
const maxEvents = 1000

type eventQueries struct {
	mo.PropertyFilter // any mo type: the registry needs one
}

type queryEventsRequest struct {
	types.QueryEvents
	target types.ManagedObjectReference
}

func (r *queryEventsRequest) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	if err := d.DecodeElement(&r.QueryEvents, &start); err != nil {
		return err
	}
	r.target = r.This
	r.This = eventsRef
	return nil
}

func init() {
	types.Add("QueryEvents", reflect.TypeOf((*queryEventsRequest)(nil)).Elem())
}

func registerEvents() {
	q := &eventQueries{}
	q.Self = eventsRef
	simulator.Map.Put(q)
	// govmomi formats fullFormattedMessage with text/template from its EventInfo, and panics on a
	// template that does not parse (VmMigratedEvent's has "{{.SourceHost.Name}," in 0.24.2): such
	// a template keeps the message the event was posted with.
	m := simulator.Map.EventManager()
	for i := range m.Description.EventInfo {
		info := &m.Description.EventInfo[i]
		if _, err := template.New(info.Key).Parse(info.FullFormat); err != nil {
			info.FullFormat = "{{.FullFormattedMessage}}"
		}
	}
}

func (q *eventQueries) QueryEvents(ctx *simulator.Context, r *queryEventsRequest) soap.HasFault {
	body := &methods.QueryEventsBody{}
	m := simulator.Map.EventManager()
	if r.target != m.Self {
		body.Fault_ = notFoundBody(r.target)
		return body
	}
	want := r.Filter
	if want.MaxCount < 0 || want.MaxCount > maxEvents {
		body.Fault_ = simulator.Fault("maxCount must be 1 to 1000", &types.InvalidArgument{InvalidProperty: "filter.maxCount"})
		return body
	}
	broad := want
	broad.Time, broad.UserName, broad.EventChainId = nil, nil, 0
	broad.MaxCount = maxEvents
	var res soap.HasFault
	caller := ctx.Caller
	ctx.Caller = &m.Self
	simulator.Map.WithLock(m, func() {
		res = m.QueryEvents(ctx, &types.QueryEvents{This: m.Self, Filter: broad})
	})
	ctx.Caller = caller
	stock, ok := res.(*methods.QueryEventsBody)
	if !ok || stock.Fault_ != nil || stock.Res == nil {
		return res
	}
	var out []types.BaseEvent
	for _, e := range stock.Res.Returnval {
		ev := e.GetEvent()
		if t := want.Time; t != nil {
			if t.BeginTime != nil && ev.CreatedTime.Before(*t.BeginTime) {
				continue
			}
			if t.EndTime != nil && ev.CreatedTime.After(*t.EndTime) {
				continue
			}
		}
		if u := want.UserName; u != nil {
			match := u.SystemUser && ev.UserName == ""
			for _, name := range u.UserList {
				if name == ev.UserName {
					match = true
				}
			}
			if !match {
				continue
			}
		}
		if want.EventChainId != 0 && ev.ChainId != want.EventChainId {
			continue
		}
		out = append(out, e)
		if want.MaxCount > 0 && len(out) == int(want.MaxCount) {
			break
		}
	}
	body.Res = &types.QueryEventsResponse{Returnval: out}
	return body
}

// postEvent records an event in govmomi's EventManager as the simulator's own events are: key,
// chainId, createdTime and userName (the session's) are filled in there.
func postEvent(ctx *simulator.Context, event types.BaseEvent, message string) {
	m := simulator.Map.EventManager()
	event.GetEvent().FullFormattedMessage = message
	caller := ctx.Caller
	ctx.Caller = nil
	simulator.Map.WithLock(m, func() {
		m.PostEvent(ctx, &types.PostEvent{EventToPost: event})
	})
	ctx.Caller = caller
	if message != "" {
		// govmomi formats the message from its own templates when it has one for the type.
		if e := event.GetEvent(); e.FullFormattedMessage == "" {
			e.FullFormattedMessage = message
		}
	}
}

// datacenterOf walks up the parents of an entity to its datacenter.
func datacenterOf(e mo.Entity) *types.DatacenterEventArgument {
	ref := e.Entity().Parent
	for i := 0; ref != nil && i < 64; i++ {
		obj := simulator.Map.Get(*ref)
		if dc, ok := obj.(*simulator.Datacenter); ok {
			return &types.DatacenterEventArgument{EntityEventArgument: types.EntityEventArgument{Name: dc.Name}, Datacenter: dc.Self}
		}
		ent, ok := obj.(mo.Entity)
		if !ok {
			return nil
		}
		ref = ent.Entity().Parent
	}
	return nil
}

// vmEventBase is the entity arguments of a VM event; host nil = the VM's host.
func vmEventBase(vm *simulator.VirtualMachine, host *simulator.HostSystem) types.Event {
	e := types.Event{
		Datacenter: datacenterOf(vm),
		Vm:         &types.VmEventArgument{EntityEventArgument: types.EntityEventArgument{Name: vm.Name}, Vm: vm.Self},
	}
	if host == nil && vm.Runtime.Host != nil {
		host, _ = simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	}
	if host != nil {
		e.Host = &types.HostEventArgument{EntityEventArgument: types.EntityEventArgument{Name: host.Name}, Host: host.Self}
		if host.Parent != nil {
			if cr, ok := simulator.Map.Get(*host.Parent).(*mo.ComputeResource); ok {
				e.ComputeResource = &types.ComputeResourceEventArgument{
					EntityEventArgument: types.EntityEventArgument{Name: cr.Name}, ComputeResource: cr.Self,
				}
			}
		}
	}
	return e
}

// postReconfigured records a successful ReconfigureDvs_Task: the spec as sent, the switch and its
// datacenter. configChanges (API 6.5+) is left unset: its text on a real vCenter is not known here.
func (s *DVS) postReconfigured(ctx *simulator.Context, spec types.BaseDVSConfigSpec) {
	e := types.Event{
		Datacenter: datacenterOf(s),
		Dvs:        &types.DvsEventArgument{EntityEventArgument: types.EntityEventArgument{Name: s.Name}, Dvs: s.Self},
	}
	dc := ""
	if e.Datacenter != nil {
		dc = e.Datacenter.Name
	}
	postEvent(ctx, &types.DvsReconfiguredEvent{DvsEvent: types.DvsEvent{Event: e}, ConfigSpec: spec},
		fmt.Sprintf("The vSphere Distributed Switch %s in %s was reconfigured.", s.Name, dc))
}
