package main

// Realistic device lists: a real VM has a dozen devices besides (and before) its NICs, and a
// load that reads config.hardware.device reads them all (the PropertyCollector cannot filter
// devices by type). With -devices N each VM gets N devices in all, its NICs included: first
// the default set govmomi's stock vcsim gives every VM (esx.VirtualDevice: IDE 0 and 1, PS/2,
// PCI and SIO controllers, keyboard, pointing device, video card, VMCI), then what stock
// vcsim's model adds (a paravirtual SCSI controller, a disk on it, a CD-ROM on IDE 0), then a
// floppy and more disks. Without the flag (0) VMs carry only their NICs, as before.

import (
	"fmt"

	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/types"
)

// extraDevices is -devices: devices per VM, NICs included (0: NICs only).
var extraDevices int

func i32p(v int32) *int32 { return &v }

// otherDevices is the n devices that are not NICs of the VM called name, in the order above.
// The stock defaults are shared (nothing here changes them); disks and the CD-ROM name the VM.
func otherDevices(name string, n int) []types.BaseVirtualDevice {
	out := make([]types.BaseVirtualDevice, 0, n)
	for _, d := range esx.VirtualDevice {
		if len(out) == n {
			return out
		}
		out = append(out, d)
	}
	disk := func(i int) types.BaseVirtualDevice {
		file := fmt.Sprintf("[datastore1] %s/%s.vmdk", name, name)
		if i > 0 {
			file = fmt.Sprintf("[datastore1] %s/%s_%d.vmdk", name, name, i)
		}
		unit := int32(i)
		if unit >= 7 { // unit 7 is the SCSI controller's own
			unit++
		}
		return &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{
				Key:        int32(2000 + i),
				DeviceInfo: &types.Description{Label: fmt.Sprintf("Hard disk %d", i+1), Summary: "16,777,216 KB"},
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{
						FileName:  file,
						Datastore: &types.ManagedObjectReference{Type: "Datastore", Value: "datastore-1"},
					},
					DiskMode:        string(types.VirtualDiskModePersistent),
					ThinProvisioned: bp(true),
					Uuid:            stableUUID("disk:" + file),
				},
				ControllerKey: 1000,
				UnitNumber:    &unit,
			},
			CapacityInKB:    16 * 1024 * 1024,
			CapacityInBytes: 16 * 1024 * 1024 * 1024,
		}
	}
	rest := []func() types.BaseVirtualDevice{
		func() types.BaseVirtualDevice {
			return &types.ParaVirtualSCSIController{VirtualSCSIController: types.VirtualSCSIController{
				VirtualController: types.VirtualController{
					VirtualDevice: types.VirtualDevice{
						Key:           1000,
						DeviceInfo:    &types.Description{Label: "SCSI controller 0", Summary: "VMware paravirtual SCSI"},
						ControllerKey: 100,
						UnitNumber:    i32p(3),
					},
					BusNumber: 0,
					Device:    []int32{2000},
				},
				HotAddRemove:       bp(true),
				SharedBus:          types.VirtualSCSISharingNoSharing,
				ScsiCtlrUnitNumber: 7,
			}}
		},
		func() types.BaseVirtualDevice { return disk(0) },
		func() types.BaseVirtualDevice {
			return &types.VirtualCdrom{VirtualDevice: types.VirtualDevice{
				Key:        3000,
				DeviceInfo: &types.Description{Label: "CD/DVD drive 1", Summary: "Remote device"},
				Backing: &types.VirtualCdromRemotePassthroughBackingInfo{
					VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{},
				},
				Connectable:   &types.VirtualDeviceConnectInfo{AllowGuestControl: true, Status: "untried"},
				ControllerKey: 200,
				UnitNumber:    i32p(0),
			}}
		},
		func() types.BaseVirtualDevice {
			return &types.VirtualFloppy{VirtualDevice: types.VirtualDevice{
				Key:        8000,
				DeviceInfo: &types.Description{Label: "Floppy drive 1", Summary: "Remote"},
				Backing: &types.VirtualFloppyRemoteDeviceBackingInfo{
					VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{},
				},
				Connectable:   &types.VirtualDeviceConnectInfo{AllowGuestControl: true, Status: "untried"},
				ControllerKey: 400,
				UnitNumber:    i32p(0),
			}}
		},
	}
	for _, next := range rest {
		if len(out) == n {
			return out
		}
		out = append(out, next())
	}
	for i := 1; len(out) < n && i < 60; i++ {
		out = append(out, disk(i))
	}
	return out
}
