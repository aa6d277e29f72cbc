using VirtTools.Diagnostics;
using VirtTools.Pci;
using VirtTools.Sysfs;
using Xunit;
using Double = VirtTools.Tests.KernelDouble.KernelDouble;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>
/// Set/Remove-PciPassthrough's engine on the captured tree with the kernel double: 00:01.0 xHCI (group 1),
/// 00:02.0 e1000 already on vfio-pci (group 2), 00:03.0 virtio disk vda (group 3), 00:1f.x unbound (group 4).
/// </summary>
public sealed class PciPassthroughTests : IDisposable
{
    private const string Xhci = "0000:00:01.0";
    private const string E1000 = "0000:00:02.0";
    private const string Disk = "0000:00:03.0";
    private const string Sata = "0000:00:1f.2";
    private const string Smbus = "0000:00:1f.3";
    private readonly Double _kernel = Double.OnCapturedFixture();

    private PassthroughApplier Applier => new(_kernel.Root) { BindTimeout = TimeSpan.FromMilliseconds(300) };

    private PassthroughPlan PlanSet(string address, string driver = "vfio-pci", bool includeIommuGroup = false, bool persist = false, bool force = false) =>
        new PassthroughPlanner(_kernel.Root).PlanSet(PciAddress.Parse(address), driver, includeIommuGroup, persist, force);

    private PassthroughPlan PlanRemove(string address, bool persist = false, bool force = false) =>
        new PassthroughPlanner(_kernel.Root).PlanRemove(PciAddress.Parse(address), persist, force);

    private void Set(string address, bool include = false, bool persist = false, bool force = false, string driver = "vfio-pci") =>
        Applier.Apply(PlanSet(address, driver, include, persist, force));

    private void Remove(string address, bool persist = false, bool force = false) =>
        Applier.Apply(PlanRemove(address, persist, force));

    private string Refusal(Action action) => Assert.Throws<VirtToolsException>(action).ErrorId;

    /// <summary>Puts 1f.3 on a host driver, so group 4 stops being viable.</summary>
    private void BindSmbusToHostDriver() => _kernel.Pci.AddDriver("i801_smbus", "8086:2930").Bind(Smbus, "i801_smbus");

