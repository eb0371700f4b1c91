package main

// PropertyCollector updates: CreateFilter + WaitForUpdatesEx as vCenter serves them.
//
// govmomi 0.24.2's WaitForUpdatesEx (simulator/property_collector.go) has three faults that matter
// here: a change reported under a parent name ("config", as ReconfigureDvs_Task makes it) never
// reaches a filter on a nested path ("config.vspanSession", "config.configVersion"), because it
// only matches a filter path that is a parent of the change; it registers the collector itself as
// the registry's change handler, keyed by its reference, and every session's default collector has
// the same reference ("propertyCollector"), so a second waiting session silently takes the first
// one's updates; and every version is "-". This file replaces WaitForUpdatesEx, WaitForUpdates,
// CheckForUpdates, CancelWaitForUpdates and DestroyPropertyCollector. CreateFilter and
// DestroyPropertyFilter stay govmomi's (the filters are its PropertyFilter objects).
//
// Each collector registers its own listener (a unique reference, in the session, so Logout removes
// it) that coalesces what changed per object. A wait reports, per filter: every object of the
// filter as "enter" the first time (or after version ""), "leave" when an object goes, and
// "modify" with the current value of every filter path touched by a change (the path itself, a
// parent of it or a child of it). Values are read with govmomi's RetrievePropertiesEx, so they are
// exactly what RetrieveProperties returns. See README.md, "Updates, vMotion, reconnect, events".

import (
	"context"
	"path"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// batchDelay lets the changes of one operation (a task's several updates) arrive in one reply.
const batchDelay = 20 * time.Millisecond

type liveUpdates struct {
	mu       sync.Mutex
	listener *changeListener
	version  int
	filters  map[types.ManagedObjectReference]*filterState
	cancel   context.CancelFunc
}

// filterState is what a filter has reported: its objects and, per object, the paths with a value.
type filterState struct {
	initialized bool
	objects     map[types.ManagedObjectReference]map[string]bool
}

type pendingChange struct {
	entered, left bool
	names         map[string]bool
}

// changeListener is a simulator.RegisterObject: the registry calls it on every Put, Update and
// Remove of a managed object, with that object locked, so it only records.
type changeListener struct {
	mo.PropertyFilter // a managed object type, so the session registry accepts it

	mu      sync.Mutex
	pending map[types.ManagedObjectReference]*pendingChange
	wake    chan struct{}
}

func (l *changeListener) note(ref types.ManagedObjectReference, f func(p *pendingChange)) {
	l.mu.Lock()
	p := l.pending[ref]
	if p == nil {
		p = &pendingChange{}
		l.pending[ref] = p
	}
	f(p)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *changeListener) PutObject(o mo.Reference) {
	l.note(o.Reference(), func(p *pendingChange) { p.entered = true; p.left = false })
}

func (l *changeListener) UpdateObject(o mo.Reference, changes []types.PropertyChange) {
	l.note(o.Reference(), func(p *pendingChange) {
		if p.names == nil {
			p.names = map[string]bool{}
		}
		for _, c := range changes {
			p.names[c.Name] = true
		}
	})
}

func (l *changeListener) RemoveObject(ref types.ManagedObjectReference) {
	l.note(ref, func(p *pendingChange) { p.left = true; p.entered = false })
}

func (l *changeListener) take() map[types.ManagedObjectReference]*pendingChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pending
	l.pending = map[types.ManagedObjectReference]*pendingChange{}
	return p
}

// moType is the vim25/mo type inside a registry object (our wrappers embed it first).
func moType(obj mo.Reference) reflect.Type {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	for t.Kind() == reflect.Struct && path.Base(t.PkgPath()) != "mo" && t.NumField() > 0 {
		t = t.Field(0).Type
		if t.Kind() == reflect.Ptr {
			t = t.Elem()
		}
	}
	return t
}

// specCovers reports whether one of the filter's property specs applies to objects of this type.
func specCovers(spec *types.PropertyFilterSpec, ref types.ManagedObjectReference) bool {
	var kind reflect.Type
	for _, p := range spec.PropSet {
		if p.Type == ref.Type {
			return true
		}
		if kind == nil {
			obj := simulator.Map.Get(ref)
			if obj == nil {
				return false
			}
			kind = moType(obj)
		}
		if kind.Name() == p.Type {
			return true
		}
		if f, ok := kind.FieldByName(p.Type); ok && f.Anonymous {
			return true
		}
	}
	return false
}

