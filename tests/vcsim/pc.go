package main

// PropertyCollector paging: govmomi 0.24.2 ignores RetrieveOptions.maxObjects and has no
// ContinueRetrievePropertiesEx. vcsim creates each session's PropertyCollector with
// reflect.New on the type registered for the singleton, so registering this type once
// gives paging to every session. The embedded collector is a value (not a pointer), so a
// zero PropertyCollector works and the PropertyCollector still finds the mo type inside.

import (
	"strconv"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type PropertyCollector struct {
	simulator.PropertyCollector

	pageMu sync.Mutex
	pages  map[string]*pendingPages
	serial int

	live liveUpdates // WaitForUpdatesEx (updates.go)
}

type pendingPages struct {
	objects []types.ObjectContent
	max     int
}

func (pc *PropertyCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Fault_ != nil || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	max := int(r.Options.MaxObjects)
	result := body.Res.Returnval
	if len(result.Objects) == 0 {
		// vCenter returns no result at all when nothing matched.
		body.Res.Returnval = nil
		return body
	}
	if max <= 0 || len(result.Objects) <= max {
		return body
	}
	rest := result.Objects[max:]
	result.Objects = result.Objects[:max:max]
	result.Token = pc.keep(rest, max)
	return body
}

func (pc *PropertyCollector) keep(objects []types.ObjectContent, max int) string {
	pc.pageMu.Lock()
	defer pc.pageMu.Unlock()
	if pc.pages == nil {
		pc.pages = map[string]*pendingPages{}
	}
	pc.serial++
	token := strconv.Itoa(pc.serial)
	pc.pages[token] = &pendingPages{objects: objects, max: max}
	return token
}

func (pc *PropertyCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pc.pageMu.Lock()
	p := pc.pages[r.Token]
	delete(pc.pages, r.Token)
	pc.pageMu.Unlock()
	if p == nil {
		body.Fault_ = simulator.Fault("unknown or finished token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	result := types.RetrieveResult{}
	if len(p.objects) > p.max {
		result.Objects = p.objects[:p.max:p.max]
		result.Token = pc.keep(p.objects[p.max:], p.max)
	} else {
		result.Objects = p.objects
	}
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: result}
	return body
}

func (pc *PropertyCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	body := &methods.CancelRetrievePropertiesExBody{}
	pc.pageMu.Lock()
	_, ok := pc.pages[r.Token]
	delete(pc.pages, r.Token)
	pc.pageMu.Unlock()
	if !ok {
		body.Fault_ = simulator.Fault("unknown or finished token", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	body.Res = &types.CancelRetrievePropertiesExResponse{}
	return body
}

// CreatePropertyCollector makes private collectors of this type too, so they page as well.
func (pc *PropertyCollector) CreatePropertyCollector(ctx *simulator.Context, c *types.CreatePropertyCollector) soap.HasFault {
	return &methods.CreatePropertyCollectorBody{
		Res: &types.CreatePropertyCollectorResponse{Returnval: ctx.Session.Put(&PropertyCollector{}).Reference()},
	}
}