    [Fact]
    public void Set_hands_the_function_to_vfio_pci_through_driver_override_unbind_and_drivers_probe()
    {
        Set(Xhci);
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(Xhci));
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOverrideOf(Xhci));
        Assert.True(_kernel.Pci.VfioGroupNodeExists(1));
        Assert.Equal(new[] { $"/sys/bus/pci/devices/{Xhci}/driver_override", "/sys/bus/pci/drivers/xhci_hcd/unbind", "/sys/bus/pci/drivers_probe" },
            _kernel.Writes.Select(w => w.SystemPath));
    }

    [Fact]
    public void Set_remembers_the_original_driver_in_the_state_file()
    {
        Set(Xhci);
        var record = new PassthroughStateStore(_kernel.Root).Find(Xhci);
        Assert.Equal("xhci_hcd", record?.OriginalDriver);
        Assert.Equal("1b36", record?.VendorId);
    }

    [Fact]
    public void The_planner_only_reads_however_much_its_plan_would_change()
    {
        BindSmbusToHostDriver();
        var writesBefore = _kernel.Writes.Count;
        var set = PlanSet(Sata, includeIommuGroup: true, persist: true);
        var remove = PlanRemove(E1000, persist: true, force: true);
        Assert.Equal(new[] { Smbus, Sata }, set.Moves.Select(m => m.Address.ToString()));
        Assert.Single(remove.Moves);
        Assert.NotEmpty(set.ModprobeFiles);
        Assert.Equal(writesBefore, _kernel.Writes.Count);
        Assert.False(File.Exists(_kernel.Tree.Resolve(PassthroughStateStore.SystemPath)));
        Assert.False(File.Exists(_kernel.Tree.Resolve(ModprobePersistence.FilePath("vfio-pci"))));
        Assert.Equal("i801_smbus", _kernel.Pci.DriverOf(Smbus));
    }

    [Fact]
    public void Set_of_a_function_already_on_vfio_pci_changes_nothing()
    {
        var plan = PlanSet(E1000);
        Assert.True(plan.ChangesNothing);
        Applier.Apply(plan);
        Assert.Empty(_kernel.Writes);
    }

    [Fact]
    public void Set_of_a_function_bound_to_vfio_pci_without_driver_override_only_pins_it()
    {
        using var kernel = Double.OnEmptyTree();
        kernel.Pci.AddDriver("vfio-pci").AddFunction("0000:05:00.0", "8086", "10d3", 0x020000, iommuGroup: 7, driver: "vfio-pci");
        Assert.Null(kernel.Pci.DriverOverrideOf("0000:05:00.0")); // bound as vfio-pci ids= binds: a reprobe could lose it
        new PassthroughApplier(kernel.Root).Apply(new PassthroughPlanner(kernel.Root).PlanSet(PciAddress.Parse("0000:05:00.0")));
        Assert.Equal("vfio-pci", kernel.Pci.DriverOverrideOf("0000:05:00.0"));
        Assert.Equal(new[] { "/sys/bus/pci/devices/0000:05:00.0/driver_override" }, kernel.Writes.Select(w => w.SystemPath));
    }

    [Fact]
    public void Planning_writes_nothing() 
    {
        var plan = PlanSet(Xhci, persist: true);
        Assert.Contains($"  write 'vfio-pci' to /sys/bus/pci/devices/{Xhci}/driver_override", plan.Describe());
        Assert.Contains("  options vfio-pci ids=1b36:000d", plan.Describe());
        Assert.Empty(_kernel.Writes);
        Assert.False(File.Exists(_kernel.Tree.Resolve(PassthroughStateStore.SystemPath)));
    }

    [Fact]
    public void A_missing_function_is_PciDeviceNotFound() =>
        Assert.Equal("PciDeviceNotFound", Refusal(() => PlanSet("00:09.0")));

    [Fact]
    public void A_function_without_an_iommu_group_is_IommuNotEnabled_with_the_kernel_option_for_this_cpu()
    {
        _kernel.Pci.AddFunction("0000:00:05.0", "8086", "10d3", 0x020000, iommuGroup: null, driver: "e1000e");
        _kernel.Tree.File("/proc/cpuinfo", "vendor_id\t: GenuineIntel");
        var error = Assert.Throws<VirtToolsException>(() => PlanSet("0000:00:05.0"));
        Assert.Equal("IommuNotEnabled", error.ErrorId);
        Assert.Contains("intel_iommu=on", error.RecommendedAction);
    }

    [Fact]
    public void A_stub_driver_that_is_not_loaded_is_DriverNotLoaded_with_the_modprobe_to_run()
    {
        var error = Assert.Throws<VirtToolsException>(() => PlanSet(Xhci, "pci-stub"));
        Assert.Equal("DriverNotLoaded", error.ErrorId);
        Assert.Contains("modprobe pci-stub", error.RecommendedAction);
    }

    [Fact]
    public void A_group_member_on_a_host_driver_is_IommuGroupNotViable()
    {
        BindSmbusToHostDriver();
        var error = Assert.Throws<VirtToolsException>(() => PlanSet(Sata));
        Assert.Equal("IommuGroupNotViable", error.ErrorId);
        Assert.Contains(Smbus, error.Message);
    }

    [Fact]
    public void IncludeIommuGroup_moves_the_blocking_members_too_and_leaves_unbound_ones()
    {
        BindSmbusToHostDriver();
        Set(Sata, include: true);
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(Sata));
        Assert.Equal("vfio-pci", _kernel.Pci.DriverOf(Smbus));
        Assert.Null(_kernel.Pci.DriverOf("0000:00:1f.0"));
        Assert.Equal("i801_smbus", new PassthroughStateStore(_kernel.Root).Find(Smbus)?.OriginalDriver);
    }

    [Fact]
    public void IncludeIommuGroup_refuses_a_group_whose_ISA_bridge_is_on_its_driver_and_moves_nothing()
    {
        _kernel.Pci.AddDriver("lpc_ich", "8086:2918").Bind("0000:00:1f.0", "lpc_ich");
        var error = Assert.Throws<VirtToolsException>(() => Set(Sata, include: true));
        Assert.Equal("PciBridgeNotPassable", error.ErrorId);
        Assert.Equal("0000:00:1f.0", error.Target);
        Assert.Equal("lpc_ich", _kernel.Pci.DriverOf("0000:00:1f.0"));
        Assert.Null(_kernel.Pci.DriverOf(Sata));
    }

    [Fact]
    public void A_function_backing_a_mounted_filesystem_is_refused_without_Force()
    {
        _kernel.Tree.File("/proc/self/mountinfo", "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw");
        Assert.Equal("PassthroughInterlockMountedFilesystem", Refusal(() => PlanSet(Disk)));
        Assert.Contains(PlanSet(Disk, force: true).Warnings, w => w.Contains("mounted", StringComparison.Ordinal));
    }

    [Fact]
    public void A_function_holding_an_active_swap_area_is_refused_without_Force()
    {
        _kernel.Tree.File("/proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw");
        _kernel.Tree.File("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vda                                partition\t1048572\t\t0\t\t-2");
        var error = Assert.Throws<VirtToolsException>(() => PlanSet(Disk));
        Assert.Equal("PassthroughInterlockMountedFilesystem", error.ErrorId);
        Assert.Contains("swap on /dev/vda", error.Message);
    }

    [Fact]
    public void A_swap_file_on_another_disk_does_not_hold_the_function()
    {
        _kernel.Tree.File("/proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw");
        _kernel.Tree.File("/proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t1048572\t\t0\t\t-2");
        Assert.DoesNotContain(PlanSet(Disk).Warnings, w => w.Contains("swap", StringComparison.Ordinal));
    }

    [Fact]
    public void A_group_member_that_is_no_PCI_function_on_a_host_driver_is_refused_even_with_the_group()
    {
        // A platform device in the virtio disk's group, bound to a host driver: Get-IommuGroup and Set-PciPassthrough agree.
        _kernel.Tree.Directory("/sys/devices/platform/soc-dma.0").Directory("/sys/bus/platform/drivers/soc-dma")
            .Link("/sys/devices/platform/soc-dma.0/driver", "../../../bus/platform/drivers/soc-dma")
            .Link("/sys/kernel/iommu_groups/3/devices/soc-dma.0", "../../../../devices/platform/soc-dma.0");
        var refused = Assert.Throws<VirtTools.Diagnostics.VirtToolsException>(() => PlanSet(Disk, includeIommuGroup: true, force: true));
        Assert.Equal("IommuGroupNotViable", refused.ErrorId);
        Assert.Contains("soc-dma.0 (not a PCI function) is bound to soc-dma", refused.Message);
        var group = new IommuGroupReader(_kernel.Root).Find(3)!;
        Assert.False(group.IsViable);
        Assert.Contains(group.Problems, p => p.Contains("soc-dma.0 (not a PCI function)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0000:00:00.0", "a host bridge")]
    [InlineData("0000:00:1f.0", "an ISA bridge")]
    public void A_host_or_ISA_bridge_is_refused_up_front_even_with_Force(string address, string kind)
    {
        var refused = Assert.Throws<VirtTools.Diagnostics.VirtToolsException>(() => PlanSet(address, force: true));
        Assert.Equal(PciErrors.BridgeNotPassableId, refused.ErrorId);
        Assert.Contains(kind, refused.Message);
    }

    [Fact]
    public void A_shared_INTx_line_the_function_cannot_avoid_is_a_warning_not_a_refusal()
    {
        BindSmbusToHostDriver();
        var plan = PlanSet(Sata, includeIommuGroup: true);
        var line = new PciIrqShareReader(_kernel.Root).GetLines().Single(l => l.Irq == 10);
        Assert.True(line.Blocks, line.Reason);
        Assert.Contains(line.Reason, plan.Warnings);
        Assert.False(plan.ChangesNothing);
    }

    [Fact]
    public void A_shared_INTx_line_that_blocks_nothing_gives_no_warning() =>
        Assert.DoesNotContain(PlanSet(Sata).Warnings, w => w.StartsWith("IRQ", StringComparison.Ordinal));

    [Fact]
    public void A_function_carrying_the_default_route_is_refused_without_Force()
    {
        _kernel.Tree.Directory($"/sys/devices/pci0000:00/{Xhci}/net/enp0s1");
        _kernel.Tree.File("/proc/net/route",
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nenp0s1\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0");
        Assert.Equal("PassthroughInterlockDefaultRoute", Refusal(() => PlanSet(Xhci)));
    }

    [Fact]
    public void The_boot_VGA_device_is_refused_without_Force()
    {
        _kernel.Tree.File($"/sys/devices/pci0000:00/{Xhci}/boot_vga", "1");
        Assert.Equal("PassthroughInterlockBootVga", Refusal(() => PlanSet(Xhci)));
    }

    public static TheoryData<string> EachStep() => new()
    {
        $"/sys/bus/pci/devices/{Xhci}/driver_override",
        "/sys/bus/pci/drivers/xhci_hcd/unbind",
        "/sys/bus/pci/drivers_probe",
    };

    [Theory]
    [MemberData(nameof(EachStep))]
    public void A_failure_at_any_write_rolls_the_function_back_to_its_original_driver(string failingPath)
    {
        _kernel.FailWrite(failingPath, KernelErrno.EIO);
        var error = Assert.Throws<VirtToolsException>(() => Set(Xhci));
        Assert.Equal("BindFailed", error.ErrorId);
        Assert.Contains("Rolled back", error.Message);
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf(Xhci));
        Assert.Null(_kernel.Pci.DriverOverrideOf(Xhci));
        Assert.Null(new PassthroughStateStore(_kernel.Root).Find(Xhci));
    }

    [Fact]
    public async Task A_bind_that_fails_quotes_the_lines_the_kernel_logged_about_the_function_meanwhile()
    {
        var kmsg = _kernel.Tree.Resolve("/dev/kmsg");
        _kernel.Tree.File("/dev/kmsg", "6,1,0,-;xhci_hcd 0000:00:01.0: logged before the move\n");
        _kernel.Pci.DeferProbe(Xhci);
        // The kernel's line is written while the probe is pending, as a driver's failing probe writes it.
        var driverSpeaks = Task.Run(() =>
        {
            if (!_kernel.Pci.WaitForDeferredProbe(TimeSpan.FromSeconds(30))) return;
            File.AppendAllText(kmsg, "3,2,5,-;vfio-pci: probe of 0000:00:01.0 failed with error -22\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:01.0\n" +
                                     "6,3,6,-;e1000 0000:00:02.0: not about it\n");
        });
        var applier = new PassthroughApplier(_kernel.Root) { BindTimeout = TimeSpan.FromSeconds(5) };
        var error = Assert.Throws<VirtToolsException>(() => applier.Apply(PlanSet(Xhci)));
        await driverSpeaks.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("BindFailed", error.ErrorId);
        Assert.Contains("The kernel said: vfio-pci: probe of 0000:00:01.0 failed with error -22.", error.Message);
        Assert.DoesNotContain("logged before the move", error.Message);
        Assert.DoesNotContain("not about it", error.Message);
    }

    [Fact]
    public void A_probe_that_binds_nothing_is_caught_by_the_wait_and_rolled_back()
    {
        _kernel.Pci.FailProbe("vfio-pci", KernelErrno.EINVAL);
        var error = Assert.Throws<VirtToolsException>(() => Set(Xhci));
        Assert.Equal("BindFailed", error.ErrorId);
        Assert.Contains("bound to no driver", error.Message);
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf(Xhci));
    }

    [Fact]
    public void A_failure_on_the_requested_function_rolls_back_the_group_members_moved_before_it()
    {
        BindSmbusToHostDriver();
        _kernel.FailWrite("/sys/bus/pci/drivers_probe", KernelErrno.ENOMEM, nth: 2); // 1f.3 first, then 1f.2
        Assert.Throws<VirtToolsException>(() => Set(Sata, include: true));
        Assert.Equal("i801_smbus", _kernel.Pci.DriverOf(Smbus));
        Assert.Null(_kernel.Pci.DriverOf(Sata));
        Assert.Null(_kernel.Pci.DriverOverrideOf(Smbus));
        Assert.Null(_kernel.Pci.DriverOverrideOf(Sata));
    }

    [Fact]
    public void A_permission_refusal_is_PermissionDenied_and_still_rolled_back()
    {
        _kernel.FailWrite("/sys/bus/pci/drivers/xhci_hcd/unbind", KernelErrno.EACCES);
        Assert.Equal("PermissionDenied", Refusal(() => Set(Xhci)));
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf(Xhci));
    }

    [Fact]
    public void Remove_from_a_new_engine_binds_the_remembered_driver_back()
    {
        Set(Xhci);
        Remove(Xhci);
        Assert.Equal("xhci_hcd", _kernel.Pci.DriverOf(Xhci));
        Assert.Null(_kernel.Pci.DriverOverrideOf(Xhci));
        Assert.Contains(_kernel.Writes, w => w.SystemPath == "/sys/bus/pci/drivers/xhci_hcd/bind");
        Assert.Null(new PassthroughStateStore(_kernel.Root).Find(Xhci));
    }

    [Fact]
    public void Remove_without_a_record_reprobes_and_the_id_table_brings_the_host_driver_back()
    {
        Remove(E1000);
        Assert.Equal("e1000", _kernel.Pci.DriverOf(E1000));
        Assert.False(_kernel.Pci.VfioGroupNodeExists(2));
    }

    [Fact]
    public void Remove_refuses_while_a_process_holds_the_vfio_group_and_names_it()
    {
        _kernel.Tree.File("/proc/4242/comm", "qemu-system-x86").Link("/proc/4242/fd/17", "/dev/vfio/2");
        var error = Assert.Throws<VirtToolsException>(() => PlanRemove(E1000));
        Assert.Equal("PciDeviceInUse", error.ErrorId);
        Assert.Contains("qemu-system-x86 (pid 4242)", error.Message);
        Remove(E1000, force: true);
        Assert.Equal("e1000", _kernel.Pci.DriverOf(E1000));
    }

    [Fact]
    public void Persist_writes_the_modprobe_file_and_Remove_Persist_deletes_it_exactly()
    {
        Set(Xhci, persist: true);
        var path = _kernel.Tree.Resolve(ModprobePersistence.FilePath("vfio-pci"));
        var lines = File.ReadAllLines(path);
        Assert.Contains("options vfio-pci ids=1b36:000d", lines);
        Assert.Contains("softdep xhci_hcd pre: vfio-pci", lines);
        Remove(Xhci, persist: true);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(_kernel.Tree.Resolve(PassthroughStateStore.SystemPath)));
    }

    [Fact]
    public void Remove_Persist_of_one_function_keeps_the_lines_of_the_others()
    {
        Set(Xhci, persist: true);
        Set(Disk, persist: true, force: true);
        Remove(Xhci, persist: true);
        var lines = File.ReadAllLines(_kernel.Tree.Resolve(ModprobePersistence.FilePath("vfio-pci")));
        Assert.Contains("options vfio-pci ids=1af4:1001", lines);
        Assert.DoesNotContain(lines, l => l.Contains("xhci_hcd", StringComparison.Ordinal));
    }

    [Fact]
    public void The_state_file_round_trips_every_field()
    {
        var store = new PassthroughStateStore(_kernel.Root);
        var record = new PassthroughRecord { Address = Xhci, Driver = "vfio-pci", OriginalDriver = "xhci_hcd", VendorId = "1b36", DeviceId = "000d", Persisted = true };
        store.Commit(new[] { record }, Array.Empty<string>(), Array.Empty<string>());
        Assert.Equal(record, new PassthroughStateStore(new SystemRoot(_kernel.RootPath)).Find(Xhci));
    }

    [Fact]
    public void A_corrupt_state_file_is_PassthroughStateCorrupt()
    {
        _kernel.Tree.File(PassthroughStateStore.SystemPath, "{ not json");
        Assert.Equal("PassthroughStateCorrupt", Refusal(() => new PassthroughStateStore(_kernel.Root).Load()));
    }

    public void Dispose() => _kernel.Dispose();
}