// touched is the filter paths a change of `names` affects for an object of this type: a path that
// is one of the names, a parent of one or a child of one. All=true gives "*".
func touched(spec *types.PropertyFilterSpec, ref types.ManagedObjectReference, names map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range spec.PropSet {
		if !specCovers(&types.PropertyFilterSpec{PropSet: []types.PropertySpec{p}}, ref) {
			continue
		}
		if p.All != nil && *p.All {
			return []string{"*"}
		}
		for _, pth := range p.PathSet {
			if seen[pth] {
				continue
			}
			for n := range names {
				if n == pth || strings.HasPrefix(n, pth+".") || strings.HasPrefix(pth, n+".") {
					seen[pth] = true
					out = append(out, pth)
					break
				}
			}
		}
	}
	return out
}

// traversalPaths are the property names the filter's selection walks through.
func traversalPaths(spec *types.PropertyFilterSpec) map[string]bool {
	out := map[string]bool{}
	var walk func([]types.BaseSelectionSpec)
	walk = func(set []types.BaseSelectionSpec) {
		for _, s := range set {
			if ts, ok := s.(*types.TraversalSpec); ok && !out[ts.Path] {
				out[ts.Path] = true
				walk(ts.SelectSet)
			}
		}
	}
	for _, o := range spec.ObjectSet {
		walk(o.SelectSet)
	}
	return out
}

func (pc *PropertyCollector) retrieve(ctx *simulator.Context, spec types.PropertyFilterSpec) ([]types.ObjectContent, *soap.Fault) {
	spec.ReportMissingObjectsInResults = types.NewBool(true)
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, &types.RetrievePropertiesEx{SpecSet: []types.PropertyFilterSpec{spec}})
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Fault_ != nil {
		return nil, res.Fault()
	}
	if body.Res == nil || body.Res.Returnval == nil {
		return nil, nil
	}
	return body.Res.Returnval.Objects, nil
}

// selectObjects is the set of objects the filter covers now.
func (pc *PropertyCollector) selectObjects(ctx *simulator.Context, spec types.PropertyFilterSpec) (map[types.ManagedObjectReference]bool, *soap.Fault) {
	bare := spec
	bare.PropSet = make([]types.PropertySpec, len(spec.PropSet))
	for i, p := range spec.PropSet {
		bare.PropSet[i] = types.PropertySpec{Type: p.Type}
	}
	objects, f := pc.retrieve(ctx, bare)
	if f != nil {
		return nil, f
	}
	out := map[types.ManagedObjectReference]bool{}
	for _, o := range objects {
		out[o.Obj] = true
	}
	return out, nil
}

// fetch reads the given paths (nil = the filter's own) of some objects, without traversal.
func (pc *PropertyCollector) fetch(ctx *simulator.Context, spec *types.PropertyFilterSpec, refs []types.ManagedObjectReference, paths []string) ([]types.ObjectContent, *soap.Fault) {
	if len(refs) == 0 {
		return nil, nil
	}
	s := types.PropertyFilterSpec{}
	for _, r := range refs {
		s.ObjectSet = append(s.ObjectSet, types.ObjectSpec{Obj: r})
	}
	for _, p := range spec.PropSet {
		q := p
		if paths != nil && !(len(paths) == 1 && paths[0] == "*") {
			q.All = nil
			q.PathSet = nil
			for _, pth := range p.PathSet {
				for _, want := range paths {
					if pth == want {
						q.PathSet = append(q.PathSet, pth)
					}
				}
			}
		}
		s.PropSet = append(s.PropSet, q)
	}
	return pc.retrieve(ctx, s)
}

func changeSet(o types.ObjectContent) ([]types.PropertyChange, map[string]bool) {
	var cs []types.PropertyChange
	have := map[string]bool{}
	for _, p := range o.PropSet {
		cs = append(cs, types.PropertyChange{Name: p.Name, Op: types.PropertyChangeOpAssign, Val: p.Val})
		have[p.Name] = true
	}
	return cs, have
}

// compute builds the update set since the last call; changes is what the listener recorded.
func (pc *PropertyCollector) compute(ctx *simulator.Context, changes map[types.ManagedObjectReference]*pendingChange) (*types.UpdateSet, *soap.Fault) {
	u := &pc.live
	set := &types.UpdateSet{}
	live := map[types.ManagedObjectReference]bool{}
	for _, ref := range pc.Filter {
		live[ref] = true
		obj := ctx.Session.Get(ref)
		filter, ok := obj.(*simulator.PropertyFilter)
		if !ok {
			continue
		}
		spec := filter.Spec
		st := u.filters[ref]
		if st == nil {
			st = &filterState{}
			u.filters[ref] = st
		}
		fu := types.PropertyFilterUpdate{Filter: ref}
		if !st.initialized {
			objects, f := pc.retrieve(ctx, spec)
			if f != nil {
				return nil, f
			}
			st.objects = map[types.ManagedObjectReference]map[string]bool{}
			for _, o := range objects {
				cs, have := changeSet(o)
				st.objects[o.Obj] = have
				fu.ObjectSet = append(fu.ObjectSet, types.ObjectUpdate{
					Kind: types.ObjectUpdateKindEnter, Obj: o.Obj, ChangeSet: cs, MissingSet: o.MissingSet,
				})
			}
			st.initialized = true
		} else {
			reselect := false
			via := traversalPaths(&spec)
			for ref, p := range changes {
				_, member := st.objects[ref]
				switch {
				case p.left && member:
					delete(st.objects, ref)
					fu.ObjectSet = append(fu.ObjectSet, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
				case p.entered && !member && specCovers(&spec, ref):
					reselect = true
				case !member:
					for n := range p.names {
						if via[strings.SplitN(n, ".", 2)[0]] || via[n] {
							reselect = true
						}
					}
				}
			}
			entered := map[types.ManagedObjectReference]bool{}
			if reselect {
				now, f := pc.selectObjects(ctx, spec)
				if f != nil {
					return nil, f
				}
				var refs []types.ManagedObjectReference
				for ref := range now {
					if _, ok := st.objects[ref]; !ok {
						refs = append(refs, ref)
					}
				}
				for ref := range st.objects {
					if !now[ref] {
						delete(st.objects, ref)
						fu.ObjectSet = append(fu.ObjectSet, types.ObjectUpdate{Kind: types.ObjectUpdateKindLeave, Obj: ref})
					}
				}
				objects, f := pc.fetch(ctx, &spec, refs, nil)
				if f != nil {
					return nil, f
				}
				for _, o := range objects {
					cs, have := changeSet(o)
					st.objects[o.Obj] = have
					entered[o.Obj] = true
					fu.ObjectSet = append(fu.ObjectSet, types.ObjectUpdate{
						Kind: types.ObjectUpdateKindEnter, Obj: o.Obj, ChangeSet: cs, MissingSet: o.MissingSet,
					})
				}
			}
			for ref, p := range changes {
				had, member := st.objects[ref]
				if !member || entered[ref] || p.left || len(p.names) == 0 {
					continue
				}
				paths := touched(&spec, ref, p.names)
				if len(paths) == 0 {
					continue
				}
				objects, f := pc.fetch(ctx, &spec, []types.ManagedObjectReference{ref}, paths)
				if f != nil {
					return nil, f
				}
				ou := types.ObjectUpdate{Kind: types.ObjectUpdateKindModify, Obj: ref}
				have := map[string]bool{}
				for _, o := range objects {
					cs, got := changeSet(o)
					ou.ChangeSet = append(ou.ChangeSet, cs...)
					ou.MissingSet = append(ou.MissingSet, o.MissingSet...)
					for k := range got {
						have[k] = true
					}
				}
				if paths[0] != "*" {
					for _, pth := range paths {
						if !have[pth] && had[pth] {
							// The value went away (unset): assigned nothing.
							ou.ChangeSet = append(ou.ChangeSet, types.PropertyChange{Name: pth, Op: types.PropertyChangeOpAssign})
						}
						if have[pth] {
							had[pth] = true
						} else {
							delete(had, pth)
						}
					}
				}
				if len(ou.ChangeSet) > 0 || len(ou.MissingSet) > 0 {
					fu.ObjectSet = append(fu.ObjectSet, ou)
				}
			}
		}
		if len(fu.ObjectSet) > 0 {
			set.FilterSet = append(set.FilterSet, fu)
		}
	}
	for ref := range u.filters {
		if !live[ref] {
			delete(u.filters, ref) // destroyed filter
		}
	}
	return set, nil
}

// waitForUpdates is WaitForUpdatesEx: maxWait < 0 waits until there is something.
func (pc *PropertyCollector) waitForUpdates(ctx *simulator.Context, version string, maxWait time.Duration) (*types.UpdateSet, *soap.Fault) {
	u := &pc.live
	u.mu.Lock()
	if u.listener == nil {
		l := &changeListener{pending: map[types.ManagedObjectReference]*pendingChange{}, wake: make(chan struct{}, 1)}
		ctx.Session.Put(l) // a session object: Logout removes it from the registry's handlers
		simulator.Map.AddHandler(l)
		u.listener = l
		u.filters = map[types.ManagedObjectReference]*filterState{}
	}
	if version == "" {
		for _, st := range u.filters {
			st.initialized = false
		}
	} else if version != strconv.Itoa(u.version) {
		current := u.version
		u.mu.Unlock()
		return nil, simulator.Fault("version "+strconv.Quote(version)+" is not this collector's latest ("+strconv.Itoa(current)+")",
			&types.InvalidCollectorVersion{})
	}
	if u.cancel != nil {
		u.cancel() // a new wait replaces a pending one
	}
	wait, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	l := u.listener
	u.mu.Unlock()
	defer cancel()

	var deadline <-chan time.Time
	if maxWait > 0 {
		t := time.NewTimer(maxWait)
		defer t.Stop()
		deadline = t.C
	}
	first := true
	for {
		u.mu.Lock()
		set, f := pc.compute(ctx, l.take())
		if f == nil && (len(set.FilterSet) > 0 || (first && version == "")) {
			u.version++
			set.Version = strconv.Itoa(u.version)
			u.mu.Unlock()
			return set, nil
		}
		u.mu.Unlock()
		if f != nil {
			return nil, f
		}
		first = false
		if maxWait == 0 {
			return nil, nil
		}
		select {
		case <-l.wake:
			time.Sleep(batchDelay)
		case <-deadline:
			return nil, nil // maxWaitSeconds passed: no update set
		case <-wait.Done():
			return nil, simulator.Fault("CancelWaitForUpdates", &types.RequestCanceled{})
		}
	}
}

func maxWaitOf(o *types.WaitOptions) time.Duration {
	if o == nil || o.MaxWaitSeconds == nil {
		return -1
	}
	if *o.MaxWaitSeconds <= 0 {
		return 0
	}
	return time.Duration(*o.MaxWaitSeconds) * time.Second
}

func (pc *PropertyCollector) WaitForUpdatesEx(ctx *simulator.Context, r *types.WaitForUpdatesEx) soap.HasFault {
	body := &methods.WaitForUpdatesExBody{}
	set, f := pc.waitForUpdates(ctx, r.Version, maxWaitOf(r.Options))
	if f != nil {
		body.Fault_ = f
		return body
	}
	body.Res = &types.WaitForUpdatesExResponse{Returnval: set}
	return body
}

// WaitForUpdates (deprecated) waits without a bound and always returns an update set.
func (pc *PropertyCollector) WaitForUpdates(ctx *simulator.Context, r *types.WaitForUpdates) soap.HasFault {
	body := &methods.WaitForUpdatesBody{}
	set, f := pc.waitForUpdates(ctx, r.Version, -1)
	if f != nil {
		body.Fault_ = f
		return body
	}
	body.Res = &types.WaitForUpdatesResponse{Returnval: *set}
	return body
}

// CheckForUpdates (deprecated) returns at once: an update set, or none when nothing changed.
func (pc *PropertyCollector) CheckForUpdates(ctx *simulator.Context, r *types.CheckForUpdates) soap.HasFault {
	body := &methods.CheckForUpdatesBody{}
	set, f := pc.waitForUpdates(ctx, r.Version, 0)
	if f != nil {
		body.Fault_ = f
		return body
	}
	body.Res = &types.CheckForUpdatesResponse{Returnval: set}
	return body
}

func (pc *PropertyCollector) CancelWaitForUpdates(ctx *simulator.Context, r *types.CancelWaitForUpdates) soap.HasFault {
	u := &pc.live
	u.mu.Lock()
	if u.cancel != nil {
		u.cancel()
	}
	u.mu.Unlock()
	return &methods.CancelWaitForUpdatesBody{Res: new(types.CancelWaitForUpdatesResponse)}
}

func (pc *PropertyCollector) DestroyPropertyCollector(ctx *simulator.Context, r *types.DestroyPropertyCollector) soap.HasFault {
	u := &pc.live
	u.mu.Lock()
	if u.cancel != nil {
		u.cancel()
	}
	if u.listener != nil {
		simulator.Map.RemoveHandler(u.listener)
		ctx.Session.Remove(u.listener.Self)
		u.listener = nil
	}
	u.mu.Unlock()
	return pc.PropertyCollector.DestroyPropertyCollector(ctx, r)
}
